"""`monitor crawl`: crawl every enabled source once (or the given ones) and print what happened."""

from __future__ import annotations

import click

from alerts.outbox import enqueue_channels, match_alert_hook, no_channel_notice
from monitor.cli.context import CliContext
from monitor.crawling.runs import CrawlLimits, CrawlSummary, progress_printer, run_crawl

pass_cli = click.make_pass_decorator(CliContext)


def summary_lines(summary: CrawlSummary) -> list[str]:
    """The crawl summary as printed: pages, articles, claims, matches by verdict, then every error."""
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
    lines.append(f"Errors: {len(report.errors)}" if report.errors else "Errors: none")
    lines.extend(f"  {error['url']}: {error['reason']} (source {error['source']})" for error in report.errors)
    return lines


@click.command()
@click.option("--source", "source_urls", multiple=True, metavar="URL", help="Crawl only this source (repeatable).")
@click.option("--time-limit", type=click.FloatRange(min=1), metavar="SECONDS", help="Stop the crawl after this long.")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@pass_cli
def crawl(cli: CliContext, source_urls: tuple[str, ...], time_limit: float | None, quiet: bool) -> None:
    """Crawl every enabled source once (or only --source URL), store what is new, and print a summary.

    Sources that fail are reported with their address and reason; the exit status is still 0.
    """
    notice = no_channel_notice(cli.settings)
    if notice and not quiet:
        click.echo(notice, err=True)
    summary = run_crawl(
        cli.engine,
        source_urls=source_urls,
        limits=CrawlLimits.from_settings(cli.settings, time_limit=time_limit),
        on_matches=match_alert_hook(enqueue_channels(cli.settings)),
        on_progress=None if quiet else progress_printer(),
    )
    for line in summary_lines(summary):
        click.echo(line)
    if summary.error:
        raise click.ClickException(f"crawl run {summary.crawl_run_id} failed: {summary.error}")
