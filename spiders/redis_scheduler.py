"""Scale-out on scrapy-redis: the passes a worker takes from Redis, counted in Redis, and the shared settings.

Every `monitor crawler` worker runs one `NewsSpider` that stays open (the shape of scrapy-redis's
`RedisSpider`: it asks Redis for work when idle, and every `FEED_POLL_SECONDS` besides). Its requests go
through scrapy-redis's scheduler into one request queue and one duplicate filter shared by all workers
(`SCHEDULER_PERSIST`, keys named after the deployment, not the worker, never flushed at start): a feed's
article requests are fetched by whichever worker is free, and the requests a killed worker left queued
are taken by the others.

What scrapy-redis does not do, and how it is done here:

- A source's pass spans workers, so its count cannot live in one process: `RedisTally` keeps it in a Redis
  hash (HINCRBY, one command per event, no scripts), with the number of its requests and articles still
  under way; the worker that ends the last one records the pass (`monitor.crawling.records.record_run`).
- scrapy-redis pops a request destructively: one a worker had in flight when it was SIGKILLed is gone
  from Redis. Its pass then never reaches 0 and is closed as failed by the scheduler once past its time
  limit (`monitor.crawling.scaleout.RedisCrawlLauncher.close_overdue_runs`); the articles it had not stored
  are found again by the source's next pass (the database, not Redis, remembers what was stored). No
  heartbeats: a pass's time limit is the only clock.
- scrapy-redis's duplicate filter keeps a fingerprint for ever; here it means "requested by a pass still
  under way" (`PassDupeFilter`): no worker requests an article page that another pass is fetching, and the
  fingerprints a pass added are released when it is recorded or closed, so a page that failed, or that a
  killed worker never fetched, is requested again by a later pass. A page a pass read is dropped for an
  hour more (`READ_PAGE_MEMORY`), until the database, which remembers what was stored, surely knows it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections import Counter
from typing import Any, cast

import redis
from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.crawling.job import Assignment, CrawlLimits, CrawlReport, SourceOutcome
from monitor.crawling.records import record_run
from monitor.crawling.redis_keys import RedisKeys, release_fingerprints
from monitor.crawling.stale_runs import record_crawl_process
from monitor.ingest.model import IngestResult
from spiders.spiders.news import RUN_META, SHARED_DUPEFILTER_SETTING
from spiders.tally import short_reason

logger = logging.getLogger(__name__)

# Passes a worker takes at once when it asks for work.
TAKE_BATCH = 8
# A pass's keys outlive it at most this long (a pass nobody finished is closed by the scheduler long before).
RUN_KEY_TTL = 2 * 24 * 3600
# An article page a pass fetched and read is dropped by the shared filter this long after, whichever pass
# requests it: another source's pass may have found the link before the page was stored, and enqueue it
# after the first pass ended and released its fingerprints. The database remembers such pages (stored, or
# in the fetch log) from then on; a page that failed is not kept, and a later pass requests it again.
READ_PAGE_MEMORY = 3600.0


def redis_scrapy_settings(redis_url: str, prefix: str) -> dict[str, Any]:
    """Scrapy settings putting a worker's requests on scrapy-redis, shared by every worker of `prefix`."""
    keys = RedisKeys(prefix)
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "spiders.redis_scheduler.PassDupeFilter",
        "REDIS_URL": redis_url,
        "SCHEDULER_QUEUE_KEY": keys.requests,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        # Shared and kept: a worker that stops (or is killed) leaves the queue to the others.
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_FLUSH_ON_START": False,
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
        SHARED_DUPEFILTER_SETTING: True,
    }


class PassDupeFilter(RFPDupeFilter):
    """scrapy-redis's shared duplicate filter, noting which pass added each fingerprint (to release them),
    and dropping as well a page that a pass fetched and read in the last `READ_PAGE_MEMORY` seconds."""

    def request_seen(self, request: Request) -> bool:
        fingerprint = self.request_fingerprint(request)
        run = request.meta.get(RUN_META)
        fingerprints = f"{self.key}:pass:{run}"  # RedisKeys.pass_fingerprints
        with self.server.pipeline(transaction=True) as pipe:
            pipe.sadd(self.key, fingerprint)
            pipe.zscore(f"{self.key}:read", fingerprint)  # RedisKeys.read_pages
            if run is not None:
                pipe.sadd(fingerprints, fingerprint)
                pipe.expire(fingerprints, RUN_KEY_TTL)
            replies = pipe.execute()
        added, read_at = replies[:2]
        if run is not None and added == 0 and replies[2] == 1:
            # Another pass holds this page: it is not this pass's to release. Left in this pass's set, its
            # release at this pass's end would free the page while the other pass is still fetching it, and
            # a third pass would fetch it again (seen in CI: three sources listing one article). Taken back
            # in a second step, so a worker dying in between costs at worst a second fetch, never a page.
            self.server.srem(fingerprints, fingerprint)
        recently_read = read_at is not None and time.time() - float(read_at) < READ_PAGE_MEMORY
        return bool(added == 0) or recently_read


def release_pass(client: redis.Redis, keys: RedisKeys, crawl_run_id: int) -> int:
    """Drop the fingerprints a pass added from the shared filter (it has ended); return how many."""
    return release_fingerprints(client, keys, crawl_run_id)


class RedisTally:
    """The count of one pass in Redis, shared by every worker that fetches a page of it (see `Tally`)."""

    def __init__(self, client: redis.Redis, keys: RedisKeys, crawl_run_id: int) -> None:
        self.client = client
        self.key = keys.run(crawl_run_id)
        self.errors_key = keys.run_errors(crawl_run_id)

    def _add(self, field: str, count: int = 1) -> None:
        if count:
            self.client.hincrby(self.key, field, count)

    def _set(self, **fields: str | None) -> None:
        values = {name: value for name, value in fields.items() if value is not None}
        if values:
            self.client.hset(self.key, mapping=values)  # type: ignore[arg-type]

    def open(self, assignment: Assignment) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(self.key, mapping={"assignment": json.dumps(assignment.to_json())})
            pipe.expire(self.key, RUN_KEY_TTL)
            pipe.execute()

    def source_started(self, source_id: int) -> None:
        pass

    def page_fetched(self, source_id: int | None = None) -> None:
        self._add("pages")

    def source_answered(
        self, source_id: int, *, status: str | None, etag: str | None, last_modified: str | None
    ) -> None:
        self._set(status=status, etag=etag, last_modified=last_modified)

    def found(self, source_id: int, count: int) -> None:
        self._add("found", count)

    def skipped_known(self, count: int) -> None:
        self._add("a:skipped_known", count)

    def left_for_later(self, source_id: int, count: int) -> None:
        self._add("left_for_later", count)

    def article(self, result: IngestResult, source_id: int | None = None) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hincrby(self.key, f"a:{result.outcome.value}", 1)
            if result.claims:
                pipe.hincrby(self.key, "claims", result.claims)
            for verdict, count in Counter(result.verdicts).items():
                pipe.hincrby(self.key, f"m:{verdict}", count)
            pipe.execute()

    def error(
        self,
        *,
        source_id: int | None,
        source_url: str,
        url: str,
        reason: str,
        transient: bool = False,
        source_failed: bool = False,
    ) -> None:
        reason = short_reason(reason)
        with self.client.pipeline(transaction=False) as pipe:
            pipe.rpush(self.errors_key, json.dumps({"source": source_url, "url": url, "reason": reason}))
            pipe.expire(self.errors_key, RUN_KEY_TTL)
            if source_failed:
                pipe.hset(self.key, mapping={"status": "failed", "error": reason})
            else:
                pipe.hincrby(self.key, "article_errors", 1)
            if transient:
                pipe.hincrby(self.key, "transient", 1)
            pipe.execute()

    def started(self, count: int = 1) -> None:
        self._add("pending", count)

    def ended(self) -> bool:
        return int(cast(int, self.client.hincrby(self.key, "pending", -1))) == 0

    def assignment(self) -> Assignment | None:
        raw = self.client.hget(self.key, "assignment")
        return Assignment.from_json(json.loads(raw)) if raw else None

    def report(self, source_id: int) -> CrawlReport:
        values = cast(dict[str, str], self.client.hgetall(self.key))
        errors = [json.loads(raw) for raw in cast(list[str], self.client.lrange(self.errors_key, 0, -1))]
        number = lambda name: int(values.get(name, 0))  # noqa: E731
        outcome = SourceOutcome(
            status=values.get("status", "ok"),
            error=values.get("error"),
            etag=values.get("etag"),
            last_modified=values.get("last_modified"),
            transient_errors=number("transient"),
            article_errors=number("article_errors"),
            articles_found=number("found"),
            left_for_later=number("left_for_later"),
            pages=number("pages"),
            new_articles=number("a:new"),
        )
        return CrawlReport(
            pages_fetched=number("pages"),
            articles=Counter({name[2:]: int(v) for name, v in values.items() if name.startswith("a:")}),
            claims=number("claims"),
            matches=Counter({name[2:]: int(v) for name, v in values.items() if name.startswith("m:")}),
            errors=errors,
            sources={source_id: outcome},
        )

    def delete(self) -> None:
        self.client.delete(self.key, self.errors_key)


class RedisFeed:
    """A worker's `SourceFeed`: passes from the scheduler's list in Redis, counted and recorded together."""

    def __init__(self, redis_url: str, prefix: str, engine: Engine, limits: CrawlLimits) -> None:
        self.client = redis.Redis.from_url(
            redis_url, decode_responses=True, socket_connect_timeout=5, socket_timeout=30
        )
        self.keys = RedisKeys(prefix)
        self.engine = engine
        self.limits = limits
        self.host = socket.gethostname()
        self._filter = PassDupeFilter(self.client, self.keys.dupefilter)  # for its fingerprints

    def take(self) -> list[Assignment] | None:
        raw = cast(list[str] | None, self.client.rpop(self.keys.sources, TAKE_BATCH)) or []
        taken = [Assignment.from_json(json.loads(entry)) for entry in raw]
        for assignment in taken:
            try:
                record_crawl_process(self.engine, assignment.crawl_run_id, pid=os.getpid(), host=self.host)
            except SQLAlchemyError as exc:
                logger.warning("could not note the worker of crawl run %d: %s", assignment.crawl_run_id, exc)
        return taken

    def tally(self, assignment: Assignment) -> RedisTally:
        tally = RedisTally(self.client, self.keys, assignment.crawl_run_id)
        tally.open(assignment)
        self.client.sadd(self.keys.open_passes, assignment.crawl_run_id)
        return tally

    def tally_of(self, crawl_run_id: int) -> RedisTally:
        return RedisTally(self.client, self.keys, crawl_run_id)

    def page_read(self, url: str) -> None:
        """The shared filter drops the article page requested at `url` for `READ_PAGE_MEMORY` more, after
        the pass that read it has released its fingerprints (see `PassDupeFilter`)."""
        fingerprint = self._filter.request_fingerprint(Request(url))
        now = time.time()
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zadd(self.keys.read_pages, {fingerprint: now})
            pipe.zremrangebyscore(self.keys.read_pages, "-inf", now - READ_PAGE_MEMORY)
            pipe.execute()

    def overdue(self) -> list[int]:
        return []  # the scheduler closes passes past their time limit, whichever worker had them

    def finished(self, crawl_run_id: int, *, finish_reason: str) -> None:
        # Only one worker records a pass: the first to claim it here.
        if not self.client.set(self.keys.finished(crawl_run_id), "1", nx=True, ex=RUN_KEY_TTL):
            return
        tally = self.tally_of(crawl_run_id)
        assignment = tally.assignment()
        if assignment is None:
            logger.warning("crawl run %d ended but its count is gone from Redis", crawl_run_id)
            return
        report = tally.report(assignment.source.id)
        report.finish_reason = finish_reason
        report.time_limit = self.limits.time_limit
        try:
            record_run(self.engine, crawl_run_id, [assignment.source], report, None, only_if_running=True)
        except SQLAlchemyError:
            logger.exception("could not record crawl run %d", crawl_run_id)
            self.client.delete(self.keys.finished(crawl_run_id))
            return
        tally.delete()
        release_pass(self.client, self.keys, crawl_run_id)
        logger.info("crawl run %d of %s recorded", crawl_run_id, assignment.source.url)

    def close(self, reason: str) -> None:
        """This worker stops; the passes it worked on stay in Redis for the others to finish."""
        self.client.close()
