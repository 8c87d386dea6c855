"""`monitor crawl`: crawl every enabled source once (or the given ones) and print what happened.

For cron: one run over the sources, then exit. While it runs, progress per source goes to stderr (a Rich
live view on a terminal, plain lines otherwise; `--quiet` silences it). At the end: the totals, one line
per source, and every error once. The exit status is 1 when every source failed (the network is down?).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click

from alerts.outbox import enqueue_channels, match_alert_hook, no_channel_notice
from monitor.cli.context import CliContext
from monitor.crawling.job import SourceOutcome
from monitor.crawling.runs import CrawlLimits, CrawlSummary, run_crawl, select_sources
from monitor.storage.engine import session_scope

pass_cli = click.make_pass_decorator(CliContext)

ProgressCallback = Callable[[dict[str, Any]], None]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def source_line(url: str, outcome: SourceOutcome | None) -> str:
    """One source at the end of a crawl: how it went, its pages and new articles."""
    if outcome is None:
        return f"  {url}: not read (the crawl ended before it)"
    if outcome.status == "failed":
        return f"  {url}: failed: {outcome.error or 'unknown reason'}"
    status = {"not_modified": "unchanged since the last crawl"}.get(outcome.status, outcome.status)
    if outcome.article_errors:
        status += f", {_plural(outcome.article_errors, 'problem')} with its pages"
    return f"  {url}: {status}; {_plural(outcome.pages, 'page')}, {outcome.new_articles} new"


def summary_lines(summary: CrawlSummary, source_urls: dict[int, str] | None = None) -> list[str]:
    """The crawl summary as printed: totals, one line per source, then every error (its address once)."""
    report = summary.report
    articles, matches = report.articles, report.matches
    plural = "s" if len(summary.sources) != 1 else ""
    status = summary.status
    if summary.error is None and report.partial:
        status += f", partial: {report.partial_reason}"
    lines = [
        f"Crawl run {summary.crawl_run_id}: {len(summary.sources)} source{plural}, {status}.",
        f"Pages fetched: {report.pages_fetched}",
        f"Articles kept: {articles.get('new', 0)} new, {articles.get('duplicate', 0)} duplicates linked; "
        f"already seen: {articles.get('already_seen', 0) + articles.get('skipped_known', 0)}; "
        f"not on topic: {articles.get('not_on_topic', 0)}",
        f"Claims taken: {report.claims}",
        "Matches: "
        + ", ".join(f"{matches.get(verdict, 0)} {verdict}" for verdict in ("repeated", "updated", "contradicted")),
    ]
    if report.left_for_later:
        lines.append(
            f"Left for the next runs: {report.left_for_later} new links beyond the per-source cap "
            "(MONITOR_CRAWL_MAX_ITEMS; the newest were taken)"
        )
    if summary.error:
        lines.append(f"The crawl failed: {summary.error}")
    shown: set[tuple[str, str]] = set()
    if source_urls:
        lines.append("Sources:")
        for source_id, url in source_urls.items():
            outcome = report.sources.get(source_id)
            lines.append(source_line(url, outcome))
            if outcome is not None and outcome.status == "failed" and outcome.error:
                shown.add((url, outcome.error))  # its reason is on its line already
    lines.append(f"Errors: {len(report.errors)}" if report.errors else "Errors: none")
    for error in report.errors:
        if (error["url"], error["reason"]) in shown:
            continue
        where = "" if error["url"] == error["source"] else f" (from {error['source']})"
        lines.append(f"  {error['url']}: {error['reason']}{where}")
    return lines


def all_failed(summary: CrawlSummary) -> bool:
    """Whether every source of the run failed (or the run itself did)."""
    outcomes = summary.report.sources.values()
    return summary.error is not None or (bool(outcomes) and all(o.status == "failed" for o in outcomes))


class PlainProgress:
    """Progress as plain lines (not a terminal): a line when a source is read or fails, and every 50 pages."""

    def __init__(self, urls: dict[int, str], stream: TextIO) -> None:
        self.urls = urls
        self.stream = stream
        self._seen: dict[int, str] = {}
        self._pages = 0

    def __call__(self, snapshot: dict[str, Any]) -> None:
        for source_id, state in snapshot.get("sources", {}).items():
            key = "failed" if state["status"] == "failed" else ("read" if state["pages"] else "")
            if key and self._seen.get(source_id) != key:
                self._seen[source_id] = key
                url = self.urls.get(int(source_id), f"source {source_id}")
                what = "failed" if key == "failed" else f"{state['status']}, fetching its articles"
                print(f"crawl: {url}: {what}", file=self.stream, flush=True)
        pages = int(snapshot.get("pages_fetched", 0))
        if pages // 50 > self._pages // 50:
            print(
                f"crawl: {pages} pages fetched, {snapshot.get('articles_new', 0)} new articles, "
                f"{snapshot.get('errors', 0)} errors ({snapshot.get('elapsed', 0):.0f} s)",
                file=self.stream,
                flush=True,
            )
        self._pages = pages


@contextmanager
def rich_progress(urls: dict[int, str], stream: TextIO) -> Iterator[ProgressCallback]:
    """A live view on a terminal: one row per source with its state, pages and new articles."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
        console=Console(file=stream),
        transient=False,
    )
    tasks = {source_id: progress.add_task(url, state="waiting", total=None) for source_id, url in urls.items()}

    def show(snapshot: dict[str, Any]) -> None:
        for source_id, state in snapshot.get("sources", {}).items():
            task = tasks.get(int(source_id))
            if task is None:
                continue
            words = f"{state['status']}, {_plural(state['pages'], 'page')}, {state['new']} new"
            progress.update(task, state=words)

    with progress:
        yield show


@contextmanager
def progress_for(
    urls: dict[int, str], *, quiet: bool, stream: TextIO | None = None
) -> Iterator[ProgressCallback | None]:
    stream = stream or sys.stderr
    if quiet:
        yield None
    elif stream.isatty():
        with rich_progress(urls, stream) as show:
            yield show
    else:
        yield PlainProgress(urls, stream)


@click.command()
@click.option("--source", "source_urls", multiple=True, metavar="URL", help="Crawl only this source (repeatable).")
@click.option("--time-limit", type=click.FloatRange(min=1), metavar="SECONDS", help="Stop the crawl after this long.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@pass_cli
def crawl(cli: CliContext, source_urls: tuple[str, ...], time_limit: float | None, quiet: bool) -> None:
    """Crawl every enabled source once (or only --source URL), store what is new, and print a summary.

    Sources that fail are reported with their address and reason. The exit status is 1 when every
    source failed.
    """
    notice = no_channel_notice(cli.settings)
    if notice and not quiet:
        click.echo(notice, err=True)
    with session_scope(cli.engine) as session:
        urls = {row.id: row.url for row in select_sources(session, source_urls) if row.id is not None}
    with progress_for(urls, quiet=quiet) as on_progress:
        summary = run_crawl(
            cli.engine,
            source_urls=source_urls,
            limits=CrawlLimits.from_settings(cli.settings, time_limit=time_limit, progress_every=1),
            on_matches=match_alert_hook(enqueue_channels(cli.settings)),
            on_progress=on_progress,
        )
    for line in summary_lines(summary, urls):
        click.echo(line)
    if summary.error:
        raise click.ClickException(f"crawl run {summary.crawl_run_id} failed: {summary.error}")
    if all_failed(summary):
        count = len(summary.report.sources)
        raise click.ClickException(
            f"all {count} sources failed: is the network down?"
            if count != 1
            else "the one source failed: is the network down?"
        )
