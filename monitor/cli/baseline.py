"""`monitor baseline …`: see and extend the reference claims that new coverage is matched against."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click

from baseline.claims_file import read_claims_file
from baseline.loader import read_article
from monitor.catalog.baseline_store import (
    add_baseline_article,
    add_claims_list,
    baseline_refs,
    encode_baseline_vectors,
    remove_baseline_article,
)
from monitor.catalog.queries import baseline_claims, list_baseline_articles
from monitor.catalog.sources import clean_url
from monitor.cli.context import CliContext
from monitor.cli.output import print_table
from monitor.errors import InputError, NotFoundError
from monitor.http.fetch import fetch_document
from monitor.matching.index import first_copies
from monitor.storage.models import utcnow

pass_cli = click.make_pass_decorator(CliContext)
MAX_FILE_BYTES = 20 * 1024 * 1024
# From this many claims to encode, the sentence encoders' progress is shown (with a time estimate): below
# it, encoding takes a few seconds at most.
PROGRESS_FROM = 200


@click.group()
def baseline() -> None:
    """The baseline: reference articles and known claims."""


def _read_local(path_text: str) -> bytes:
    path = Path(path_text)
    if not path.exists():
        raise InputError(f"{path_text}: no such file")
    if not path.is_file():
        raise InputError(f"{path_text}: not a regular file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path_text}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return path.read_bytes()


def _looks_like_url(text: str) -> bool:
    return "://" in text or text.startswith("www.")


@baseline.command("add")
@click.argument("path_or_url", required=False)
@click.option("--claims", "claims_file", type=click.Path(dir_okay=False), help="A file of known claims.")
@click.option("--title", help="Title (default: the article's own).")
@click.option("--published", type=click.DateTime(formats=["%Y-%m-%d"]), help="Publication date, YYYY-MM-DD.")
@click.option("--outlet", help="The outlet that published it.")
@pass_cli
def add(
    cli: CliContext,
    path_or_url: str | None,
    claims_file: str | None,
    title: str | None,
    published: object,
    outlet: str | None,
) -> None:
    """Add a reference article (a file, HTML or text, or an http(s) URL), or a list of known claims.

    With --claims FILE: one claim a line, or JSON lines with `claim` and optional `id`, `source`,
    `published` (a fact-check database, say).
    """
    if bool(path_or_url) == bool(claims_file):
        raise click.UsageError("give either PATH_OR_URL or --claims FILE")
    published_day: date | None = published.date() if published is not None else None  # type: ignore[attr-defined]
    if claims_file:
        claims = read_claims_file(Path(claims_file))
        with cli.session() as session:
            article, count = add_claims_list(session, claims=claims, source=claims_file, title=title)
        click.echo(f"Added {count} claims as baseline {article.title!r} (id {article.id}).")
        _report_copies(cli)
        _encode_vectors(cli)
        return
    assert path_or_url is not None
    if _looks_like_url(path_or_url):
        document = fetch_document(clean_url(path_or_url), policy=cli.settings.address_policy)
        text = read_article(document.content, source=document.url, content_type=document.content_type)
    else:
        text = read_article(_read_local(path_or_url), source=path_or_url)
    with cli.session() as session:
        article, count = add_baseline_article(
            session, article=text, source=path_or_url, title=title, outlet=outlet, published=published_day
        )
    click.echo(f"Added {article.title!r} with {count} claims (id {article.id}).")
    _report_copies(cli)
    _encode_vectors(cli)


def _report_copies(cli: CliContext) -> None:
    """Say how many baseline claims are worded as an earlier one (case, punctuation and quote marks
    aside): the matcher proposes each such claim as the one added first (`index.first_copies`)."""
    with cli.session() as session:
        refs = baseline_refs(session)
    copies = first_copies([ref.text for ref in refs])
    if copies is None:
        return
    count = sum(int(first) != doc for doc, first in enumerate(copies))
    noun = "claim is" if count == 1 else "claims are"
    click.echo(
        f"{count} baseline {noun} worded as an earlier one (case, punctuation and quote marks aside): "
        "each is matched as the claim added first."
    )


def _encode_vectors(cli: CliContext) -> None:
    """The baseline's sentence vectors, computed now, once (kept on disk per model), so that matching never
    encodes a baseline claim; a large import shows its progress and the time left on stderr."""
    with _progress_display() as progress, cli.session() as session:
        encoded = encode_baseline_vectors(session, progress=progress)
    for name, count in encoded.items():
        if count:
            click.echo(f"Encoded {count} baseline claims with {name} (kept for every later match).")


@contextmanager
def _progress_display() -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback for `encode_baseline_vectors`: a Rich progress bar with the time remaining on
    stderr, shown once there are at least PROGRESS_FROM claims to encode."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    display = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("elapsed,"),
        TimeRemainingColumn(),
        TextColumn("left"),
        console=Console(file=sys.stderr),
    )
    tasks: dict[str, TaskID] = {}

    def advance(name: str, done: int, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        if name not in tasks:
            click.echo(f"Encoding {total} baseline claims with {name}, once (kept for every later match):", err=True)
            if not tasks:
                display.start()
            tasks[name] = display.add_task(name, total=total)
        display.update(tasks[name], completed=done)

    try:
        yield advance
    finally:
        if tasks:
            display.stop()


@baseline.command("list")
@pass_cli
def list_(cli: CliContext) -> None:
    """The baseline articles: title, outlet, published date and claim count."""
    with cli.session() as session:
        rows = [
            (article.id, article.title, article.outlet or "", article.published or "", count)
            for article, count in list_baseline_articles(session)
        ]
    if not rows:
        click.echo("The baseline is empty: run `monitor init`.")
        return
    print_table(["id", "title", "outlet", "published", "claims"], rows)


@baseline.command("claims")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@pass_cli
def claims(cli: CliContext, as_json: bool) -> None:
    """Every baseline claim with its article."""
    with cli.session() as session:
        rows = baseline_claims(session)
    for claim, article in rows:
        published = claim.published or article.published
        if as_json:
            record = {
                "claim_id": claim.id,
                "claim": claim.text,
                "article": article.title,
                "published": published.isoformat() if published else None,
            }
            if claim.external_id is not None:
                record["external_id"] = claim.external_id
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            click.echo(f"[{claim.id}] {claim.text}")
            click.echo(click.style(f"      {article.title} ({published or 'undated'})", dim=True))


@baseline.command("remove")
@click.argument("article_id", type=int)
@click.option("--keep-matches", "choice", flag_value="keep", help="Keep its matches (they still name its claims).")
@click.option("--remove-matches", "choice", flag_value="remove", help="Delete its matches and their alerts too.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_cli
def remove(cli: CliContext, article_id: int, choice: str | None, yes: bool) -> None:
    """Remove baseline article ARTICLE_ID (see `baseline list`): its claims are no longer matched."""
    if choice is None:
        raise click.UsageError("say what becomes of its matches: --keep-matches or --remove-matches")
    with cli.session() as session:
        listed = {article.id: (article, count) for article, count in list_baseline_articles(session)}
        if article_id not in listed:
            raise NotFoundError(f"no baseline article {article_id} (see `monitor baseline list`)")
        title = listed[article_id][0].title
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("add --yes to remove without being asked")
        what = "and delete its matches" if choice == "remove" else "keeping its matches"
        click.confirm(f"Remove {title!r} from the baseline, {what}?", abort=True, err=True)
    with cli.session() as session:
        done = remove_baseline_article(session, article_id=article_id, remove_matches=choice == "remove", now=utcnow())
    matches = f"{done.matches_removed} matches deleted" if choice == "remove" else f"{done.matches_kept} matches kept"
    click.echo(f"Removed {done.title!r}: {done.claims} claims no longer matched; {matches}.")
