"""`monitor init`, `serve`, `run` and `demo`: set the database up, run the service, show it working offline."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import click

from monitor.catalog.first_run import initialise
from monitor.catalog.sources import clean_every
from monitor.cli.context import CliContext

pass_cli = click.make_pass_decorator(CliContext)


@click.command()
@pass_cli
def init(cli: CliContext) -> None:
    """Create the schema and load the bundled baseline, watch terms and sources (safe to run again)."""
    with cli.session() as session:
        report = initialise(session)
    if report.nothing_changed:
        click.echo("Already initialised: nothing to change.")
        return
    click.echo(
        f"Baseline: {report.baseline.articles_added} articles, {report.baseline.claims_added} claims added. "
        f"Watch terms: {report.watch_terms_added} added. Sources: {report.sources_added} added."
    )


def _serve(cli: CliContext, host: str | None, port: int | None) -> None:
    from monitor.web.server import serve_web

    settings = cli.settings
    with cli.session() as session:
        initialise(session)
    serve_web(settings, cli.engine, host=host or settings.web_host, port=port or settings.web_port)


@click.command()
@click.option("--host", help="Address to listen on (default MONITOR_WEB_HOST).")
@click.option("--port", type=int, help="Port (default MONITOR_WEB_PORT).")
@pass_cli
def serve(cli: CliContext, host: str | None, port: int | None) -> None:
    """Run the web app only."""
    _serve(cli, host, port)


@click.command()
@click.option("--host", help="Address to listen on (default MONITOR_WEB_HOST).")
@click.option("--port", type=int, help="Port (default MONITOR_WEB_PORT).")
@click.option(
    "--every",
    metavar="INTERVAL",
    help="Crawl interval of sources without their own (30m, 2h; default MONITOR_CRAWL_EVERY).",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=10),
    metavar="SECONDS",
    help="Stop a crawl run after this long (default 900, 15 minutes); one that hangs is killed.",
)
@pass_cli
def run(cli: CliContext, host: str | None, port: int | None, every: str | None, time_limit: float | None) -> None:
    """Run the service until Ctrl-C or SIGTERM: the scheduler and the web app.

    Each enabled source is crawled on its own interval, the alert outbox is drained every minute, and the
    digest of the previous day is sent daily at MONITOR_DIGEST_TIME. Stopping lets running crawls finish.
    """
    from monitor.crawling.launchers import DEFAULT_CRAWL_TIME_LIMIT
    from monitor.crawling.runs import CrawlLimits
    from monitor.service.run import ServiceOptions, run_service
    from monitor.service.scheduler import SchedulerOptions

    settings = cli.settings
    schedule_overrides = {} if every is None else {"default_every": timedelta(seconds=clean_every(every) or 0)}
    options = ServiceOptions(
        schedule=SchedulerOptions.from_settings(settings, **schedule_overrides),
        crawl_limits=CrawlLimits.from_settings(settings, time_limit=time_limit or DEFAULT_CRAWL_TIME_LIMIT),
    )
    _configure_logging()
    with cli.session() as session:
        initialise(session)
    run_service(settings, cli.engine, host=host or settings.web_host, port=port or settings.web_port, options=options)


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every run of every job at INFO; our jobs log what they did.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Where the demo database, digest and emails are written (recreated each time).",
)
@pass_cli
def demo(cli: CliContext, data_dir: Path) -> None:
    """Offline, end to end: a local news site, mail sink and Slack receiver; one crawl, alerts and digest.

    Nothing leaves 127.0.0.1. Prints what arrived where and how to look at it in the web UI.
    """
    from monitor.demo import run_demo

    report = run_demo(data_dir, progress=lambda line: click.echo(line, err=True))
    for line in report.lines():
        click.echo(line)
