"""The service's scheduler: every source on its own interval, the outbox every minute, the digest once a day.

`MonitorScheduler` is APScheduler 3 (`BackgroundScheduler`) over the job functions of
`monitor.service.jobs`, with a periodic sync that reads the sources table, so a source added, removed,
paused or re-timed from the CLI or the web is picked up without a restart. How a crawl starts is the
launcher's (`monitor.crawling.launchers`).

    jobs = MonitorJobs(engine, launcher=make_launcher(settings, engine), dispatcher=..., ...)
    scheduler = MonitorScheduler(jobs, SchedulerOptions.from_settings(settings))
    scheduler.start()
    ...
    scheduler.stop(grace=20)
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import exc as sa_exc
from sqlmodel import col, select

from monitor.config import Settings
from monitor.crawling.launchers import ManagedCrawlLauncher
from monitor.service.jobs import DIGEST_JOB, ORPHANED_RUNS_JOB, OUTBOX_JOB, SYNC_JOB, Clock, MonitorJobs, describe_error
from monitor.storage.engine import session_scope
from monitor.storage.models import Source, utcnow

logger = logging.getLogger(__name__)

CRAWL_JOB_PREFIX = "crawl:"


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
        # Held by every call a job thread makes into APScheduler (the sync, waking the outbox), and by
        # `stop` while it sets `_stopping`: APScheduler's shutdown holds its job-store lock while it waits
        # for the running jobs, so a job that reached for that lock then would wait for ever.
        self._sync_lock = threading.Lock()
        self._outbox_running = False  # the outbox job was woken and has not finished (under `_sync_lock`)
        self._outbox_again = False
        self._wakes = 0
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
            self._outbox_job,
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
            if self._stopping.is_set():
                return SyncReport()
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

    def _outbox_job(self) -> None:
        """Drain the outbox; again at once if a crawl pass ended meanwhile (`wake_outbox`)."""
        with self._sync_lock:
            self._outbox_running = True
        while True:
            self.jobs.drain_outbox()
            with self._sync_lock:
                if not self._outbox_again:
                    self._outbox_running = False
                    return
                self._outbox_again = False

    def wake_outbox(self) -> None:
        """Run the outbox job now (after a crawl pass), instead of at its next minute.

        While a drain runs, a wake makes it drain once more when it ends, rather than asking APScheduler
        for a second instance of a running job (which it skips, with a warning, as passes end many a
        minute). Otherwise the wake is a one-off job of its own id, so that even the moment between a
        drain's end and APScheduler noticing it cannot make it skip one.
        """
        with self._sync_lock:
            if self._stopping.is_set():
                return
            if self._outbox_running:
                self._outbox_again = True
                return
            self._outbox_running = True
            self._wakes += 1
            try:
                self.scheduler.add_job(
                    self._outbox_job, id=f"{OUTBOX_JOB}-wake-{self._wakes}", name="drain the alert outbox now"
                )
            except Exception:  # a scheduler never started, or shut down
                self._outbox_running = False

    def stop(self, *, launcher_grace: float = 20.0) -> None:
        """Stop cleanly: no new runs, running crawls finished or stopped and recorded, running jobs done."""
        with self._sync_lock:  # a sync under way ends first; after this no job thread calls APScheduler
            self._stopping.set()
        if self.scheduler.running:
            self.scheduler.pause()
        launcher = self.jobs.launcher
        if isinstance(launcher, ManagedCrawlLauncher):
            launcher.stop(launcher_grace)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
