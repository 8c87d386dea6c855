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
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing.connection import Connection, wait
from typing import Any, TextIO

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from monitor.catalog.sources import get_source, list_sources
from monitor.crawling.job import CrawlJob, CrawlLimits, CrawlReport, SourceOutcome, SourceSpec
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
    "progress_printer",
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


def progress_printer(stream: TextIO | None = None) -> ProgressCallback:
    """A progress callback writing one line per report to `stream` (stderr by default)."""

    def show(snapshot: dict[str, Any]) -> None:
        print(
            f"crawl: {snapshot.get('pages_fetched', 0)} pages fetched, {snapshot.get('articles_new', 0)} new "
            f"articles, {snapshot.get('errors', 0)} errors ({snapshot.get('elapsed', 0):.0f} s)",
            file=stream or sys.stderr,
            flush=True,
        )

    return show


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
        status = CrawlStatus.finished if message is not None else CrawlStatus.failed
        now = utcnow()
        with session_scope(self.engine) as session:
            run = session.get(CrawlRun, self.crawl_run_id)
            assert run is not None
            run.status = status
            run.finished_at = now
            stats = report.stats()
            if message is None:
                stats.update(partial=True, partial_reason=f"the crawl failed: {failure}")
            run.stats = stats
            run.errors = list(report.errors)
            run.error = failure if message is None else None
            session.add(run)
            for spec in self.job.sources:
                source = session.get(Source, spec.id)
                if source is not None:
                    _update_source(source, report, failure, now)
                    session.add(source)
        return CrawlSummary(self.crawl_run_id, status, report, run.error, tuple(spec.url for spec in self.job.sources))


def _update_source(source: Source, report: CrawlReport, failure: str | None, now: datetime) -> None:
    """Record one source's crawl state. Validators are saved only after a complete, clean fetch of it."""
    outcome = report.sources.get(source.id or -1)
    if failure is not None or outcome is None:
        source.last_status = "failed"
        source.last_error = failure or "the crawl ended before this source was fetched"
        source.consecutive_failures += 1
        return
    if outcome.status == "failed":
        source.last_status = "failed"
        source.last_error = outcome.error
        source.consecutive_failures += 1
        return
    source.consecutive_failures = 0
    complete = report.finish_reason == "finished" and outcome.transient_errors == 0
    if complete:
        # Also the `since` of sitemap `lastmod` filtering, so it only moves on after a complete crawl.
        source.last_crawled_at = now
    if outcome.status != "not_modified":
        # After a transient failure the next run must see the items again, not a 304.
        source.etag = _limit(outcome.etag, 500) if complete else None
        source.last_modified = _limit(outcome.last_modified, 100) if complete else None
    source.last_status = "partial" if outcome.article_errors else outcome.status
    source.last_error = _article_errors_note(outcome)


def _article_errors_note(outcome: SourceOutcome) -> str | None:
    if not outcome.article_errors:
        return None
    plural = "s" if outcome.article_errors != 1 else ""
    return f"{outcome.article_errors} problem{plural} with its pages or items (see the crawl run's errors)"


def _limit(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


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
    from spiders.run import run_crawl_job

    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=run_crawl_job, args=(job, sender), name=f"crawl-{job.crawl_run_id}")
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
