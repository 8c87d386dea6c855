"""`monitor articles list` and `monitor matches list/show/review`: what the crawls have stored, and its review."""

from __future__ import annotations

import io
import json
import shutil
import textwrap

import click

from alerts.render import format_day
from monitor.catalog.queries import (
    ListedMatch,
    article_json,
    get_listed_match,
    list_articles,
    list_matches,
    match_json,
    parse_since,
    write_matches_csv,
)
from monitor.cli.context import CliContext
from monitor.cli.output import print_table
from monitor.errors import NotFoundError
from monitor.matching.evidence import SCORE_MEANING, Evidence
from monitor.storage.models import Verdict, utcnow
from monitor.web.review import review_match

pass_cli = click.make_pass_decorator(CliContext)

_SINCE_HELP = "Only from this date (YYYY-MM-DD, UTC) or ISO date-time on."


@click.group()
def articles() -> None:
    """Stored articles."""


@articles.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.option("--since", metavar="DATE", help=_SINCE_HELP + " Published date, else fetch date.")
@pass_cli
def list_articles_command(cli: CliContext, as_json: bool, since: str | None) -> None:
    """Stored articles, oldest first."""
    moment = parse_since(since)
    with cli.session() as session:
        rows = list_articles(session, since=moment)
    if as_json:
        for row in rows:
            click.echo(json.dumps(article_json(row), ensure_ascii=False))
        return
    if not rows:
        click.echo("No articles stored yet: run `monitor crawl`.")
        return
    table = [
        (
            row.id,
            row.published.strftime("%Y-%m-%d") if row.published else "",
            row.outlet or "",
            row.language or "",
            (row.title or row.url) + (f" (copy of {row.duplicate_of_id})" if row.duplicate_of_id else ""),
            ", ".join(row.watch_terms),
        )
        for row in rows
    ]
    print_table(["id", "published", "outlet", "lang", "title", "watch terms"], table)


@click.group()
def matches() -> None:
    """Stored matches of new claims to baseline claims."""


@matches.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line (the same as --format json).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text: each match in full, wrapped; json: one object a line; csv: a spreadsheet with a header row.",
)
@click.option("--verdict", type=click.Choice([verdict.value for verdict in Verdict]), help="Only this verdict.")
@click.option("--since", metavar="DATE", help=_SINCE_HELP + " Time the match was made.")
@click.option(
    "--language", metavar="CODE", type=click.STRING, help="Only matches in articles of this language (en, ru, uk, be)."
)
@pass_cli
def list_matches_command(
    cli: CliContext, as_json: bool, output_format: str, verdict: str | None, since: str | None, language: str | None
) -> None:
    """Stored matches, oldest first: both sentences in full and the evidence in words."""
    moment = parse_since(since)
    with cli.session() as session:
        rows = list_matches(session, verdict=verdict, since=moment, language=language.lower() if language else None)
    if as_json or output_format == "json":
        for row in rows:
            click.echo(json.dumps(match_json(row), ensure_ascii=False))
        return
    if output_format == "csv":
        buffer = io.StringIO()
        write_matches_csv(rows, buffer)
        click.echo(buffer.getvalue(), nl=False)
        return
    if not rows:
        click.echo("No matches stored yet.")
        return
    click.echo("\n\n".join(_match_block(row, full=False) for row in rows))
    click.echo(f"\n{len(rows)} match{'es' if len(rows) != 1 else ''}. {SCORE_MEANING}")


def _wrapped(label: str, text: str) -> list[str]:
    width = max(min(shutil.get_terminal_size((100, 24)).columns, 120), 60)
    indent = " " * (len(label) + 2)
    return textwrap.wrap(" ".join(text.split()), width, initial_indent=f"  {label}", subsequent_indent=indent) or [
        f"  {label}"
    ]


def _match_block(item: ListedMatch, *, full: bool) -> str:
    """One match as a block of wrapped lines: head line, both sentences, where each is from, the evidence."""
    match, article = item.match, item.article
    evidence = Evidence.from_json(match.evidence)
    label = f" ({evidence.confidence})" if evidence.confidence else ""
    head = f"#{match.id}  {match.verdict.upper()}  score {match.score:.0f}{label}  [{match.review_status}]"
    source = ", ".join(
        part
        for part in (
            article.outlet or "unknown outlet",
            format_day(article.published or article.fetched_at),
            article.language,
        )
        if part
    )
    baseline_source = f"#{item.baseline.id}, {item.baseline_article.title}, {format_day(item.baseline_published)}"
    lines = [head, *_wrapped("new:      ", item.claim.text), f"            {source}"]
    if full:
        lines += [f"            {article.title or ''}".rstrip(), f"            {article.url}"]
    lines += [*_wrapped("baseline: ", item.baseline.text), f"            {baseline_source}"]
    words = evidence.lines()
    if full:
        lines += [line for word in words for line in _wrapped("why:      ", word)]
    else:
        lines += _wrapped("why:      ", "; ".join(words) or "same proposition")
    if match.review_note:
        lines += _wrapped("note:     ", match.review_note)
    return "\n".join(lines)


@matches.command("show")
@click.argument("match_id", type=int)
@pass_cli
def show_match(cli: CliContext, match_id: int) -> None:
    """One match in full: both sentences, their articles, the evidence and the review."""
    with cli.session() as session:
        item = get_listed_match(session, match_id)
        if item is None:
            raise NotFoundError(f"no match with id {match_id}: see `monitor matches list`")
        click.echo(_match_block(item, full=True))
        if item.match.reviewed_at:
            click.echo(f"  reviewed: {item.match.reviewed_at.isoformat(timespec='minutes')}")
    click.echo(f"\n{SCORE_MEANING}")


@matches.command("review")
@click.argument("match_id", type=int)
@click.option("--confirm", "status", flag_value="confirmed", help="The match is right.")
@click.option("--dismiss", "status", flag_value="dismissed", help="Wrong match: it leaves the digest.")
@click.option("--reset", "status", flag_value="unreviewed", help="Back to unreviewed.")
@click.option("--note", help="Why (kept with the match; shown on the page).")
@pass_cli
def review_match_command(cli: CliContext, match_id: int, status: str | None, note: str | None) -> None:
    """Confirm or dismiss a match (as the Matches page does), with an optional note."""
    if status is None:
        raise click.UsageError("say --confirm, --dismiss or --reset")
    with cli.session() as session:
        match = review_match(session, match_id=match_id, status=status, note=note, now=utcnow())
        click.echo(
            f"Match #{match_id}: {match.review_status}" + (f" ({match.review_note})" if match.review_note else "")
        )
