"""`monitor crawler`: a scale-out crawler worker fed through Redis (MONITOR_REDIS_URL), sharing scrapy-redis's queue."""

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
@click.option("--name", metavar="NAME", help="Worker name for the logs (default: host name and process id).")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=1),
    default=DEFAULT_SOURCE_TIME_LIMIT,
    show_default=True,
    metavar="SECONDS",
    help="A source's pass is given up (recorded as partial) after this long.",
)
@pass_cli
def crawler(cli: CliContext, once: bool, name: str | None, time_limit: float) -> None:
    """Crawl the sources the scheduler hands out through Redis, until stopped.

    Any number of workers, on any number of machines, can run against one Redis and one PostgreSQL
    database: they share scrapy-redis's request queue and duplicate filter, so the pages of one feed are
    fetched by whichever worker is free, and what a stopped or killed worker left queued is fetched by the
    others. Each source's pass is recorded as a crawl run. SIGTERM or Ctrl-C stops the worker.
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
        client=client,
        stop=stop,
    )
    click.echo(f"crawler {worker.name}: taking sources from {safe_redis_url(url)}", err=True)
    try:
        with stop_on_signals(stop, (signal.SIGTERM, signal.SIGINT), then="stopping the crawler"):
            code = worker.run(once=once)
    except redis.RedisError as exc:
        raise click.ClickException(f"lost Redis at {safe_redis_url(url)}: {error_line(exc)}") from None
    click.echo(f"crawler {worker.name}: stopped", err=True)
    if code not in (0, None, -signal.SIGTERM):
        raise click.ClickException(f"the crawler process ended with status {code}")


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
