"""The service's scheduled work as plain methods: crawl one source, drain the outbox, send the daily digest.

`MonitorJobs` never raises: each job records how it fared in `JobHealth` (runs, failures, the last error in
one line), so a failed run (database locked, crawl crashed) is retried at the next one. Tests call the
methods directly with an injected clock; `monitor.service.scheduler` puts them on their triggers.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from alerts.digest import DigestSending, send_digest
from alerts.dispatcher import OutboxDispatcher
from monitor.crawling.launchers import CrawlFailedError, CrawlLauncher, ManagedCrawlLauncher
from monitor.crawling.records import backoff_factor
from monitor.crawling.stale_runs import close_orphaned_runs
from monitor.errors import error_line
from monitor.storage.engine import session_scope
from monitor.storage.models import Alert, Digest, Source, utcnow

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# The names the fixed jobs have in `JobHealth` (and their ids in the scheduler).
OUTBOX_JOB = "outbox"
DIGEST_JOB = "digest"
SYNC_JOB = "sync-sources"
ORPHANED_RUNS_JOB = "orphaned-runs"


@dataclass
class JobRecord:
    """How one job has fared: for logs, the web's health page and tests."""

    runs: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_started_at: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None


class JobHealth:
    """Every job's record, by job name (`outbox`, `digest`, `sync-sources`, `crawl source <id>`); thread-safe."""

    def __init__(self) -> None:
        self._records: dict[str, JobRecord] = {}
        self._changed = threading.Condition()

    def get(self, name: str) -> JobRecord:
        """A copy of the record of `name` (empty if it never ran)."""
        with self._changed:
            return replace(self._records.get(name) or JobRecord())

    def snapshot(self) -> dict[str, JobRecord]:
        with self._changed:
            return {name: replace(record) for name, record in self._records.items()}

    def wait_for(self, predicate: Callable[[dict[str, JobRecord]], bool], timeout: float) -> bool:
        """Block until `predicate(records)` holds (re-checked at every update) or `timeout` passes."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self._records), timeout)

    def _update(self, name: str, change: Callable[[JobRecord], None]) -> None:
        with self._changed:
            change(self._records.setdefault(name, JobRecord()))
            self._changed.notify_all()

    def started(self, name: str, now: datetime) -> None:
        def change(record: JobRecord) -> None:
            record.runs += 1
            record.last_started_at = now

        self._update(name, change)

    def succeeded(self, name: str, now: datetime) -> None:
        def change(record: JobRecord) -> None:
            record.consecutive_failures = 0
            record.last_success_at = now

        self._update(name, change)

    def failed(self, name: str, now: datetime, error: str) -> None:
        def change(record: JobRecord) -> None:
            record.failures += 1
            record.consecutive_failures += 1
            record.last_failure_at = now
            record.last_error = error

        self._update(name, change)


def describe_error(error: BaseException) -> str:
    """One line: a database error's first line (without SQL), else the type and message."""
    if isinstance(error, sa_exc.DBAPIError):
        return f"database error: {error_line(error.orig)}"
    return error_line(error, with_type=True)


def due_digest_day(now: datetime, *, digest_time: time, zone: ZoneInfo) -> date:
    """The day whose digest was last due at `now`: the day before the latest digest time that has passed.

    The digest sent at 07:00 covers the whole previous local day, so nothing found late in a day is left
    out of every digest.
    """
    local = now.astimezone(zone)
    passed_today = local.timetz().replace(tzinfo=None) >= digest_time
    return local.date() - timedelta(days=1 if passed_today else 2)


class MonitorJobs:
    """The scheduled work, as plain methods. None raises: a failure is logged and recorded in `health`.

    `dispatcher` is None when no alert channel is configured (alerts stay held in the outbox).
    `after_crawl` is called when a crawl has ended here (the scheduler drains the outbox right away).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        launcher: CrawlLauncher,
        dispatcher: OutboxDispatcher | None,
        digest_channels: Sequence[str],
        digest_time: time,
        zone: ZoneInfo,
        clock: Clock = utcnow,
        after_crawl: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.launcher = launcher
        self.dispatcher = dispatcher
        self.digest_channels = list(digest_channels)
        self.digest_time = digest_time
        self.zone = zone
        self.clock = clock
        self.after_crawl = after_crawl
        self.health = JobHealth()
        self._crawling: set[int] = set()
        self._skipped: dict[int, int] = {}  # due times skipped while a failing source backs off
        self._crawling_lock = threading.Lock()

    @contextlib.contextmanager
    def recorded(self, name: str) -> Iterator[None]:
        self.health.started(name, self.clock())
        try:
            yield
        except Exception as exc:
            reason = describe_error(exc)
            self.health.failed(name, self.clock(), reason)
            if isinstance(exc, sa_exc.SQLAlchemyError | CrawlFailedError):
                logger.error("%s failed: %s (retried at its next run)", name, reason)
            else:
                logger.exception("%s failed: %s (retried at its next run)", name, reason)
        else:
            self.health.succeeded(name, self.clock())

    def crawl_source(self, source_id: int) -> None:
        """Crawl one source, unless a crawl of it is still going on here or it was removed or paused.

        A source that keeps failing backs off (`monitor.crawling.records.backoff_factor`): it is handed
        over only every 2nd, 4th... time it falls due, and its last error says so.
        """
        with self._crawling_lock:
            if source_id in self._crawling:
                logger.info("source %d is still being crawled: this run is skipped", source_id)
                return
            self._crawling.add(source_id)
        try:
            with self.recorded(crawl_job_name(source_id)):
                found = self._enabled_source(source_id)
                if found is None:
                    return
                url, failures = found
                if self._backing_off(source_id, failures):
                    return
                self.launcher.launch([url])
        finally:
            with self._crawling_lock:
                self._crawling.discard(source_id)
            if self.after_crawl is not None:
                self.after_crawl()

    def _enabled_source(self, source_id: int) -> tuple[str, int] | None:
        with session_scope(self.engine) as session:
            source = session.get(Source, source_id)
            return (source.url, source.consecutive_failures) if source is not None and source.enabled else None

    def _backing_off(self, source_id: int, failures: int) -> bool:
        factor = backoff_factor(failures)
        with self._crawling_lock:
            skipped = self._skipped.get(source_id, 0)
            if factor > 1 and skipped + 1 < factor:
                self._skipped[source_id] = skipped + 1
                logger.debug(
                    "source %d failed %d times in a row: backing off (%d/%d)", source_id, failures, skipped + 1, factor
                )
                return True
            self._skipped.pop(source_id, None)
        return False

    def close_orphaned_runs(self) -> None:
        """Close the runs left `running` on this host whose crawl process is gone (`monitor.crawling.stale_runs`)."""
        with self.recorded(ORPHANED_RUNS_JOB):
            keep = self.launcher.running_run_ids() if isinstance(self.launcher, ManagedCrawlLauncher) else ()
            close_orphaned_runs(self.engine, keep=keep, now=self.clock())
            close_overdue = getattr(self.launcher, "close_overdue_runs", None)
            if close_overdue is not None:  # scale-out: passes whose worker died, on any host
                close_overdue()

    def drain_outbox(self) -> None:
        """Deliver every due alert through the configured channels (nothing to do without one)."""
        if self.dispatcher is None:
            return
        with self.recorded(OUTBOX_JOB):
            report = self.dispatcher.drain()
            if report.deliveries:
                logger.info("outbox: %d sent, %d failed", report.sent, report.failed)

    def send_daily_digest(self, day: date | None = None) -> DigestSending | None:
        """Build, store and queue the digest of `day` (default: the one due now), then deliver it.

        A day's digest is queued once per channel (the outbox row is unique), so running this twice for
        a day sends nothing the second time. Returns None when it failed (recorded in `health`).
        """
        sending: DigestSending | None = None
        with self.recorded(DIGEST_JOB):
            the_day = day or due_digest_day(self.clock(), digest_time=self.digest_time, zone=self.zone)
            with session_scope(self.engine) as session:
                sending = send_digest(
                    session, day=the_day, zone=self.zone, channels=self.digest_channels, now=self.clock()
                )
            logger.info(
                "digest for %s: %d matches; %s",
                the_day.isoformat(),
                sending.content.match_count,
                ", ".join(f"{channel} {outcome}" for channel, outcome in sending.channels.items()) or "stored",
            )
        if sending is not None and "queued" in sending.channels.values():
            self.drain_outbox()
        return sending

    def digest_outstanding(self) -> bool:
        """Whether the digest due now was never built, or not queued to every channel (a missed 07:00)."""
        day = due_digest_day(self.clock(), digest_time=self.digest_time, zone=self.zone)
        with session_scope(self.engine) as session:
            digest = session.execute(select(Digest).where(col(Digest.day) == day)).scalar_one_or_none()
            if digest is None:
                return True
            queued = set(session.execute(select(col(Alert.channel)).where(col(Alert.digest_id) == digest.id)).scalars())
        return not set(self.digest_channels) <= queued


def crawl_job_name(source_id: int) -> str:
    """The name the crawl job of a source has in `JobHealth`."""
    return f"crawl source {source_id}"
