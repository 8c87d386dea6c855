"""The service's scheduler: every source on its own interval, the outbox every minute, the digest once a day.

Three parts, each usable alone:

- `CrawlLauncher`: how a crawl is started. `LocalCrawlLauncher` runs it here (a Scrapy child process per
  run, with a time limit); `monitor.crawling.scaleout.RedisCrawlLauncher` queues it for crawler workers.
  `make_launcher` picks one from the settings.
- `MonitorJobs`: the job functions (crawl one source, drain the outbox, send the daily digest). They are
  plain methods that tests call directly with an injected clock; each records its failures in
  `JobHealth` and never raises, so a failed run (database locked, crawl crashed) is retried at the next one.
- `MonitorScheduler`: APScheduler 3 (`BackgroundScheduler`) with those jobs on their triggers, and a
  periodic sync that reads the sources table, so a source added, removed, paused or re-timed from the CLI
  or the web is picked up without a restart.

    jobs = MonitorJobs(engine, launcher=make_launcher(settings, engine), dispatcher=..., ...)
    scheduler = MonitorScheduler(jobs, SchedulerOptions.from_settings(settings))
    scheduler.start()
    ...
    scheduler.stop(grace=20)
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import exc as sa_exc
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from alerts.digest import DigestSending, send_digest
from alerts.dispatcher import OutboxDispatcher
from alerts.outbox import enqueue_channels, match_alert_hook
from monitor.config import Settings
from monitor.crawling.runs import CrawlLimits, RunningCrawl, start_crawl
from monitor.crawling.stale_runs import close_orphaned_runs
from monitor.ingest.model import MatchHook
from monitor.storage.engine import session_scope
from monitor.storage.models import Alert, CrawlRun, CrawlStatus, Digest, Source, utcnow

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

OUTBOX_JOB = "outbox"
DIGEST_JOB = "digest"
SYNC_JOB = "sync-sources"
ORPHANED_RUNS_JOB = "orphaned-runs"
CRAWL_JOB_PREFIX = "crawl:"
DEFAULT_CRAWL_TIME_LIMIT = 15 * 60.0  # seconds; a run still going after this is stopped (and killed if it hangs)
INTERRUPTED_RUN = "interrupted: the service stopped before this run ended (found at the next start)"


# -- launching crawls --------------------------------------------------------------------------------


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


class CrawlFailedError(RuntimeError):
    """A crawl ran and failed; its `CrawlRun` row holds the reason."""


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


def make_launcher(settings: Settings, engine: Engine, *, limits: CrawlLimits | None = None) -> CrawlLauncher:
    """Redis-backed crawler workers when MONITOR_REDIS_URL is set, else crawls in child processes here."""
    if settings.redis_url:
        from monitor.crawling.scaleout import RedisCrawlLauncher

        launcher: CrawlLauncher = RedisCrawlLauncher(settings, engine)
        return launcher
    return LocalCrawlLauncher(
        engine,
        limits=limits or CrawlLimits.from_settings(settings, time_limit=DEFAULT_CRAWL_TIME_LIMIT),
        on_matches=match_alert_hook(enqueue_channels(settings)),
    )


# -- the jobs ----------------------------------------------------------------------------------------


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
        first = str(error.orig).strip().splitlines()
        return f"database error: {first[0] if first else type(error.orig).__name__}"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


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
        """Crawl one source, unless a crawl of it is still going on here or it was removed or paused."""
        with self._crawling_lock:
            if source_id in self._crawling:
                logger.info("source %d is still being crawled: this run is skipped", source_id)
                return
            self._crawling.add(source_id)
        try:
            with self.recorded(crawl_job_name(source_id)):
                url = self._enabled_source_url(source_id)
                if url is None:
                    return
                self.launcher.launch([url])
        finally:
            with self._crawling_lock:
                self._crawling.discard(source_id)
            if self.after_crawl is not None:
                self.after_crawl()

    def _enabled_source_url(self, source_id: int) -> str | None:
        with session_scope(self.engine) as session:
            source = session.get(Source, source_id)
            return source.url if source is not None and source.enabled else None

    def close_orphaned_runs(self) -> None:
        """Close the runs left `running` on this host whose crawl process is gone (`monitor.crawling.stale_runs`)."""
        with self.recorded(ORPHANED_RUNS_JOB):
            keep = self.launcher.running_run_ids() if isinstance(self.launcher, ManagedCrawlLauncher) else ()
            close_orphaned_runs(self.engine, keep=keep, now=self.clock())

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


# -- the scheduler -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchedulerOptions:
    """How often things run. Intervals of sources without their own come from `default_every`."""

    default_every: timedelta
    digest_time: time
    zone: ZoneInfo
    outbox_every: timedelta = timedelta(minutes=1)
    sync_every: timedelta = timedelta(seconds=5)  # one small query; changes show up within seconds
    jitter_fraction: float = 0.1  # of a source's interval, at most `max_jitter`
    max_jitter: timedelta = timedelta(minutes=5)
    max_parallel_crawls: int = 2

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SchedulerOptions:
        values: dict[str, Any] = {
            "default_every": settings.crawl_interval,
            "digest_time": settings.digest_time,
            "zone": settings.zone,
        }
        return cls(**{**values, **overrides})

    def jitter_for(self, interval: timedelta) -> float:
        """Seconds of random delay added to each run, so sources on one interval do not all fire at once."""
        return min(interval.total_seconds() * self.jitter_fraction, self.max_jitter.total_seconds())


@dataclass(frozen=True)
class SyncReport:
    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    rescheduled: tuple[int, ...] = ()


def crawl_job_id(source_id: int) -> str:
    return f"{CRAWL_JOB_PREFIX}{source_id}"


def crawl_job_name(source_id: int) -> str:
    """The name the crawl job of a source has in `JobHealth`."""
    return f"crawl source {source_id}"


class MonitorScheduler:
    """APScheduler over `MonitorJobs`: one job per enabled source, the outbox, the digest and the sync.

    Crawls run in their own thread pool (`max_parallel_crawls`), so a long crawl never delays the outbox
    or the digest. Every job has `max_instances=1` and `coalesce=True` with no misfire limit: a run that
    was missed while the machine slept runs once on waking, not once per missed interval.
    """

    def __init__(
        self,
        jobs: MonitorJobs,
        options: SchedulerOptions,
        *,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.jobs = jobs
        self.options = options
        self.clock = clock
        self.rng = rng or random.Random()
        self._stopping = threading.Event()
        self._sync_lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(4),
                "crawls": ThreadPoolExecutor(options.max_parallel_crawls),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def start(self, *, paused: bool = False) -> None:
        """Register the fixed jobs and one job per enabled source, then start (`paused`: nothing runs)."""
        self.scheduler.start(paused=paused)
        now = self.clock()
        self.scheduler.add_job(
            self.jobs.drain_outbox,
            IntervalTrigger(seconds=self.options.outbox_every.total_seconds(), start_date=now),
            id=OUTBOX_JOB,
            name="drain the alert outbox",
            next_run_time=now,
        )
        self.scheduler.add_job(
            self.jobs.send_daily_digest,
            self.digest_trigger(),
            id=DIGEST_JOB,
            name="send the daily digest",
        )
        self.scheduler.add_job(
            self._sync_job,
            IntervalTrigger(seconds=self.options.sync_every.total_seconds(), start_date=now),
            id=SYNC_JOB,
            name="pick up source changes",
        )
        self.scheduler.add_job(
            self.jobs.close_orphaned_runs,
            IntervalTrigger(seconds=self.options.outbox_every.total_seconds(), start_date=now),
            id=ORPHANED_RUNS_JOB,
            name="close runs whose process is gone",
            next_run_time=now,
        )
        try:
            self.sync_sources()
        except sa_exc.SQLAlchemyError as exc:  # the sync job retries it; the service still starts
            logger.error("cannot read the sources yet: %s", describe_error(exc))
        if self._digest_outstanding():
            # The digest time passed while the service was down: send the missed digest now, once.
            self.scheduler.add_job(self.jobs.send_daily_digest, id="digest-catch-up", name="send the missed digest")

    def _digest_outstanding(self) -> bool:
        try:
            return self.jobs.digest_outstanding()
        except sa_exc.SQLAlchemyError as exc:
            logger.error("cannot check the last digest: %s", describe_error(exc))
            return False

    def digest_trigger(self) -> CronTrigger:
        """Every day at MONITOR_DIGEST_TIME in MONITOR_TIMEZONE (DST-correct)."""
        at = self.options.digest_time
        return CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=self.options.zone)

    def _sync_job(self) -> None:
        with self.jobs.recorded(SYNC_JOB):
            self.sync_sources()

    def sync_sources(self) -> SyncReport:
        """Make the crawl jobs match the sources table: add, remove (deleted or paused) and re-time jobs.

        A new job's first run is due one interval after the source's last complete crawl, or now when
        that has passed (a restart runs overdue sources once, not once per missed interval).
        """
        with self._sync_lock:
            with session_scope(self.jobs.engine) as session:
                sources = list(session.exec(select(Source).where(col(Source.enabled).is_(True))))
            wanted = {source.id: source for source in sources if source.id is not None}
            existing = self._crawl_jobs()
            added, removed, rescheduled = [], [], []
            for source_id, job in existing.items():
                if source_id not in wanted:
                    job.remove()
                    removed.append(source_id)
            for source_id, source in wanted.items():
                interval = self.interval_of(source)
                job = existing.get(source_id)
                if job is None:
                    self._add_crawl_job(source, interval)
                    added.append(source_id)
                elif job.trigger.interval != interval:
                    job.reschedule(self.crawl_trigger(interval, start=self.clock() + interval))
                    rescheduled.append(source_id)
        report = SyncReport(tuple(added), tuple(removed), tuple(rescheduled))
        if added or removed or rescheduled:
            logger.info("sources: %d added, %d removed, %d re-timed", len(added), len(removed), len(rescheduled))
        return report

    def interval_of(self, source: Source) -> timedelta:
        if source.every_seconds:
            return timedelta(seconds=source.every_seconds)
        return self.options.default_every

    def crawl_trigger(self, interval: timedelta, *, start: datetime) -> IntervalTrigger:
        return IntervalTrigger(
            seconds=interval.total_seconds(), start_date=start, jitter=self.options.jitter_for(interval) or None
        )

    def first_run(self, source: Source, interval: timedelta) -> datetime:
        now = self.clock()
        if source.last_crawled_at is None:
            return now
        last = source.last_crawled_at
        if last.tzinfo is None:  # SQLite gives naive datetimes back; they were written in UTC
            last = last.replace(tzinfo=UTC)
        return max(now, last + interval)

    def _add_crawl_job(self, source: Source, interval: timedelta) -> Job:
        assert source.id is not None
        first = self.first_run(source, interval)
        return self.scheduler.add_job(
            self.jobs.crawl_source,
            self.crawl_trigger(interval, start=first),
            args=[source.id],
            id=crawl_job_id(source.id),
            name=f"crawl {source.url}",
            executor="crawls",
            next_run_time=first,
            replace_existing=True,
        )

    def _crawl_jobs(self) -> dict[int, Job]:
        return {
            int(job.id.removeprefix(CRAWL_JOB_PREFIX)): job
            for job in self.scheduler.get_jobs()
            if job.id.startswith(CRAWL_JOB_PREFIX)
        }

    def crawl_jobs(self) -> dict[int, Job]:
        """The crawl job of each scheduled source, by source id."""
        with self._sync_lock:
            return self._crawl_jobs()

    def wake_outbox(self) -> None:
        """Run the outbox job now (after a crawl), instead of at its next minute."""
        if self._stopping.is_set():
            return
        with contextlib.suppress(Exception):  # the scheduler may be shutting down under us
            self.scheduler.modify_job(OUTBOX_JOB, next_run_time=self.clock())

    def stop(self, *, launcher_grace: float = 20.0) -> None:
        """Stop cleanly: no new runs, running crawls finished or stopped and recorded, running jobs done."""
        self._stopping.set()
        if self.scheduler.running:
            self.scheduler.pause()
        launcher = self.jobs.launcher
        if isinstance(launcher, ManagedCrawlLauncher):
            launcher.stop(launcher_grace)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
