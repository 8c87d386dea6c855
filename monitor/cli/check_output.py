"""Match results for people and programs: DESIGN.md's JSON object, and the `monitor check` table."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import click

from monitor.matching.evidence import Evidence
from monitor.matching.model import BaselineClaimRef, MatchResult

_VERDICT_COLOURS = {"repeated": "green", "updated": "yellow", "contradicted": "red", "none": "bright_black"}


def _baseline_json(ref: BaselineClaimRef) -> dict[str, Any]:
    return {
        "claim_id": ref.claim_id,
        "claim": ref.text,
        "article": ref.article,
        "published": ref.published.isoformat() if ref.published else None,
        "external_id": ref.external_id,
    }


def result_to_json(result: MatchResult, *, top_k: int = 0) -> dict[str, Any]:
    """The `monitor check --json` object for one result; with `top_k` > 0, also its best candidates."""
    data: dict[str, Any] = {
        "text": result.text,
        "verdict": result.verdict,
        "score": round(result.score, 1),
        "baseline": _baseline_json(result.baseline) if result.baseline else None,
        "evidence": result.evidence,
    }
    if top_k > 0:
        data["candidates"] = [
            {
                "claim_id": candidate.ref.claim_id,
                "external_id": candidate.ref.external_id,
                "claim": candidate.ref.text,
                "score": round(candidate.score, 1),
            }
            for candidate in result.candidates[:top_k]
        ]
    return data


def _highlight(text: str, phrases: Iterable[str], *, color: bool, fg: str) -> str:
    """Mark each phrase in text (case-insensitively): bold colour, or [[...]] without colour."""
    wanted = sorted({p for p in phrases if p and p.strip()}, key=len, reverse=True)
    if not wanted:
        return text
    pattern = re.compile("|".join(re.escape(p) for p in wanted), re.IGNORECASE)

    def mark(match: re.Match[str]) -> str:
        return click.style(match.group(0), fg=fg, bold=True) if color else f"[[{match.group(0)}]]"

    return pattern.sub(mark, text)


def explain(result: MatchResult) -> str:
    """The evidence of a result in words: `Evidence.lines`, as every channel and page words it."""
    return Evidence.from_json(result.evidence).summary()


def render_table(results: Sequence[MatchResult], *, color: bool, top_k: int = 0) -> str:
    """`monitor check` without --json: per claim, verdict and score, the two sentences with the changed
    parts highlighted (ANSI colour, or [[...]] markers without), the evidence in words, and with `top_k`
    the K best candidates."""
    blocks: list[str] = []
    for number, result in enumerate(results, start=1):
        verdict = result.verdict.upper()
        label = click.style(verdict, fg=_VERDICT_COLOURS[result.verdict], bold=True) if color else verdict
        new_marks, old_marks = (
            [phrase for phrase, _kind in side] for side in Evidence.from_json(result.evidence).marks()
        )
        lines = [f"{number}. {label}  score {result.score:.1f}"]
        lines.append("   new:      " + _highlight(result.text, new_marks, color=color, fg="yellow"))
        if result.baseline is not None:
            ref = result.baseline
            source = ", ".join(str(part) for part in (ref.article, ref.published) if part)
            suffix = f"  (#{ref.claim_id}{', ' + source if source else ''})"
            lines.append("   baseline: " + _highlight(ref.text, old_marks, color=color, fg="cyan") + suffix)
        lines.append("   why:      " + explain(result))
        if top_k > 0 and result.candidates:
            lines.append(f"   best {min(top_k, len(result.candidates))}:")
            for rank, candidate in enumerate(result.candidates[:top_k], start=1):
                lines.append(f"     {rank}. {candidate.score:5.1f}  #{candidate.ref.claim_id}  {candidate.ref.text}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
