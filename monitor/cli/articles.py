"""`monitor articles list` and `monitor matches list`: what the crawls have stored."""

from __future__ import annotations

import json

import click

from monitor.catalog.queries import article_json, list_articles, list_matches, match_json, parse_since
from monitor.cli.context import CliContext
from monitor.cli.output import print_table
from monitor.storage.models import Verdict

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
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.option("--verdict", type=click.Choice([verdict.value for verdict in Verdict]), help="Only this verdict.")
@click.option("--since", metavar="DATE", help=_SINCE_HELP + " Time the match was made.")
@click.option(
    "--language", metavar="CODE", type=click.STRING, help="Only matches in articles of this language (en, ru, uk, be)."
)
@pass_cli
def list_matches_command(
    cli: CliContext, as_json: bool, verdict: str | None, since: str | None, language: str | None
) -> None:
    """Stored matches, oldest first."""
    moment = parse_since(since)
    with cli.session() as session:
        rows = list_matches(session, verdict=verdict, since=moment, language=language.lower() if language else None)
    if as_json:
        for row in rows:
            click.echo(json.dumps(match_json(row), ensure_ascii=False))
        return
    if not rows:
        click.echo("No matches stored yet.")
        return
    table = [
        (row.match.id, row.match.verdict, f"{row.match.score:.0f}", row.claim.text, row.baseline.text) for row in rows
    ]
    print_table(["id", "verdict", "score", "claim", "baseline claim"], table, max_width=50)
