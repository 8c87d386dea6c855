"""`monitor check`: match claims read from stdin against the baseline and print verdicts with evidence."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from monitor.cli.check_output import render_table, result_to_json
from monitor.matching import BaselineClaimRef, BaselineIndex, ClaimMatcher

MAX_LINE_BYTES = 1_000_000
MAX_INPUT_BYTES = 50_000_000


def _read_stdin() -> str:
    """All of stdin as text. Raises ClickException for empty, binary, non-UTF-8 or oversized input."""
    raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    if len(raw) > MAX_INPUT_BYTES:
        raise click.ClickException(f"the input is larger than {MAX_INPUT_BYTES // 1_000_000} MB")
    if b"\x00" in raw:
        raise click.ClickException("the input is binary (it has NUL bytes): give text, one claim a line")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"the input is not UTF-8 text (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise click.ClickException("no input: give claims on stdin, one a line (or an article with --article)")
    return text


def _claim_lines(text: str) -> list[str]:
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line.encode("utf-8")) > MAX_LINE_BYTES:
            raise click.ClickException(f"line {number} is longer than 1 MB: give one claim a line")
        if line.strip():
            lines.append(" ".join(line.split()))
    return lines


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:2000].lower()
    return head.startswith("<") and any(
        tag in head for tag in ("<html", "<body", "<p", "<div", "<article", "<!doctype")
    )


def _article_claims(text: str) -> list[str]:
    if _looks_like_html(text):
        import trafilatura

        extracted = trafilatura.extract(text, include_comments=False, include_tables=False)
        if not extracted:
            raise click.ClickException("no article text found in the HTML")
        text = extracted
    from monitor.text.claims import extract_claims

    claims = extract_claims(text)
    if not claims:
        raise click.ClickException("no checkable claims found in the article")
    return claims


def _threshold(ctx: click.Context) -> float | None:
    settings = getattr(ctx.obj, "settings", None)
    return None if settings is None else settings.match_threshold


def _baseline_refs(ctx: click.Context) -> list[BaselineClaimRef]:
    loader: Any = getattr(ctx.obj, "load_baseline_refs", None)
    if loader is None:
        raise click.ClickException("no baseline is available")
    refs = list(loader())
    if not refs:
        raise click.ClickException("the baseline is empty: run `monitor init` (or `monitor baseline add`)")
    return refs


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, one per claim.")
@click.option("--article", is_flag=True, help="Stdin is one article (HTML or text): take its claims first.")
@click.option(
    "--top", "top_k", type=click.IntRange(min=0), default=0, metavar="K", help="Also list the K best candidates."
)
@click.pass_context
def check(ctx: click.Context, as_json: bool, article: bool, top_k: int) -> None:
    """Match claims from stdin against the baseline: verdict, score, baseline claim and evidence.

    Default: one claim a line. With --article, stdin is one article whose claims are taken first.
    """
    if sys.stdin.isatty():
        # Without this the command seems to hang: it is waiting for claims on the keyboard.
        end = "Ctrl-Z then Enter" if sys.platform == "win32" else "Ctrl-D"
        what = "an article (HTML or text)" if article else "claims, one a line"
        click.echo(f"Type or paste {what}; end with {end}.", err=True)
    text = _read_stdin()
    if article:
        if any(len(line.encode("utf-8")) > MAX_LINE_BYTES for line in text.splitlines()):
            raise click.ClickException("the article has a line longer than 1 MB")
        claims = _article_claims(text)
    else:
        claims = _claim_lines(text)
    if not claims:
        raise click.ClickException("no claims in the input")
    matcher = ClaimMatcher(BaselineIndex.build_with_installed(_baseline_refs(ctx)), threshold=_threshold(ctx))
    results = matcher.match_many(claims, top_k=max(top_k, 1))
    if as_json:
        for result in results:
            click.echo(json.dumps(result_to_json(result, top_k=top_k), ensure_ascii=False))
        return
    color = ctx.color if ctx.color is not None else sys.stdout.isatty()
    click.echo(render_table(results, color=color, top_k=top_k), nl=False, color=color)
