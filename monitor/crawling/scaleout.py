"""Scale-out on scrapy-redis: the scheduler hands out due sources' passes, `monitor crawler` workers share the crawl.

- `RedisCrawlLauncher` (the scheduler's launcher when MONITOR_REDIS_URL is set) opens each due source's
  pass (its `CrawlRun` row, in the shared PostgreSQL database) and pushes it to one Redis list, the way a
  scrapy-redis `RedisSpider` is fed through its `redis_key`. A source whose pass is still running is not
  pushed again, so no feed is fetched twice in one interval. Passes past their time limit (their worker
  died) are closed as failed by `close_overdue_runs`, and the source's next pass fetches what they missed.
- `CrawlWorker` (`monitor crawler`) runs one crawler process that stays up (`spiders.run`, feed `"redis"`):
  its spider takes passes from that list when it has room, and all workers share scrapy-redis's request
  queue and duplicate filter (`spiders.redis_scheduler`), so the article pages of one feed are fetched by
  whichever worker is free and a killed worker's queued requests are taken by the others. Each pass is
  counted in Redis and recorded by the worker that ends it.

What scrapy-redis does not do (a pass spanning workers, requests lost in a killed worker's hands) is
described in `spiders.redis_scheduler`. No queue of our own: no Lua, no heartbeats, no takeover.

    RedisCrawlLauncher(settings, engine).launch(["https://example.org/feed.xml"])   # in the scheduler
    CrawlWorker(settings, engine).run()                                              # in each crawler
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Sequence
from datetime import timedelta

import redis
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from alerts.outbox import enqueue_channels, match_alert_hook
from monitor.config import Settings
from monitor.crawling.job import CrawlJob, CrawlLimits
from monitor.crawling.redis_keys import DEFAULT_KEY_PREFIX, RedisKeys, release_fingerprints
from monitor.crawling.runs import (
    KILL_GRACE_SECONDS,
    crawler_job,
    fail_crawl_run,
    open_pass,
    start_crawler_process,
)
from monitor.errors import MonitorError, error_line
from monitor.storage.engine import make_engine, session_scope
from monitor.storage.models import CrawlRun, CrawlStatus, utcnow

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "CrawlWorker",
    "RedisCrawlLauncher",
    "RedisKeys",
    "ScaleOutError",
    "connect_redis",
]

logger = logging.getLogger(__name__)

# A source's pass is given up after this long (the same bound as the embedded crawler's passes).
DEFAULT_SOURCE_TIME_LIMIT = 15 * 60.0
# How often an idle `--once` worker looks whether everything is done.
POLL_SECONDS = 0.5


class ScaleOutError(MonitorError):
    """Redis is not configured or not reachable; the message is one line and names the (masked) URL."""


def safe_redis_url(url: str) -> str:
    """The Redis URL with any password masked, for messages and logs."""
    try:
        parsed = redis.connection.parse_url(url)
    except ValueError:
        return "<unparseable Redis URL>"
    if parsed.get("password"):
        user = parsed.get("username") or ""
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{user}:***@{rest.rpartition('@')[2]}"
    return url


def require_redis_url(settings: Settings) -> str:
    """`settings.redis_url`, or ScaleOutError when MONITOR_REDIS_URL is not set."""
    if not settings.redis_url:
        raise ScaleOutError("MONITOR_REDIS_URL is not set: crawler workers take their sources from Redis")
    return settings.redis_url


def redis_client(url: str) -> redis.Redis:
    """A client for `url` (no connection is made yet); ScaleOutError for a URL Redis cannot use."""
    try:
        return redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5, socket_timeout=30)
    except ValueError as exc:
        raise ScaleOutError(f"MONITOR_REDIS_URL {safe_redis_url(url)!r} is not a Redis URL: {exc}") from None


def connect_redis(url: str) -> redis.Redis:
    """A client for `url` that has answered a PING; ScaleOutError with a one-line reason otherwise."""
    client = redis_client(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ScaleOutError(f"cannot reach Redis at {safe_redis_url(url)}: {error_line(exc)}") from None
    return client


# -- the scheduler's side ----------------------------------------------------------------------------


class RedisCrawlLauncher:
    """The scheduler's `CrawlLauncher` when MONITOR_REDIS_URL is set: pushes passes for crawler workers.

    `launch` returns once the passes are pushed; the workers record them. Redis is first contacted by
    `launch`, which raises ScaleOutError (one line) when it cannot push (the pass is then recorded as
    failed). `engine` defaults to one on `settings.database_url`.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        client: redis.Redis | None = None,
        time_limit: float | None = None,
    ) -> None:
        self.redis_url = require_redis_url(settings)
        self.client = client or redis_client(self.redis_url)
        self.keys = RedisKeys(key_prefix)
        self.engine = engine if engine is not None else make_engine(settings.database_url)
        self.time_limit = time_limit or DEFAULT_SOURCE_TIME_LIMIT

    def launch(self, source_urls: Sequence[str]) -> None:
        """Push a pass of each source unless one is still running; ScaleOutError if Redis fails."""
        self.release_ended_passes()
        pushed = []
        for url in source_urls:
            assignment = open_pass(self.engine, url)
            if assignment is None:
                logger.info("%s: its previous pass is still under way (or it is paused); not pushed", url)
                continue
            try:
                self.client.lpush(self.keys.sources, json.dumps(assignment.to_json()))
            except redis.RedisError as exc:
                reason = f"cannot queue crawls in Redis at {safe_redis_url(self.redis_url)}: {error_line(exc)}"
                fail_crawl_run(self.engine, assignment.crawl_run_id, reason=reason)
                raise ScaleOutError(reason) from None
            pushed.append(url)
        if pushed:
            logger.info("handed to crawler workers: %s", ", ".join(pushed))

    def release_ended_passes(self) -> list[int]:
        """Release the duplicate-filter fingerprints of passes that ended without their worker releasing them
        (closed as orphaned or overdue): their pages may be requested again by the next passes."""
        try:
            open_ids = {int(value) for value in self.client.smembers(self.keys.open_passes)}
        except redis.RedisError:
            return []  # `launch` says it in one line
        if not open_ids:
            return []
        with session_scope(self.engine) as session:
            running = set(
                session.exec(
                    select(CrawlRun.id).where(
                        col(CrawlRun.id).in_(open_ids), col(CrawlRun.status) == CrawlStatus.running
                    )
                )
            )
        ended = sorted(open_ids - running)
        for run_id in ended:
            release_fingerprints(self.client, self.keys, run_id)
        return ended

    def pending(self) -> list[str]:
        """The source URLs of the passes waiting for a worker, next first."""
        entries = self.client.lrange(self.keys.sources, 0, -1)
        return [json.loads(entry)["source"]["url"] for entry in reversed(entries)]

    def close_overdue_runs(self, *, grace: float = KILL_GRACE_SECONDS + 60.0) -> list[int]:
        """Close as failed the passes running longer than their time limit (their worker died, say)."""
        deadline = utcnow() - timedelta(seconds=self.time_limit + grace)
        with session_scope(self.engine) as session:
            overdue = list(
                session.exec(
                    select(CrawlRun.id).where(
                        col(CrawlRun.status) == CrawlStatus.running, col(CrawlRun.started_at) < deadline
                    )
                )
            )
        reason = f"no crawler worker finished this pass within its time limit of {self.time_limit:g} s"
        closed = [
            run_id for run_id in overdue if run_id is not None and fail_crawl_run(self.engine, run_id, reason=reason)
        ]
        if closed:
            logger.warning("crawl run(s) %s were past their time limit: recorded as failed", closed)
        return closed


# -- the workers' side -------------------------------------------------------------------------------


class CrawlWorker:
    """`monitor crawler`: one crawler process that stays up, fed from Redis, until `stop` is set.

    With `once`, the worker ends when nothing is left to do: no pass waiting, no request queued and no
    pass running in the database. SIGTERM (`stop`) ends the crawler; its queued requests stay in Redis for
    the other workers.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        name: str | None = None,
        limits: CrawlLimits | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        client: redis.Redis | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.redis_url = require_redis_url(settings)
        self.client = client or connect_redis(self.redis_url)
        self.engine = engine
        self.name = name or default_worker_name()
        self.keys = RedisKeys(key_prefix)
        self.limits = limits or CrawlLimits.from_settings(settings, time_limit=DEFAULT_SOURCE_TIME_LIMIT)
        self.on_matches = match_alert_hook(enqueue_channels(settings))
        self.stop = stop or threading.Event()
        self.pid: int | None = None

    def job(self) -> CrawlJob:
        return crawler_job(
            self.engine,
            limits=self.limits,
            on_matches=self.on_matches,
            feed="redis",
            redis_url=self.redis_url,
            redis_prefix=self.keys.prefix,
        )

    def run(self, *, once: bool = False) -> int | None:
        """Run the crawler until `stop` (or, with `once`, until all is done); return its exit status."""
        process, _connection = start_crawler_process(self.job())
        self.pid = process.pid
        logger.info("crawler %s: crawler process %d takes passes from %s", self.name, process.pid, self.keys.sources)
        while process.exitcode is None:
            if self.stop.wait(POLL_SECONDS) or (once and self.all_done()):
                break
        if process.exitcode is None:
            # Scrapy closes the spider on SIGTERM; what is still queued stays in Redis for the others.
            os.kill(process.pid, signal.SIGTERM)
            process.join(KILL_GRACE_SECONDS)
        if process.exitcode is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.join()
        code: int | None = process.exitcode
        return code

    def all_done(self) -> bool:
        """Nothing waiting in Redis and no pass running in the database."""
        if self.client.llen(self.keys.sources) or self.client.zcard(self.keys.requests):
            return False
        with session_scope(self.engine) as session:
            running = session.exec(select(CrawlRun.id).where(col(CrawlRun.status) == CrawlStatus.running)).first()
        return running is None


def default_worker_name() -> str:
    """Host name and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"
