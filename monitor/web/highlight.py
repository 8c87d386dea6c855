"""Which words of a matched pair to highlight: the changed figures and the words that flip its meaning.

The matcher's evidence names them (`changed` [[old, new], …], `status` [old, new], `antonym` [old, new],
`negated` with `negated_in` "new" or "baseline", `refuted`). Highlighting returns plain segments; the
template escapes each one, so nothing here produces HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from alerts.render import describe_evidence

FIGURE = "figure"
FLIP = "flip"


@dataclass(frozen=True)
class Segment:
    """A run of text; `kind` is "" for plain text, else FIGURE or FLIP."""

    text: str
    kind: str = ""


@dataclass
class PairMarks:
    """Phrases to mark in the baseline sentence and in the new sentence, with their kind."""

    baseline: list[tuple[str, str]] = field(default_factory=list)
    new: list[tuple[str, str]] = field(default_factory=list)


def _pair(value: Any) -> tuple[str, str] | None:
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, str | int | float) for v in value):
        return str(value[0]), str(value[1])
    return None


def _phrases(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if isinstance(item, str | int | float)]
    return []


def pair_marks(evidence: Mapping[str, Any]) -> PairMarks:
    """The phrases to mark on each side; malformed evidence entries are skipped, never an error."""
    marks = PairMarks()
    changed = evidence.get("changed")
    for entry in changed if isinstance(changed, list) else []:
        pair = _pair(entry)
        if pair:
            marks.baseline.append((pair[0], FIGURE))
            marks.new.append((pair[1], FIGURE))
    for key in ("status", "antonym"):
        pair = _pair(evidence.get(key))
        if pair:
            marks.baseline.append((pair[0], FLIP))
            marks.new.append((pair[1], FLIP))
    for key in ("negated", "refuted"):
        side = marks.baseline if evidence.get(f"{key}_in") == "baseline" else marks.new
        side.extend((phrase, FLIP) for phrase in _phrases(evidence.get(key)))
    return marks


def _find(text: str, phrase: str) -> re.Match[str] | None:
    """The phrase as whole words, case-insensitively; for a figure phrase such as "around 9,000" whose
    wording differs in the sentence, its last word (the number) alone."""
    for candidate in (phrase, phrase.split()[-1] if phrase.split() else ""):
        if candidate.strip():
            pattern = re.compile(r"(?<!\w)" + re.escape(candidate.strip()) + r"(?!\w)", re.IGNORECASE)
            found = pattern.search(text)
            if found:
                return found
    return None


def highlight(text: str, marks: Iterable[tuple[str, str]]) -> list[Segment]:
    """`text` cut into segments, the first occurrence of each phrase marked (longest phrases win overlaps)."""
    spans: list[tuple[int, int, str]] = []
    for phrase, kind in sorted(marks, key=lambda mark: len(mark[0]), reverse=True):
        found = _find(text, phrase)
        if found and all(found.end() <= start or found.start() >= end for start, end, _ in spans):
            spans.append((found.start(), found.end(), kind))
    segments: list[Segment] = []
    position = 0
    for start, end, kind in sorted(spans):
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], kind))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


_SIDE_NAMES = {"new": "the new sentence", "baseline": "the baseline claim"}


def evidence_lines(evidence: Mapping[str, Any]) -> list[str]:
    """The evidence in words for the pages: the alerts' wording (`describe_evidence`), with the side a
    negation sits on folded into its line and the shared words last."""
    rest = {key: value for key, value in evidence.items() if key not in ("negated_in", "refuted_in", "shared_terms")}
    lines = describe_evidence(rest)
    for key, label in (("negated", "negation"), ("refuted", "refutation")):
        side = _SIDE_NAMES.get(str(evidence.get(f"{key}_in")))
        if side and evidence.get(key):
            lines = [f"{line} in {side}" if line.startswith(f"{label}: ") else line for line in lines]
    shared = _phrases(evidence.get("shared_terms"))
    if shared:
        lines.append("shared words: " + ", ".join(shared))
    return lines
