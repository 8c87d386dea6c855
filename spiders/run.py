"""The crawl's child process: runs Scrapy for one `CrawlJob` and sends progress and the report back.

Twisted's reactor cannot be restarted in one process, so a crawl gets a fresh process
(`monitor.crawling.runs` starts it with multiprocessing's `spawn`).

- A one-shot job (`monitor crawl`): messages on the connection are `("progress", snapshot)`, then exactly
  one of `("report", report_dict)` or `("failed", reason)`.
- A crawler that stays up (`job.feed`): one Scrapy spider kept open for the life of the process, so
  start-up, imports and the matcher's set-up are paid once. With `"pipe"` it reads `("assign",
  assignment_json)` and `("stop", None)` from the connection and sends `("finished", crawl_run_id,
  status)` once it has recorded a pass; with `"redis"` it takes its passes from Redis
  (`spiders.redis_scheduler`) and shares scrapy-redis's request queue and duplicate filter with the other
  workers. Either way it records each pass in the database itself (`monitor.crawling.runs.record_run`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy.engine import Engine

from monitor.crawling.job import Assignment, CrawlJob, CrawlLimits, CrawlReport
from monitor.crawling.records import record_run
from monitor.errors import error_line
from monitor.storage.engine import make_engine
from spiders.known_urls import FetchedUrlRecorder, KnownUrlLookup
from spiders.lifetime import die_with_parent
from spiders.tally import CrawlTally, ProgressCallback


class OneLineErrors(logging.Filter):
    """Keeps a log record's message and drops its stack trace.

    Scrapy's robots.txt middleware logs every unreachable host (offline: every source) with a full
    traceback; the crawl already records that failure per source, with its address and reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


# Loggers whose errors the crawl report states already, so their tracebacks are noise on a console.
ONE_LINE_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt",)


def scrapy_settings(limits: CrawlLimits) -> Any:
    """The project settings (`spiders.settings`) with the run's limits applied on top."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    overrides: dict[str, Any] = {
        "DOWNLOAD_TIMEOUT": limits.download_timeout,
        "RETRY_TIMES": limits.retry_times,
        "RETRY_BACKOFF_BASE": limits.backoff_base,
        "RETRY_BACKOFF_MAX": limits.backoff_max,
        "RETRY_AFTER_MAX": limits.retry_after_max,
        "DOWNLOAD_MAXSIZE": limits.max_page_bytes,
        "DOWNLOAD_WARNSIZE": min(limits.max_page_bytes, 2 * 1024 * 1024),
        "CONCURRENT_REQUESTS_PER_DOMAIN": limits.concurrent_per_domain,
        "AUTOTHROTTLE_START_DELAY": limits.autothrottle_start_delay,
        "CLOSESPIDER_TIMEOUT": limits.time_limit or 0,
        "CRAWL_ALLOWED_NETWORKS": list(limits.allowed_networks),
        "CRAWL_MAX_ITEMS_PER_SOURCE": limits.max_items_per_source,
        **limits.extra_settings,
    }
    settings.setdict(overrides, priority="cmdline")
    return settings


def crawl(
    job: CrawlJob, *, progress: ProgressCallback | None = None, connection: Connection | None = None
) -> CrawlReport:
    """Run the job's crawl to its end in this process (once per process) and return its report."""
    from scrapy.crawler import CrawlerProcess

    from spiders.spiders.news import NewsSpider, SourceFeed

    tally = CrawlTally(progress=progress, progress_every=job.limits.progress_every)
    engine = make_engine(job.database_url)
    settings = scrapy_settings(job.limits)
    feed: SourceFeed | None = None
    if job.feed == "pipe":
        assert connection is not None
        feed = PipeFeed(connection, engine, job.limits)
    elif job.feed == "redis":
        from spiders.redis_scheduler import RedisFeed, redis_scrapy_settings

        assert job.redis_url is not None and job.redis_prefix is not None
        settings.setdict(redis_scrapy_settings(job.redis_url, job.redis_prefix), priority="cmdline")
        feed = RedisFeed(job.redis_url, job.redis_prefix, engine, job.limits)
    process = CrawlerProcess(settings)
    for name in ONE_LINE_LOGGERS:
        logging.getLogger(name).addFilter(OneLineErrors())
    crawler = process.create_crawler(NewsSpider)
    stored_urls = KnownUrlLookup(engine)
    process.crawl(crawler, job=job, tally=tally, stored_urls=stored_urls, fetched=FetchedUrlRecorder(engine), feed=feed)
    process.start()
    engine.dispose()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    tally.report.finish_reason = str(stats.get("finish_reason") or "finished")
    tally.report.time_limit = job.limits.time_limit
    return tally.report


def run_crawl_job(job: CrawlJob, connection: Connection) -> None:
    """Entry point of the child process: crawl, then send the report (or the reason it failed)."""
    # A process group of its own, so the parent can stop this process and its article workers together.
    os.setpgid(0, 0)
    # A parent killed outright cannot stop the group: the kernel's signal on its death does.
    die_with_parent()
    try:
        report = crawl(job, progress=lambda snapshot: connection.send(("progress", snapshot)), connection=connection)
        if job.feed is None:
            connection.send(("report", report.to_message()))
    except Exception as exc:
        logging.getLogger(__name__).exception("the crawl failed")
        connection.send(("failed", error_line(exc, with_type=True, limit=300)))
        raise SystemExit(1) from None
    finally:
        connection.close()


class PipeFeed:
    """The passes of the embedded service's crawler: handed over the connection, recorded here.

    A pass still going after the time limit is recorded as partial; what it fetches later is still
    stored, but no longer counted in it.
    """

    def __init__(self, connection: Connection, engine: Engine, limits: CrawlLimits) -> None:
        self.connection = connection
        self.engine = engine
        self.limits = limits
        self._passes: dict[int, tuple[Assignment, CrawlTally, float]] = {}
        self._stopping = False

    def take(self) -> list[Assignment] | None:
        if self._stopping:
            return None
        taken = []
        try:
            while self.connection.poll(0):
                kind, payload = self.connection.recv()
                if kind == "assign":
                    taken.append(Assignment.from_json(payload))
                elif kind == "stop":
                    self._stopping = True
                    break
        except (EOFError, OSError):  # the service is gone: finish what is under way, then stop
            self._stopping = True
        return taken

    def tally(self, assignment: Assignment) -> CrawlTally:
        tally = CrawlTally(progress_every=self.limits.progress_every)
        self._passes[assignment.crawl_run_id] = (assignment, tally, time.monotonic())
        return tally

    def tally_of(self, crawl_run_id: int) -> CrawlTally:
        found = self._passes.get(crawl_run_id)
        # A pass recorded already (its time limit): what still arrives for it is counted nowhere.
        return found[1] if found is not None else CrawlTally()

    def overdue(self) -> list[int]:
        limit = self.limits.time_limit
        if not limit:
            return []
        now = time.monotonic()
        return [run_id for run_id, (_, _, started) in self._passes.items() if now - started > limit]

    def page_read(self, url: str) -> None:
        """Nothing to do: one crawler's own duplicate filter already keeps every page it requested."""

    def finished(self, crawl_run_id: int, *, finish_reason: str) -> None:
        found = self._passes.pop(crawl_run_id, None)
        if found is None:
            return
        assignment, tally, _ = found
        status = finish_pass(self.engine, assignment, tally, finish_reason, self.limits)
        with contextlib.suppress(OSError):
            self.connection.send(("finished", crawl_run_id, status))

    def close(self, reason: str) -> None:
        for run_id in list(self._passes):
            self.finished(run_id, finish_reason=reason if reason != "finished" else "shutdown")


def finish_pass(
    engine: Engine, assignment: Assignment, tally: CrawlTally, finish_reason: str, limits: CrawlLimits
) -> str:
    """Record one source's pass from its tally; returns the run's status."""
    report = tally.report
    report.finish_reason = finish_reason
    report.time_limit = limits.time_limit
    if finish_reason != "finished":
        report.left_articles = max(0, tally.outstanding)
        outcome = report.sources.get(assignment.source.id)
        report.left_sources = (
            1 if outcome is None or (outcome.pages == 0 and outcome.status == "ok" and not outcome.error) else 0
        )
    try:
        status, _ = record_run(engine, assignment.crawl_run_id, [assignment.source], report, None, only_if_running=True)
    except Exception:
        logging.getLogger(__name__).exception("could not record crawl run %d", assignment.crawl_run_id)
        return "failed"
    return str(status)
