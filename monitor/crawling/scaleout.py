"""Scale-out on Redis: the scheduler queues due sources, any number of `monitor crawler` workers crawl them.

The pieces, each a thin layer over Redis:

- `SourceQueue`: a reliable queue of source URLs. `push` queues a source once (a source already waiting or
  being crawled is not queued again, so one source is never crawled twice at a time). A worker `take`s a
  source by moving it atomically (BLMOVE) into its own processing list and `ack`s it once the crawl run is
  recorded, so a worker killed mid-crawl leaves the source in its processing list, not lost.
- Worker liveness: each worker keeps a heartbeat key with a short expiry and a record of its current crawl
  run. A worker whose heartbeat has expired is dead: another worker (or the same one restarted under its
  name) records its run as failed, releases its article claims and puts its sources back in the queue.
- `ArticleClaims`: article URLs claimed across workers. Inside each crawl, Scrapy runs with scrapy-redis's
  scheduler (request queue and dupefilter in Redis, per worker) extended by
  `spiders.redis_scheduler.SharedArticleScheduler`, which claims every article URL before fetching it:
  two workers never fetch the same article page. Claims end with the crawl run that holds them (or after
  `claim_ttl`), so a later run can fetch a page that was not stored.
- `CrawlWorker`: the loop of `monitor crawler`; each source (or batch of sources taken together) is one
  `monitor.crawling.runs.start_crawl` run (its own `CrawlRun` row, articles through the same `ArticleIngestor`).
  An article found by two workers at once is stored once: the unique canonical URL makes the loser count
  it as "already seen".

    RedisCrawlLauncher(settings).launch(["https://example.org/feed.xml"])    # in the scheduler
    CrawlWorker(settings, engine).run()                                       # in each crawler
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import redis
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from alerts.outbox import enqueue_channels, match_alert_hook
from monitor.config import Settings
from monitor.crawling.job import CrawlLimits
from monitor.crawling.runs import KILL_GRACE_SECONDS, CrawlSummary, ProgressCallback, fail_crawl_run, start_crawl
from monitor.crawling.stale_runs import close_orphaned_runs
from monitor.errors import InputError, MonitorError, error_line
from monitor.storage.models import CrawlStatus, utcnow

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "ArticleClaims",
    "CrawlWorker",
    "QueuedSource",
    "RedisCrawlLauncher",
    "RedisKeys",
    "ScaleOutError",
    "SourceQueue",
    "WorkerReport",
    "connect_redis",
    "redis_scrapy_settings",
]

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "claim-monitor"
# A source's crawl is stopped after this long (the same bound as the scheduler's local crawls).
DEFAULT_SOURCE_TIME_LIMIT = 15 * 60.0
# A worker whose heartbeat is older than this is taken for dead and its sources are crawled again.
DEFAULT_HEARTBEAT_TTL = 30.0
# How long an idle worker blocks on the queue before it looks for dead workers and for a stop request.
DEFAULT_POLL_SECONDS = 2.0
# After a database error a worker returns the source to the queue and waits this long before the next.
DATABASE_RETRY_SECONDS = 5.0


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


@dataclass(frozen=True)
class RedisKeys:
    """Every Redis key of one deployment, under `prefix` (tests use a random prefix each)."""

    prefix: str = DEFAULT_KEY_PREFIX

    @property
    def pending(self) -> str:
        return f"{self.prefix}:sources:pending"

    @property
    def queued(self) -> str:
        """The set of source URLs pending or being crawled: the guard against queuing one source twice."""
        return f"{self.prefix}:sources:queued"

    def processing(self, worker: str) -> str:
        return f"{self.prefix}:sources:processing:{worker}"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    def worker(self, worker: str) -> str:
        """A hash describing the worker: host, pid, and the source, crawl run and crawl process it is on."""
        return f"{self.prefix}:worker:{worker}"

    def heartbeat(self, worker: str) -> str:
        return f"{self.prefix}:worker:{worker}:alive"

    def takeover(self, worker: str) -> str:
        return f"{self.prefix}:worker:{worker}:takeover"

    def requests(self, worker: str) -> str:
        """scrapy-redis's request queue of the worker's current crawl."""
        return f"{self.prefix}:worker:{worker}:requests"

    def dupefilter(self, worker: str) -> str:
        """scrapy-redis's request fingerprints of the worker's current crawl (sitemaps and the like)."""
        return f"{self.prefix}:worker:{worker}:dupefilter"

    def article_claim(self, fingerprint: str) -> str:
        return f"{self.prefix}:article-claim:{fingerprint}"

    def run_claims(self, crawl_run_id: int | str) -> str:
        return f"{self.prefix}:run:{crawl_run_id}:article-claims"


# -- the source queue --------------------------------------------------------------------------------

# Queue a source unless it is pending or being crawled; both keys change together or not at all.
_PUSH_SCRIPT = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class QueuedSource:
    """A source taken from the queue; `payload` is the exact queue entry, needed to acknowledge it."""

    url: str
    payload: str

    @classmethod
    def from_payload(cls, payload: str) -> QueuedSource:
        return cls(url=str(json.loads(payload)["url"]), payload=payload)


class SourceQueue:
    """The reliable queue of sources to crawl: pending list, one processing list per worker, a guard set."""

    def __init__(self, client: redis.Redis, keys: RedisKeys) -> None:
        self.client = client
        self.keys = keys
        self._push = client.register_script(_PUSH_SCRIPT)

    def push(self, url: str) -> bool:
        """Queue `url`; False when it is already pending or being crawled."""
        payload = json.dumps({"url": url, "queued_at": utcnow().isoformat()})
        return bool(self._push(keys=[self.keys.queued, self.keys.pending], args=[url, payload]))

    def take(self, worker: str, *, timeout: float | None) -> QueuedSource | None:
        """Move the oldest pending source into `worker`'s processing list and return it.

        Blocks up to `timeout` seconds for one (None or 0: return at once); None when there is none.
        """
        if timeout:
            payload = self.client.blmove(self.keys.pending, self.keys.processing(worker), timeout, "RIGHT", "LEFT")  # type: ignore[arg-type]
        else:
            payload = self.client.lmove(self.keys.pending, self.keys.processing(worker), "RIGHT", "LEFT")
        return QueuedSource.from_payload(cast(str, payload)) if payload else None

    def ack(self, worker: str, source: QueuedSource) -> None:
        """The source's crawl is recorded: drop it from the processing list, so it may be queued again."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.lrem(self.keys.processing(worker), 1, source.payload)
            pipe.srem(self.keys.queued, source.url)
            pipe.execute()

    def give_back(self, worker: str, source: QueuedSource) -> None:
        """Return a source that was not crawled to the front of the queue."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.lrem(self.keys.processing(worker), 1, source.payload)
            pipe.rpush(self.keys.pending, source.payload)
            pipe.execute()

    def requeue_all(self, worker: str) -> list[str]:
        """Put every source in `worker`'s processing list back to the front of the queue; return their URLs."""
        urls = []
        while payload := self.client.lmove(self.keys.processing(worker), self.keys.pending, "RIGHT", "RIGHT"):
            urls.append(QueuedSource.from_payload(cast(str, payload)).url)
        return urls

    def pending(self) -> list[str]:
        """The URLs waiting, next first."""
        return [
            QueuedSource.from_payload(p).url
            for p in reversed(cast(list[str], self.client.lrange(self.keys.pending, 0, -1)))
        ]

    def processing(self, worker: str) -> list[str]:
        payloads = cast(list[str], self.client.lrange(self.keys.processing(worker), 0, -1))
        return [QueuedSource.from_payload(p).url for p in payloads]


# -- article claims ----------------------------------------------------------------------------------

# A claim is granted when the URL is free or already held by the same crawl run (a retry or a redirect).
_CLAIM_SCRIPT = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return 1 end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""

# Delete the run's claims that it still holds (one may have expired and been taken by another run).
_RELEASE_SCRIPT = """
local released = 0
for _, fingerprint in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[2] .. fingerprint
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    released = released + 1
  end
end
redis.call('DEL', KEYS[1])
return released
"""


class ArticleClaims:
    """Article URLs (by request fingerprint) claimed by one crawl run, shared by every worker.

    A claim lasts until the run `release`s it, or `ttl` seconds at most, so a run that vanished without
    releasing cannot block a page for ever.
    """

    def __init__(self, client: redis.Redis, keys: RedisKeys, *, crawl_run_id: int, ttl: float) -> None:
        self.client = client
        self.keys = keys
        self.owner = str(crawl_run_id)
        self.ttl = max(1, int(ttl))
        self._claim = client.register_script(_CLAIM_SCRIPT)
        self._release = client.register_script(_RELEASE_SCRIPT)

    def claim(self, fingerprint: str) -> bool:
        """True when this run may fetch the page: nobody held it, or this run does already."""
        keys = [self.keys.article_claim(fingerprint), self.keys.run_claims(self.owner)]
        return bool(self._claim(keys=keys, args=[self.owner, self.ttl, fingerprint]))

    def release(self) -> int:
        """Give up every claim of this run; return how many were still held."""
        prefix = self.keys.article_claim("")
        return int(cast(int, self._release(keys=[self.keys.run_claims(self.owner)], args=[self.owner, prefix])))


def claim_ttl(limits: CrawlLimits) -> float:
    """How long an article claim may outlive its run's expected end: the run's whole time budget."""
    if limits.time_limit:
        return limits.time_limit + KILL_GRACE_SECONDS + 60.0
    return 3600.0


def redis_scrapy_settings(redis_url: str, keys: RedisKeys, worker: str, *, ttl: float) -> dict[str, Any]:
    """Scrapy settings that put a worker's crawl on scrapy-redis, with article claims shared by all workers.

    The request queue and dupefilter are the worker's own (scrapy-redis keys named after it), flushed
    when a crawl starts, since a dead predecessor's queue is re-created by crawling its source again.
    """
    return {
        "SCHEDULER": "spiders.redis_scheduler.SharedArticleScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_URL": redis_url,
        "SCHEDULER_QUEUE_KEY": keys.requests(worker),
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter(worker),
        "SCHEDULER_PERSIST": False,
        "SCHEDULER_FLUSH_ON_START": True,
        "SCALEOUT_KEY_PREFIX": keys.prefix,
        "SCALEOUT_CLAIM_TTL": ttl,
    }


# -- the scheduler's side ----------------------------------------------------------------------------


class RedisCrawlLauncher:
    """The scheduler's `CrawlLauncher` when MONITOR_REDIS_URL is set: queues sources for crawler workers.

    `launch` returns once the sources are queued; the workers record the crawl runs. Redis is first
    contacted by `launch`, which raises ScaleOutError (one line) when it cannot queue. `engine` is accepted
    for the scheduler's `make_launcher` signature and not used: the workers write the runs.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        client: redis.Redis | None = None,
    ) -> None:
        self.redis_url = require_redis_url(settings)
        self.queue = SourceQueue(client or redis_client(self.redis_url), RedisKeys(key_prefix))

    def launch(self, source_urls: Sequence[str]) -> None:
        """Queue each source unless it is already pending or being crawled; ScaleOutError if Redis fails."""
        try:
            queued = [url for url in source_urls if self.queue.push(url)]
        except redis.RedisError as exc:
            raise ScaleOutError(
                f"cannot queue crawls in Redis at {safe_redis_url(self.redis_url)}: {error_line(exc)}"
            ) from None
        skipped = len(source_urls) - len(queued)
        if queued:
            logger.info("queued for crawler workers: %s", ", ".join(queued))
        if skipped:
            logger.info("%d source(s) not queued again: still waiting or being crawled", skipped)


# -- the workers' side -------------------------------------------------------------------------------


@dataclass
class WorkerReport:
    """What one worker did before it stopped."""

    crawled: int = 0
    failed: int = 0
    dropped: int = 0  # sources that no longer exist
    recovered_workers: list[str] | None = None


class CrawlWorker:
    """Takes sources from the Redis queue and crawls them in recorded runs, until stopped.

    Each run crawls up to `batch_size` sources taken together (1: one run per source, as the scheduler
    queues them; more saves the per-run start-up when many sources are due at once). `name` must be unique
    among running workers: a worker starting under a name takes over whatever that name held (a killed
    predecessor's sources go back to the queue at once). `stop` (an Event) ends the loop after the current
    run; `on_progress` receives the crawl's progress snapshots.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        name: str | None = None,
        limits: CrawlLimits | None = None,
        batch_size: int = 1,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        client: redis.Redis | None = None,
        heartbeat_ttl: float = DEFAULT_HEARTBEAT_TTL,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.redis_url = require_redis_url(settings)
        self.client = client or connect_redis(self.redis_url)
        self.engine = engine
        self.name = name or default_worker_name()
        self.keys = RedisKeys(key_prefix)
        self.queue = SourceQueue(self.client, self.keys)
        self.limits = limits or CrawlLimits.from_settings(settings, time_limit=DEFAULT_SOURCE_TIME_LIMIT)
        self.batch_size = max(1, batch_size)
        self.on_matches = match_alert_hook(enqueue_channels(settings))
        self.heartbeat_ttl = heartbeat_ttl
        self.poll_seconds = poll_seconds
        self.on_progress = on_progress
        self.stop = stop or threading.Event()

    # -- the loop --------------------------------------------------------------------------------------

    def run(self, *, once: bool = False, max_sources: int | None = None) -> WorkerReport:
        """Crawl queued sources until `stop` is set (or the queue is empty with `once`, or after `max_sources`).

        Raises redis.RedisError when Redis is lost (the caller exits; a restart resumes the work).
        """
        report = WorkerReport()
        report.recovered_workers = self._register()
        # Runs an earlier crawl on this host left `running` (its database went away as it ended, say).
        close_orphaned_runs(self.engine)
        try:
            with self._heartbeat():
                while not self.stop.is_set() and (max_sources is None or report.crawled < max_sources):
                    report.recovered_workers += self.recover_dead_workers()
                    room = (
                        self.batch_size if max_sources is None else min(self.batch_size, max_sources - report.crawled)
                    )
                    batch = self._take_batch(room, timeout=None if once else self.poll_seconds)
                    if not batch:
                        if once:
                            break
                        continue
                    self._crawl(batch, report)
        finally:
            self._unregister()
        return report

    def _take_batch(self, size: int, *, timeout: float | None) -> list[QueuedSource]:
        """Up to `size` sources: the first waited for up to `timeout`, the others only if queued already."""
        first = self.queue.take(self.name, timeout=timeout)
        if first is None:
            return []
        batch = [first]
        while len(batch) < size and (more := self.queue.take(self.name, timeout=None)) is not None:
            batch.append(more)
        return batch

    def _crawl(self, batch: list[QueuedSource], report: WorkerReport) -> None:
        urls = [source.url for source in batch]
        self._describe(sources=" ".join(urls), crawl_run_id="", crawl_pid="")
        try:
            summary = self.crawl_sources(urls)
        except InputError as exc:
            # A source was removed after it was queued: the others are queued again by the next tick.
            logger.warning("not crawled %s: %s", ", ".join(urls), exc)
            self._ack(batch)
            report.dropped += len(batch)
            return
        except SQLAlchemyError as exc:
            logger.error("database error before crawling %s, queued again: %s", ", ".join(urls), error_line(exc))
            for source in batch:
                self.queue.give_back(self.name, source)
            self.stop.wait(DATABASE_RETRY_SECONDS)
            return
        self._ack(batch)
        report.crawled += len(batch)
        report.failed += summary.status == CrawlStatus.failed
        logger.info(
            "crawl run %d of %s: %s; %d pages, %d new articles, %d errors%s",
            summary.crawl_run_id,
            ", ".join(urls),
            summary.status,
            summary.report.pages_fetched,
            summary.report.articles.get("new", 0),
            len(summary.report.errors),
            f" ({summary.error})" if summary.error else "",
        )

    def _ack(self, batch: list[QueuedSource]) -> None:
        for source in batch:
            self.queue.ack(self.name, source)
        self._describe(sources="", crawl_run_id="", crawl_pid="")

    def crawl_sources(self, urls: Sequence[str]) -> CrawlSummary:
        """One recorded crawl run of `urls` on scrapy-redis; InputError when one of them is not stored."""
        shared = redis_scrapy_settings(self.redis_url, self.keys, self.name, ttl=claim_ttl(self.limits))
        limits = replace(self.limits, extra_settings={**self.limits.extra_settings, **shared})
        running = start_crawl(self.engine, source_urls=urls, limits=limits, on_matches=self.on_matches)
        self._describe(crawl_run_id=str(running.crawl_run_id), crawl_pid=str(running.pid or ""))
        try:
            return running.wait(self.on_progress)
        finally:
            self._release_claims(running.crawl_run_id)

    # -- liveness and recovery -------------------------------------------------------------------------

    def _register(self) -> list[str]:
        """Announce this worker; take over what an earlier worker of the same name left unfinished."""
        recovered = []
        if self.client.sismember(self.keys.workers, self.name) or self.client.exists(self.keys.processing(self.name)):
            self._take_over(self.name, reason=f"the crawler worker {self.name} was restarted during this run")
            recovered.append(self.name)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.sadd(self.keys.workers, self.name)
            pipe.hset(self.keys.worker(self.name), mapping={"host": socket.gethostname(), "pid": os.getpid()})
            pipe.set(self.keys.heartbeat(self.name), "1", px=int(self.heartbeat_ttl * 1000))
            pipe.execute()
        return recovered

    def _unregister(self) -> None:
        """Leave cleanly: anything still in the processing list (an interrupted crawl) goes back to the queue."""
        with contextlib.suppress(redis.RedisError):
            info = cast(dict[str, str], self.client.hgetall(self.keys.worker(self.name)))
            if info.get("crawl_run_id"):
                self._release_claims(int(info["crawl_run_id"]))
            self.queue.requeue_all(self.name)
            self.client.delete(
                self.keys.worker(self.name),
                self.keys.heartbeat(self.name),
                self.keys.requests(self.name),
                self.keys.dupefilter(self.name),
            )
            self.client.srem(self.keys.workers, self.name)

    @contextlib.contextmanager
    def _heartbeat(self) -> Iterator[None]:
        """Refresh this worker's heartbeat in a thread while the body runs (crawls block the main thread)."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.heartbeat_ttl / 3):
                try:
                    self.client.set(self.keys.heartbeat(self.name), "1", px=int(self.heartbeat_ttl * 1000))
                except redis.RedisError as exc:  # the main loop notices a lasting outage and exits
                    logger.warning("cannot refresh the heartbeat of worker %s: %s", self.name, error_line(exc))

        thread = threading.Thread(target=beat, name=f"heartbeat-{self.name}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def recover_dead_workers(self) -> list[str]:
        """Take over every registered worker whose heartbeat has expired; return their names."""
        recovered = []
        for worker in sorted(cast(set[str], self.client.smembers(self.keys.workers))):
            if worker == self.name or self.client.exists(self.keys.heartbeat(worker)):
                continue
            # Only one live worker takes over a dead one.
            if not self.client.set(self.keys.takeover(worker), self.name, nx=True, ex=60):
                continue
            self._take_over(worker, reason=f"the crawler worker {worker} stopped responding during this run")
            recovered.append(worker)
        return recovered

    def _take_over(self, worker: str, *, reason: str) -> None:
        """Record `worker`'s current run as failed, release its claims, queue its sources again, forget it."""
        info = cast(dict[str, str], self.client.hgetall(self.keys.worker(worker)))
        if info.get("crawl_run_id"):
            run_id = int(info["crawl_run_id"])
            fail_crawl_run(self.engine, run_id, reason=reason)
            self._release_claims(run_id)
        requeued = self.queue.requeue_all(worker)
        self.client.delete(
            self.keys.worker(worker),
            self.keys.heartbeat(worker),
            self.keys.requests(worker),
            self.keys.dupefilter(worker),
            self.keys.takeover(worker),
        )
        self.client.srem(self.keys.workers, worker)
        if requeued:
            logger.warning("queued again after %s: %s", reason, ", ".join(requeued))

    def _release_claims(self, crawl_run_id: int) -> None:
        ArticleClaims(self.client, self.keys, crawl_run_id=crawl_run_id, ttl=1).release()

    def _describe(self, **fields: str) -> None:
        self.client.hset(self.keys.worker(self.name), mapping=fields)  # type: ignore[arg-type]

    def describe(self) -> dict[str, str]:
        """What this worker is doing, as other workers (and tests) see it in Redis."""
        return cast(dict[str, str], self.client.hgetall(self.keys.worker(self.name)))


def default_worker_name() -> str:
    """Host name and process id: unique per running worker (and stable across restarts in a container)."""
    return f"{socket.gethostname()}-{os.getpid()}"
