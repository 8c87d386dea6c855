"""`monitor crawler`: a scale-out crawler worker taking sources from the Redis queue (MONITOR_REDIS_URL)."""

from __future__ import annotations

import logging
import signal
import threading

import click
import redis

from alerts.outbox import no_channel_notice
from monitor.cli.context import CliContext
from monitor.crawling.runs import CrawlLimits
from monitor.crawling.scaleout import (
    DEFAULT_SOURCE_TIME_LIMIT,
    CrawlWorker,
    connect_redis,
    require_redis_url,
    safe_redis_url,
)
from monitor.errors import error_line
from monitor.service.signals import stop_on_signals

pass_cli = click.make_pass_decorator(CliContext)


@click.command()
@click.option("--once", is_flag=True, help="Crawl what is queued now, then exit instead of waiting for more.")
@click.option("--max-sources", type=click.IntRange(min=1), metavar="N", help="Exit after crawling N sources.")
@click.option(
    "--name",
    metavar="NAME",
    help="Worker name, unique per running worker (default: host name and process id). A worker restarted "
    "under its name queues its unfinished source again at once.",
)
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="Crawl up to N queued sources in one run (saves each run's start-up when many are due at once).",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=1),
    default=DEFAULT_SOURCE_TIME_LIMIT,
    show_default=True,
    metavar="SECONDS",
    help="Stop a crawl run after this long.",
)
@pass_cli
def crawler(
    cli: CliContext, once: bool, max_sources: int | None, name: str | None, batch_size: int, time_limit: float
) -> None:
    """Crawl sources the scheduler queued in Redis, one recorded crawl run each, until stopped.

    Any number of workers can run against one Redis and one PostgreSQL database: they share the queue
    and never fetch the same article page twice. SIGTERM lets the current source finish, then the worker
    exits with status 0; Ctrl-C stops the crawl at once and queues its source again.
    """
    _configure_logging()
    url = require_redis_url(cli.settings)
    client = connect_redis(url)
    notice = no_channel_notice(cli.settings)
    if notice:
        click.echo(notice, err=True)
    stop = threading.Event()
    worker = CrawlWorker(
        cli.settings,
        cli.engine,
        name=name,
        limits=CrawlLimits.from_settings(cli.settings, time_limit=time_limit),
        batch_size=batch_size,
        client=client,
        stop=stop,
    )
    click.echo(f"crawler {worker.name}: taking sources from {safe_redis_url(url)}", err=True)
    try:
        # SIGTERM only: Ctrl-C (SIGINT) stops the crawl at once, and its source is queued again.
        with stop_on_signals(stop, (signal.SIGTERM,), then="stopping after the current source"):
            report = worker.run(once=once, max_sources=max_sources)
    except redis.RedisError as exc:
        # Whatever this worker had taken is still in its processing list: the next worker of this name,
        # or any other once this one's heartbeat has expired, queues it again.
        raise click.ClickException(f"lost Redis at {safe_redis_url(url)}: {error_line(exc)}") from None
    click.echo(
        f"crawler {worker.name}: stopped after {report.crawled} source(s), {report.failed} failed run(s)", err=True
    )


def _configure_logging() -> None:
    # One line per crawl run and per recovered worker; Scrapy's own logging stays in its child process.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
