"""How a crawl is started, as the scheduler sees it.

- `CrawlLauncher`: the protocol. `launch` blocks until the crawl is recorded (local crawling) or returns
  once it is queued (scale-out); `ManagedCrawlLauncher` also recovers and stops the crawls it owns.
- `CrawlerLauncher` (the embedded default): one crawler process that stays up beside the service
  (`monitor.crawling.runs.StayingCrawler`); `launch` opens each source's pass (its `CrawlRun` row) and hands
  it to the running spider, then returns: a slow source never holds up the scheduler or another source.
- `LocalCrawlLauncher`: a Scrapy child process per run here (`monitor.crawling.runs.start_crawl`), with a
  time limit, and `launch` waiting for its end (the demo, and tests of one whole run).
- `monitor.crawling.scaleout.RedisCrawlLauncher`: hands the passes to `monitor crawler` workers via Redis.

`make_launcher` picks one from the settings.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from sqlalchemy.engine import Engine

from alerts.outbox import enqueue_channels, match_alert_hook
from monitor.config import Settings
from monitor.crawling.runs import (
    CrawlLimits,
    PassFinished,
    RunningCrawl,
    StayingCrawler,
    fail_running_crawl_runs,
    open_pass,
    start_crawl,
)
from monitor.errors import MonitorError
from monitor.ingest.model import MatchHook
from monitor.storage.models import CrawlStatus, utcnow

logger = logging.getLogger(__name__)

DEFAULT_CRAWL_TIME_LIMIT = 15 * 60.0  # seconds; a run still going after this is stopped (and killed if it hangs)
INTERRUPTED_RUN = "interrupted: the service stopped before this run ended (found at the next start)"


class CrawlLauncher(Protocol):
    """Starts the crawl of some sources.

    `launch` blocks until the crawl has ended and is recorded (local crawling), or returns once the crawl
    is queued for workers elsewhere (the Redis path). It raises when the crawl could not be started or
    failed; the failure is then already recorded in the run's `CrawlRun` row where one was made.
    """

    def launch(self, source_urls: Sequence[str]) -> None: ...


@runtime_checkable
class ManagedCrawlLauncher(CrawlLauncher, Protocol):
    """A launcher that owns crawls in this process, so the service recovers and stops them."""

    def recover_interrupted_runs(self) -> int:
        """Record runs a killed earlier service left `running`; return how many."""
        ...

    def stop(self, grace: float) -> None:
        """Refuse new crawls; let running ones end within `grace` seconds, then kill them. All are recorded."""
        ...

    def running_run_ids(self) -> set[int]:
        """The runs this launcher is following (and will record) now."""
        ...


class CrawlFailedError(MonitorError):
    """A crawl ran and failed; its `CrawlRun` row holds the reason."""


class CrawlerLauncher:
    """Hands each due source's pass to the one crawler process that stays up here, and returns at once.

    The crawler records each pass; `on_finished(crawl_run_id, status)` is called when it has (the service
    wakes the outbox then). A source whose previous pass is still under way is not handed over again.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        limits: CrawlLimits,
        on_matches: MatchHook | None,
        on_finished: PassFinished | None = None,
    ) -> None:
        self.engine = engine
        self.on_finished = on_finished
        self.crawler = StayingCrawler(engine, limits=limits, on_matches=on_matches, on_finished=self._finished)
        self._stopping = False

    def launch(self, source_urls: Sequence[str], *, every_seconds: float | None = None) -> None:
        if self._stopping:
            logger.info("crawl of %s not started: the service is stopping", ", ".join(source_urls))
            return
        for url in source_urls:
            assignment = open_pass(self.engine, url, every_seconds=every_seconds)
            if assignment is None:
                logger.info("%s: its previous pass is still under way (or it is paused); not handed over", url)
                continue
            self.crawler.assign(assignment)

    def _finished(self, crawl_run_id: int, status: str) -> None:
        logger.info("crawl run %d: %s", crawl_run_id, status)
        if self.on_finished is not None:
            self.on_finished(crawl_run_id, status)

    def running_run_ids(self) -> set[int]:
        return self.crawler.active()

    def recover_interrupted_runs(self) -> int:
        """Mark runs left `running` as failed: at start-up this launcher's crawler has none yet."""
        return fail_running_crawl_runs(self.engine, reason=INTERRUPTED_RUN, now=utcnow())

    def stop(self, grace: float) -> None:
        self._stopping = True
        self.crawler.stop(grace)


class LocalCrawlLauncher:
    """Crawls in a child process of this one (`monitor.crawling.runs.start_crawl`) and waits for the recorded end.

    The run's time limit closes the spider gracefully; a child still alive 30 s later is killed and the
    run recorded as failed. `on_matches` writes the alert outbox rows in the transaction of the matches.
    """

    def __init__(self, engine: Engine, *, limits: CrawlLimits, on_matches: MatchHook | None) -> None:
        self.engine = engine
        self.limits = limits
        self.on_matches = on_matches
        self._running: dict[int, RunningCrawl] = {}
        self._stopping = False
        self._changed = threading.Condition()

    def launch(self, source_urls: Sequence[str]) -> None:
        with self._changed:
            if self._stopping:
                logger.info("crawl of %s not started: the service is stopping", ", ".join(source_urls))
                return
            # Under the lock, so `stop` either sees this crawl registered or prevents it from starting.
            running = start_crawl(self.engine, source_urls=source_urls, limits=self.limits, on_matches=self.on_matches)
            self._running[running.crawl_run_id] = running
        try:
            summary = running.wait()
        finally:
            with self._changed:
                self._running.pop(running.crawl_run_id, None)
                self._changed.notify_all()
        report = summary.report
        logger.info(
            "crawl run %d of %s: %s; %d pages, %d new articles, %d matches",
            summary.crawl_run_id,
            ", ".join(summary.sources),
            summary.status,
            report.pages_fetched,
            report.articles.get("new", 0),
            sum(report.matches.values()),
        )
        if summary.status == CrawlStatus.failed:
            raise CrawlFailedError(f"crawl run {summary.crawl_run_id} failed: {summary.error}")

    @property
    def running_count(self) -> int:
        with self._changed:
            return len(self._running)

    def running_run_ids(self) -> set[int]:
        with self._changed:
            return set(self._running)

    def recover_interrupted_runs(self) -> int:
        """Mark runs left `running` as failed: at start-up no crawl of this launcher can be running yet.

        Their alert rows were held back while the run seemed to go on; this releases them.
        """
        return fail_running_crawl_runs(self.engine, reason=INTERRUPTED_RUN, now=utcnow())

    def stop(self, grace: float) -> None:
        """Ask every running crawl to finish (SIGTERM: Scrapy closes the spider and reports), then kill.

        Returns once every crawl this launcher started has been recorded (bounded by `grace` plus the
        time a killed child takes to be reaped and recorded).
        """
        with self._changed:
            self._stopping = True
            running = list(self._running.values())
        for crawl in running:
            _ask_to_finish(crawl)
        with self._changed:
            if self._changed.wait_for(lambda: not self._running, timeout=grace):
                return
            remaining = list(self._running.values())
        for crawl in remaining:
            crawl.kill("stopped: the service shut down before the crawl finished")
        with self._changed:
            if not self._changed.wait_for(lambda: not self._running, timeout=30.0):
                logger.error("%d crawl(s) were not recorded after they were killed", len(self._running))


def _ask_to_finish(crawl: RunningCrawl) -> None:
    # SIGTERM to the Scrapy process alone (not its group): Scrapy closes the spider gracefully, its item
    # pipeline drains the article worker, and the child sends its report, so the run is recorded as
    # finished (with finish_reason "shutdown") and nothing fetched is lost.
    if crawl.pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(crawl.pid, signal.SIGTERM)


def make_launcher(settings: Settings, engine: Engine, *, limits: CrawlLimits | None = None) -> CrawlLauncher:
    """Redis-fed crawler workers when MONITOR_REDIS_URL is set, else one crawler that stays up here."""
    if settings.redis_url:
        from monitor.crawling.scaleout import RedisCrawlLauncher

        launcher: CrawlLauncher = RedisCrawlLauncher(
            settings, engine, time_limit=(limits.time_limit if limits else None)
        )
        return launcher
    return CrawlerLauncher(
        engine,
        limits=limits or CrawlLimits.from_settings(settings, time_limit=DEFAULT_CRAWL_TIME_LIMIT),
        on_matches=match_alert_hook(enqueue_channels(settings)),
    )
