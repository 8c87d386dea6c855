"""One crawl run: the `CrawlRun` row, Scrapy in a child process, statistics and per-source state.

Twisted's reactor cannot restart, so Scrapy runs in a fresh child process each time (multiprocessing
`spawn`). The child stores articles itself (through `monitor.ingest.pipeline`) and sends progress and a final
report over a pipe; this side records the report in the run's row and updates every source's crawl state
(status, error, conditional-GET validators). A child that crashes or is killed leaves a `failed` row with
the reason, and the caller carries on.

    summary = run_crawl(engine, source_urls=None, limits=CrawlLimits(time_limit=600))
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from multiprocessing.connection import Connection, wait
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from monitor.catalog.sources import get_source, list_sources
from monitor.crawling.job import Assignment, CrawlJob, CrawlLimits, CrawlReport, SourceSpec
from monitor.crawling.records import record_run
from monitor.crawling.stale_runs import record_crawl_process
from monitor.errors import InputError
from monitor.ingest.model import MatchHook
from monitor.storage.engine import session_scope
from monitor.storage.models import CrawlRun, CrawlStatus, Source, utcnow

__all__ = [
    "CrawlLimits",
    "CrawlSummary",
    "RunningCrawl",
    "fail_crawl_run",
    "fail_running_crawl_runs",
    "run_crawl",
    "start_crawl",
]

ProgressCallback = Callable[[dict[str, Any]], None]
logger = logging.getLogger(__name__)

# Beyond its own time limit (which closes the spider gracefully), a child gets this long before it is killed.
KILL_GRACE_SECONDS = 30.0
# Sitemap `lastmod` values are compared with the last successful crawl minus this, for servers' clock skew.
LASTMOD_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class CrawlSummary:
    """The outcome of one run; `report` is empty (but for progress) when the child failed."""

    crawl_run_id: int
    status: str
    report: CrawlReport
    error: str | None
    sources: tuple[str, ...]


def select_sources(session: Session, urls: Sequence[str] | None = None) -> list[Source]:
    """The given sources (InputError for one that is not stored), or every enabled source."""
    if not urls:
        return list_sources(session, enabled_only=True)
    chosen: list[Source] = []
    for url in urls:
        row = get_source(session, url=url)
        if row not in chosen:
            chosen.append(row)
    return chosen


def _spec(source: Source) -> SourceSpec:
    assert source.id is not None
    recent = source.last_status in ("ok", "not_modified") and source.last_crawled_at is not None
    return SourceSpec(
        id=source.id,
        url=source.url,
        kind=source.kind,
        outlet=source.outlet,
        language=source.language,
        etag=source.etag,
        last_modified=source.last_modified,
        since=source.last_crawled_at - LASTMOD_MARGIN if recent and source.last_crawled_at else None,
    )


class RunningCrawl:
    """A crawl whose child process is running; `wait` follows it to the end and records the outcome."""

    def __init__(self, engine: Engine, job: CrawlJob, process: Any, connection: Connection) -> None:
        self.engine = engine
        self.job = job
        self._process = process
        self._connection = connection
        self._started = time.monotonic()
        self._stop_reason: str | None = None
        self.last_progress: dict[str, Any] = {}

    @property
    def crawl_run_id(self) -> int:
        assert self.job.crawl_run_id is not None
        return self.job.crawl_run_id

    @property
    def pid(self) -> int | None:
        pid: int | None = self._process.pid
        return pid

    def kill(self, reason: str | None = None) -> None:
        """Kill the child and its article workers at once (SIGKILL to its process group).

        The run is recorded as failed with `reason`, or else with how the process died.
        """
        self._stop_reason = self._stop_reason or reason
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        if self.pid is None or self._process.exitcode is not None:
            return
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            # The child had not yet made its own group (or is gone): signal the child alone.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def wait(self, on_progress: ProgressCallback | None = None) -> CrawlSummary:
        """Follow the child to its end, passing progress on, and record the run; never raises for a crash."""
        report_message: dict[str, Any] | None = None
        failure: str | None = None
        try:
            report_message, failure = self._follow(on_progress)
        except KeyboardInterrupt:
            self._stop(signal.SIGTERM, "interrupted")
            self._record(None, "interrupted by the user")
            raise
        self._process.join()
        if report_message is None:
            failure = self._stop_reason or failure or self._exit_description()
        return self._record(report_message, failure)

    def _follow(self, on_progress: ProgressCallback | None) -> tuple[dict[str, Any] | None, str | None]:
        limit = self.job.limits.time_limit
        deadline = self._started + limit + KILL_GRACE_SECONDS if limit else None
        report: dict[str, Any] | None = None
        failure: str | None = None
        sentinel = self._process.sentinel
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = wait([self._connection, sentinel], timeout)
            if not ready:
                self.kill(f"killed after exceeding the time limit of {limit:g} s")
                continue
            if self._connection in ready:
                try:
                    kind, payload = self._connection.recv()
                except (EOFError, OSError):
                    self._process.join()
                    return report, failure
                if kind == "progress":
                    self.last_progress = payload
                    if on_progress is not None:
                        on_progress(payload)
                elif kind == "report":
                    report = payload
                elif kind == "failed":
                    failure = str(payload)
                continue
            # The child is gone and everything it sent has been read.
            return report, failure

    def _stop(self, signum: int, reason: str) -> None:
        self._stop_reason = reason
        self._signal_group(signum)
        self._process.join(10)
        if self._process.exitcode is None:
            self._signal_group(signal.SIGKILL)
            self._process.join()

    def _exit_description(self) -> str:
        code = self._process.exitcode
        if code is not None and code < 0:
            return f"the crawl process was killed by {signal.Signals(-code).name}"
        return f"the crawl process exited with status {code} without a report"

    def _record(self, message: dict[str, Any] | None, failure: str | None) -> CrawlSummary:
        report = CrawlReport.from_message(message) if message is not None else CrawlReport()
        if message is None:
            report.pages_fetched = int(self.last_progress.get("pages_fetched", 0))
        status, error = record_run(self.engine, self.crawl_run_id, self.job.sources, report, failure)
        return CrawlSummary(self.crawl_run_id, status, report, error, tuple(spec.url for spec in self.job.sources))


def _crawl_entry() -> Callable[[CrawlJob, Connection], None]:
    """The one door from `monitor` into `spiders`: the crawl process's entry point (imported late, so that
    `monitor` imports neither Scrapy nor Twisted until a crawl starts)."""
    from spiders.run import run_crawl_job

    return run_crawl_job


def start_crawl(
    engine: Engine,
    *,
    source_urls: Sequence[str] | None = None,
    limits: CrawlLimits | None = None,
    on_matches: MatchHook | None = None,
) -> RunningCrawl:
    """Create the run's row and start the child; InputError (and no row) for an unknown source.

    `on_matches` runs in the child, so it must be picklable (a module-level function).
    """
    with session_scope(engine) as session:
        sources = select_sources(session, source_urls)
        if not sources:
            raise InputError("no enabled sources to crawl (see `monitor sources list`)")
        run = CrawlRun(sources=[source.url for source in sources])
        session.add(run)
        session.flush()
        job = CrawlJob(
            database_url=engine.url.render_as_string(hide_password=False),
            crawl_run_id=run.id,
            sources=tuple(_spec(source) for source in sources),
            limits=limits or CrawlLimits(),
            on_matches=on_matches,
        )
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_crawl_entry(), args=(job, sender), name=f"crawl-{job.crawl_run_id}")
    running = RunningCrawl(engine, job, process, receiver)
    try:
        process.start()
    except OSError as exc:
        running._record(None, f"cannot start the crawl process: {exc}")
        raise
    finally:
        sender.close()  # the child holds the only sending end, so its exit closes the pipe
    try:
        record_crawl_process(engine, running.crawl_run_id, pid=process.pid)
    except SQLAlchemyError as exc:  # the crawl goes on; only the closing of an orphaned run needs this
        logger.warning("could not record the process of crawl run %d: %s", running.crawl_run_id, exc)
    return running


def run_crawl(
    engine: Engine,
    *,
    source_urls: Sequence[str] | None = None,
    limits: CrawlLimits | None = None,
    on_matches: MatchHook | None = None,
    on_progress: ProgressCallback | None = None,
) -> CrawlSummary:
    """Crawl the given sources (default: every enabled one) once and record the run; see `start_crawl`."""
    return start_crawl(engine, source_urls=source_urls, limits=limits, on_matches=on_matches).wait(on_progress)


def fail_running_crawl_runs(engine: Engine, *, reason: str, now: datetime) -> int:
    """Set every `running` crawl run to failed with `reason`; return how many there were."""
    with session_scope(engine) as session:
        result = session.execute(
            update(CrawlRun)
            .where(col(CrawlRun.status) == CrawlStatus.running)
            .values(status=CrawlStatus.failed, finished_at=now, error=reason)
            .returning(col(CrawlRun.id))
        )
        ids = [row[0] for row in result]
    if ids:
        logger.warning("crawl run(s) %s were left running by an earlier service: recorded as failed", ids)
    return len(ids)


def fail_crawl_run(engine: Engine, crawl_run_id: int, *, reason: str) -> bool:
    """Record a run that is still `running` as failed with `reason` (its alerts are then sent); False if it ended."""
    with session_scope(engine) as session:
        run = session.get(CrawlRun, crawl_run_id)
        if run is None or run.status != CrawlStatus.running:
            return False
        run.status = CrawlStatus.failed
        run.finished_at = utcnow()
        run.error = reason
        run.stats = {**run.stats, "partial": True}
        session.add(run)
    return True


# -- a crawler that stays up ----------------------------------------------------------------------------


def open_pass(engine: Engine, source_url: str, *, every_seconds: float | None = None) -> Assignment | None:
    """The `CrawlRun` row of one source's pass, as an `Assignment` for a crawler that stays up.

    None when the source is not stored or not enabled, or when a pass of it is still running (a source is
    never crawled twice at once, whichever crawler has it).
    """
    with session_scope(engine) as session:
        source = get_source_or_none(session, source_url)
        if source is None or not source.enabled:
            return None
        running = session.exec(select(CrawlRun.sources).where(col(CrawlRun.status) == CrawlStatus.running))
        if any(list(sources) == [source.url] for sources in running):
            return None
        run = CrawlRun(sources=[source.url])
        session.add(run)
        session.flush()
        assert run.id is not None
        spec = replace(_spec(source), every_seconds=every_seconds or source.every_seconds)
        return Assignment(crawl_run_id=run.id, source=spec)


def get_source_or_none(session: Session, url: str) -> Source | None:
    try:
        return get_source(session, url=url)
    except InputError:
        return None


PassFinished = Callable[[int, str], None]


class StayingCrawler:
    """The embedded crawler: one child process with one Scrapy spider that stays open, fed passes over a pipe.

    Started on the first `assign`, restarted by the next one if it died. The child records each pass
    (`spiders.run.PipeFeed`) and says so; `on_finished(crawl_run_id, status)` is then called here (from a
    reader thread). A child that dies leaves its passes `running`: they are recorded as failed here.
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
        self.limits = limits
        self.on_matches = on_matches
        self.on_finished = on_finished
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Connection | None = None
        self._active: set[int] = set()
        self._changed = threading.Condition(self._lock)

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._process.pid if self._process is not None else None

    def active(self) -> set[int]:
        with self._lock:
            return set(self._active)

    def assign(self, assignment: Assignment) -> None:
        with self._lock:
            if self._process is None or self._process.exitcode is not None:
                self._start()
            assert self._connection is not None and self._process is not None
            self._active.add(assignment.crawl_run_id)
            self._connection.send(("assign", assignment.to_json()))
            pid = self._process.pid
        try:
            record_crawl_process(self.engine, assignment.crawl_run_id, pid=pid)
        except SQLAlchemyError as exc:
            logger.warning("could not record the process of crawl run %d: %s", assignment.crawl_run_id, exc)

    def _start(self) -> None:
        job = crawler_job(self.engine, limits=self.limits, on_matches=self.on_matches, feed="pipe")
        started = threading.Event()
        failure: list[BaseException] = []
        handle: list[tuple[Any, Connection]] = []

        def own() -> None:
            # Started from this thread, which lives as long as the child: the child's death-of-parent
            # signal (`spiders.lifetime`) is tied to the thread that started it.
            try:
                handle.append(start_crawler_process(job))
            except BaseException as exc:
                failure.append(exc)
                return
            finally:
                started.set()
            self._follow(*handle[0])

        threading.Thread(target=own, name="crawler", daemon=True).start()
        started.wait()
        if failure:
            raise failure[0]
        self._process, self._connection = handle[0]
        logger.info("crawler process %d started", self._process.pid)

    def _follow(self, process: Any, connection: Connection) -> None:
        while True:
            try:
                ready = wait([connection, process.sentinel])
                if connection not in ready:
                    break
                kind, *payload = connection.recv()
            except (EOFError, OSError):
                break
            if kind == "finished":
                run_id, status = int(payload[0]), str(payload[1])
                with self._lock:
                    self._active.discard(run_id)
                    self._changed.notify_all()
                if self.on_finished is not None:
                    self.on_finished(run_id, status)
        process.join()
        with self._lock:
            lost = set(self._active) if self._process is process else set()
            if self._process is process:
                self._active.clear()
                self._process = None
                self._connection = None
            self._changed.notify_all()
        code = process.exitcode
        reason = f"the crawler process ended (exit status {code}) before this pass was recorded"
        if code is not None and code < 0:
            reason = f"the crawler process was killed by {signal.Signals(-code).name} during this pass"
        for run_id in lost:
            fail_crawl_run(self.engine, run_id, reason=reason)
            if self.on_finished is not None:
                self.on_finished(run_id, CrawlStatus.failed)

    def stop(self, grace: float) -> None:
        """No new passes; those under way finish within `grace` seconds, else are stopped and recorded."""
        with self._lock:
            process, connection = self._process, self._connection
        if process is None or connection is None:
            return
        with contextlib.suppress(OSError):
            connection.send(("stop", None))
        with self._lock:
            self._changed.wait_for(lambda: not self._active, timeout=grace)
        process.join(max(1.0, grace / 4))
        if process.exitcode is None:
            # Scrapy closes the spider on SIGTERM: the passes under way are recorded as partial.
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            process.join(KILL_GRACE_SECONDS)
        if process.exitcode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.join()
        with self._lock:
            self._changed.wait_for(lambda: self._process is not process, timeout=10.0)


def crawler_job(
    engine: Engine,
    *,
    limits: CrawlLimits,
    on_matches: MatchHook | None,
    feed: str,
    redis_url: str | None = None,
    redis_prefix: str | None = None,
) -> CrawlJob:
    """The job of a crawler that stays up: no sources of its own, fed by `feed` ("pipe" or "redis")."""
    return CrawlJob(
        database_url=engine.url.render_as_string(hide_password=False),
        crawl_run_id=None,
        sources=(),
        limits=limits,
        on_matches=on_matches,
        feed=feed,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
    )


def start_crawler_process(job: CrawlJob) -> tuple[Any, Connection]:
    """Start a crawler that stays up (`job.feed` set) in a child process; returns it and our end of its pipe.

    The caller must keep the starting thread alive as long as the child (see `spiders.lifetime`).
    """
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe(duplex=True)
    process = context.Process(target=_crawl_entry(), args=(job, theirs), name="crawler")
    try:
        process.start()
    finally:
        theirs.close()
    return process, ours
