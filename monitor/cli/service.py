"""`monitor init`, `serve`, `run` and `demo`: set the database up, run the service, show it working offline."""

from __future__ import annotations

import logging
import shlex
import shutil
import sys
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
    cli.may_create = True
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
    from monitor.web.server import check_listen_address, check_port_free, serve_web

    settings = cli.settings
    host, port = host or settings.web_host, port or settings.web_port
    check_listen_address(settings, host)
    check_port_free(host, port)
    with cli.session() as session:
        initialise(session)
    serve_web(settings, cli.engine, host=host, port=port)


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
    from monitor.web.server import check_listen_address, check_port_free

    host, port = host or settings.web_host, port or settings.web_port
    check_listen_address(settings, host)
    check_port_free(host, port)  # before anything starts: no crawl is launched only to be recorded as failed
    cli.may_create = True
    _configure_logging()
    with cli.session() as session:
        initialise(session)
    run_service(settings, cli.engine, host=host, port=port, options=options)


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
@click.option("--serve", "then_serve", is_flag=True, help="Then serve the web UI on the demo's database.")
@click.option("--host", help="With --serve: address to listen on (default MONITOR_WEB_HOST).")
@click.option("--port", type=int, help="With --serve: port (default MONITOR_WEB_PORT).")
@pass_cli
def demo(cli: CliContext, data_dir: Path, then_serve: bool, host: str | None, port: int | None) -> None:
    """Offline, end to end: a local news site, mail sink and Slack receiver; one crawl, alerts and digest.

    Nothing leaves 127.0.0.1. Prints what arrived where and how to look at it in the web UI; with --serve,
    serves that web UI on the demo's database until Ctrl-C.
    """
    from monitor.config import load_settings
    from monitor.demo import run_demo
    from monitor.web.server import check_port_free

    host, port = host or cli.settings.web_host, port or cli.settings.web_port
    if then_serve:
        check_port_free(host, port)  # say so now, not after the demo ran
    report = run_demo(data_dir, progress=lambda line: click.echo(line, err=True))
    for line in report.lines(monitor_command()):
        click.echo(line)
    if then_serve:
        click.echo(f"Serving the demo's result at http://{host}:{port}/ (Ctrl-C stops)", err=True)
        demo_cli = CliContext(load_settings(database_url=report.database_url))
        _serve(demo_cli, host, port)


def monitor_command() -> str:
    """How to run `monitor` again from this shell, as this process was run: `monitor` when that is on
    PATH, else the path of the script (`.venv/bin/monitor`), else `python -m monitor` with this Python."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "monitor" and script.exists():
        found = shutil.which("monitor")
        if found and Path(found).resolve() == script.resolve():
            return "monitor"
        return shlex.quote(_shown_path(script))
    return f"{shlex.quote(_shown_path(Path(sys.executable)))} -m monitor"


def _shown_path(path: Path) -> str:
    """`path` relative to the working folder when it is inside it (`.venv/bin/monitor`), else absolute."""
    absolute = path.absolute()
    try:
        relative = str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)
    return relative if "/" in relative else f"./{relative}"
