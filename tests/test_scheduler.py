"""The scheduler: triggers per source, the sync of the sources table, no overlap, digest once a day, crawls.

Time is controlled by injected clocks; the APScheduler tests start the scheduler paused and look at the
jobs and triggers it registered, so nothing waits for a wall-clock interval.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from alert_servers import WAIT, running_smtp
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import monitor.crawling.runs
from alerts.channels import EmailChannel, SmtpConfig
from alerts.dispatcher import OutboxDispatcher
from alerts.outbox import match_alert_hook
from monitor.catalog.baseline_store import load_bundled_baseline
from monitor.catalog.sources import add_source, remove_source, set_source_enabled
from monitor.catalog.watch_terms import install_default_watch_terms
from monitor.crawling.launchers import LocalCrawlLauncher
from monitor.crawling.runs import CrawlLimits, fail_running_crawl_runs
from monitor.demo.articles import BORDER_DESK
from monitor.demo.site import LOCAL_SITE_NETWORK, LOCAL_SITE_POLICY, LocalNewsSite
from monitor.service.jobs import (
    DIGEST_JOB,
    OUTBOX_JOB,
    SYNC_JOB,
    JobRecord,
    MonitorJobs,
    crawl_job_name,
    due_digest_day,
)
from monitor.service.scheduler import MonitorScheduler, SchedulerOptions
from monitor.storage.engine import session_scope
from monitor.storage.models import Alert, Article, CrawlRun, CrawlStatus, Digest, Source

MINSK = ZoneInfo("Europe/Minsk")
NOW = datetime(2024, 5, 14, 12, 0, tzinfo=UTC)  # 15:00 in Minsk


class RecordingLauncher:
    """Counts launches; with `hold` set, each launch waits until the test releases it."""

    def __init__(self, hold: bool = False) -> None:
        self.launched: list[tuple[str, ...]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def launch(self, source_urls: Sequence[str]) -> None:
        self.launched.append(tuple(source_urls))
        self.entered.set()
        self.release.wait(WAIT)


def options(**overrides: object) -> SchedulerOptions:
    values: dict[str, object] = {"default_every": timedelta(minutes=30), "digest_time": time(7, 0), "zone": MINSK}
    return SchedulerOptions(**{**values, **overrides})  # type: ignore[arg-type]


def make_jobs(engine: Engine, launcher: object, *, clock_at: datetime = NOW, **kwargs: object) -> MonitorJobs:
    return MonitorJobs(
        engine,
        launcher=launcher,  # type: ignore[arg-type]
        dispatcher=kwargs.pop("dispatcher", None),  # type: ignore[arg-type]
        digest_channels=kwargs.pop("digest_channels", []),  # type: ignore[arg-type]
        digest_time=time(7, 0),
        zone=MINSK,
        clock=lambda: clock_at,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def paused_scheduler(sqlite_engine: Engine) -> Iterator[MonitorScheduler]:
    scheduler = MonitorScheduler(make_jobs(sqlite_engine, RecordingLauncher()), options(), clock=lambda: NOW)
    yield scheduler
    if scheduler.scheduler.running:
        scheduler.scheduler.shutdown(wait=False)


def add(engine: Engine, url: str, **fields: object) -> int:
    with session_scope(engine) as session:
        source = add_source(
            session,
            url=url,
            every=fields.pop("every", None),  # type: ignore[arg-type]
            policy=LOCAL_SITE_POLICY,
        )
        for name, value in fields.items():
            setattr(source, name, value)
        session.add(source)
        session.flush()
        assert source.id is not None
        return source.id


def test_each_source_gets_its_own_interval_with_jitter_and_the_fixed_jobs_their_triggers(
    sqlite_engine: Engine, paused_scheduler: MonitorScheduler
) -> None:
    fresh = add(sqlite_engine, "https://news.example/feed")
    hourly = add(sqlite_engine, "https://hourly.example/feed", every="2h")
    recent = add(sqlite_engine, "https://recent.example/feed", last_crawled_at=NOW - timedelta(minutes=10))
    paused = add(sqlite_engine, "https://paused.example/feed", enabled=False)

    paused_scheduler.start(paused=True)
    jobs = paused_scheduler.crawl_jobs()
    assert set(jobs) == {fresh, hourly, recent}, "a paused source has no job"
    for job in jobs.values():
        assert isinstance(job.trigger, IntervalTrigger)
        assert (job.max_instances, job.coalesce, job.misfire_grace_time, job.executor) == (1, True, None, "crawls")
    assert jobs[fresh].trigger.interval == timedelta(minutes=30)
    assert jobs[fresh].trigger.jitter == 180  # a tenth of the interval
    assert jobs[hourly].trigger.interval == timedelta(hours=2)
    assert jobs[hourly].trigger.jitter == 300  # a tenth, but at most five minutes
    # Never crawled: due now. Crawled ten minutes ago: due one interval after that, not at once.
    assert jobs[fresh].next_run_time == NOW
    assert jobs[recent].next_run_time == NOW + timedelta(minutes=20)
    assert paused not in jobs

    scheduler = paused_scheduler.scheduler
    outbox = scheduler.get_job(OUTBOX_JOB)
    assert isinstance(outbox.trigger, IntervalTrigger) and outbox.trigger.interval == timedelta(minutes=1)
    assert outbox.next_run_time == NOW, "the outbox is drained at start-up"
    digest = scheduler.get_job(DIGEST_JOB)
    assert isinstance(digest.trigger, CronTrigger) and digest.trigger.timezone == MINSK
    assert digest.trigger.get_next_fire_time(None, NOW) == datetime(2024, 5, 15, 7, 0, tzinfo=MINSK)
    sync = scheduler.get_job(SYNC_JOB)
    assert sync.trigger.interval == timedelta(seconds=5)
    assert all((job.coalesce, job.max_instances) == (True, 1) for job in scheduler.get_jobs())


def test_sources_added_removed_paused_and_retimed_are_picked_up_by_the_sync(
    sqlite_engine: Engine, paused_scheduler: MonitorScheduler
) -> None:
    first = add(sqlite_engine, "https://first.example/feed")
    paused_scheduler.start(paused=True)
    assert set(paused_scheduler.crawl_jobs()) == {first}

    second = add(sqlite_engine, "https://second.example/feed")
    assert paused_scheduler.sync_sources().added == (second,)
    with session_scope(sqlite_engine) as session:
        set_source_enabled(session, url="https://first.example/feed", enabled=False)
    assert paused_scheduler.sync_sources().removed == (first,)
    with session_scope(sqlite_engine) as session:
        source = session.get(Source, second)
        assert source is not None
        source.every_seconds = 3600
    assert paused_scheduler.sync_sources().rescheduled == (second,)
    assert paused_scheduler.crawl_jobs()[second].trigger.interval == timedelta(hours=1)
    with session_scope(sqlite_engine) as session:
        remove_source(session, url="https://second.example/feed")
    report = paused_scheduler.sync_sources()
    assert report.removed == (second,) and paused_scheduler.crawl_jobs() == {}
    assert paused_scheduler.sync_sources() == type(report)(), "nothing changed, nothing done"


def test_a_source_is_never_crawled_twice_at_once(sqlite_engine: Engine) -> None:
    source = add(sqlite_engine, "https://slow.example/feed")
    launcher = RecordingLauncher(hold=True)
    woken: list[bool] = []
    jobs = make_jobs(sqlite_engine, launcher, after_crawl=lambda: woken.append(True))
    first = threading.Thread(target=jobs.crawl_source, args=(source,))
    first.start()
    assert launcher.entered.wait(WAIT)
    jobs.crawl_source(source)  # a second job (or a second trigger) for the same source meanwhile
    assert launcher.launched == [("https://slow.example/feed",)]
    launcher.release.set()
    first.join(WAIT)
    jobs.crawl_source(source)  # once the first has ended, the next run crawls again
    assert len(launcher.launched) == 2
    assert woken == [True, True], "each crawl that ran wakes the outbox"


def test_a_removed_or_paused_source_is_not_crawled_by_a_job_still_queued(sqlite_engine: Engine) -> None:
    source = add(sqlite_engine, "https://gone.example/feed")
    launcher = RecordingLauncher()
    jobs = make_jobs(sqlite_engine, launcher)
    with session_scope(sqlite_engine) as session:
        set_source_enabled(session, url="https://gone.example/feed", enabled=False)
    jobs.crawl_source(source)
    assert launcher.launched == []


def test_a_failing_launch_is_recorded_and_the_next_run_tries_again(sqlite_engine: Engine) -> None:
    source = add(sqlite_engine, "https://flaky.example/feed")

    class FlakyLauncher:
        calls = 0

        def launch(self, source_urls: Sequence[str]) -> None:
            self.calls += 1
            if self.calls == 1:
                raise OSError("cannot start the crawl process")

    jobs = make_jobs(sqlite_engine, FlakyLauncher())
    jobs.crawl_source(source)  # does not raise: the scheduler thread must survive
    record = jobs.health.get(crawl_job_name(source))
    assert (record.failures, record.last_error) == (1, "OSError: cannot start the crawl process")
    jobs.crawl_source(source)
    record = jobs.health.get(crawl_job_name(source))
    assert (record.runs, record.failures, record.consecutive_failures) == (2, 1, 0)


@pytest.mark.parametrize(
    ("local_now", "expected"),
    [
        (datetime(2024, 5, 15, 7, 0, tzinfo=MINSK), date(2024, 5, 14)),  # at the digest time: yesterday
        (datetime(2024, 5, 15, 23, 59, tzinfo=MINSK), date(2024, 5, 14)),
        (datetime(2024, 5, 15, 6, 59, tzinfo=MINSK), date(2024, 5, 13)),  # before it: the day before
        # 04:30 UTC is 07:30 in Minsk: the local day counts, not the UTC one.
        (datetime(2024, 5, 15, 4, 30, tzinfo=UTC), date(2024, 5, 14)),
    ],
)
def test_the_digest_due_covers_the_last_complete_local_day(local_now: datetime, expected: date) -> None:
    assert due_digest_day(local_now, digest_time=time(7, 0), zone=MINSK) == expected


def test_the_daily_digest_is_sent_once_per_day_and_a_missed_one_is_caught_up(sqlite_engine: Engine) -> None:
    with running_smtp() as smtp:
        config = SmtpConfig("127.0.0.1", smtp.port, "m@example.org", ("r@example.org",), starttls=False)
        channel = EmailChannel(config)
        at_eight = datetime(2024, 5, 15, 8, 0, tzinfo=MINSK)
        dispatcher = OutboxDispatcher(sqlite_engine, {"email": channel}, clock=lambda: at_eight)
        jobs = make_jobs(
            sqlite_engine, RecordingLauncher(), clock_at=at_eight, dispatcher=dispatcher, digest_channels=["email"]
        )
        scheduler = MonitorScheduler(jobs, options(), clock=lambda: at_eight)
        assert jobs.digest_outstanding(), "07:00 passed and the 14 May digest was never sent"
        scheduler.start(paused=True)
        assert scheduler.scheduler.get_job("digest-catch-up") is not None
        scheduler.scheduler.shutdown(wait=False)

        first = jobs.send_daily_digest()
        second = jobs.send_daily_digest()
        assert first is not None and first.content.day == date(2024, 5, 14)
        assert first.channels == {"email": "queued"}
        assert second is not None and second.channels == {"email": "already sent"}
        messages = smtp.handler.wait_for(1)
        assert len(messages) == 1 and "2024" in str(messages[0]["Subject"])
        assert not jobs.digest_outstanding()
    with Session(sqlite_engine) as session:
        assert len(session.exec(select(Digest)).all()) == 1
        assert len(session.exec(select(Alert)).all()) == 1


def test_runs_left_running_by_a_killed_service_are_recorded_as_failed(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        session.add(CrawlRun(sources=["https://a.example/feed"]))
        session.add(CrawlRun(sources=["https://b.example/feed"], status=CrawlStatus.finished))
    assert fail_running_crawl_runs(sqlite_engine, reason="interrupted", now=NOW) == 1
    with Session(sqlite_engine) as session:
        statuses = sorted((run.status, run.error) for run in session.exec(select(CrawlRun)))
    assert statuses == [("failed", "interrupted"), ("finished", None)]


@pytest.mark.slow
def test_a_hung_crawl_is_killed_recorded_and_the_next_run_crawls_for_real(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real local launcher: a run past its time limit is killed and recorded; the next one stores it all."""
    site = LocalNewsSite()
    site.start()
    try:
        for article in BORDER_DESK:
            site.publish("border-desk", "Border Desk", article)
        with session_scope(sqlite_engine) as session:
            load_bundled_baseline(session)
            install_default_watch_terms(session)
        source = add(sqlite_engine, site.feed_url("border-desk"))

        # A child that is still at work half a second after its 0.5 s limit counts as hung.
        monkeypatch.setattr(monitor.crawling.runs, "KILL_GRACE_SECONDS", 0.5)
        hung = LocalCrawlLauncher(
            sqlite_engine, limits=CrawlLimits(time_limit=0.5, allowed_networks=(LOCAL_SITE_NETWORK,)), on_matches=None
        )
        jobs = make_jobs(sqlite_engine, hung)
        jobs.crawl_source(source)
        assert "time limit" in (jobs.health.get(crawl_job_name(source)).last_error or "")

        launcher = LocalCrawlLauncher(
            sqlite_engine,
            limits=CrawlLimits(time_limit=60, autothrottle_start_delay=0.05, allowed_networks=(LOCAL_SITE_NETWORK,)),
            on_matches=match_alert_hook(["email"]),
        )
        jobs.launcher = launcher
        jobs.crawl_source(source)
        assert jobs.health.get(crawl_job_name(source)).consecutive_failures == 0
    finally:
        site.stop()
    with Session(sqlite_engine) as session:
        runs = session.exec(select(CrawlRun).order_by(col(CrawlRun.id))).all()
        stored = {article.url for article in session.exec(select(Article))}
        alerts = session.exec(select(Alert)).all()
    assert [run.status for run in runs] == ["failed", "finished"]
    assert "killed after exceeding the time limit" in (runs[0].error or "")
    assert stored == {site.article_url(article.slug) for article in BORDER_DESK}
    assert alerts and {alert.channel for alert in alerts} == {"email"}, "the outbox hook is wired"


def test_stopping_while_the_source_sync_runs_returns(sqlite_engine: Engine) -> None:
    # APScheduler's shutdown holds its job-store lock while it waits for the running jobs: a source sync
    # reaching for that lock at that moment would wait for ever, and so would the stop of `monitor run`.
    for _attempt in range(20):
        jobs = make_jobs(sqlite_engine, RecordingLauncher())
        every = timedelta(milliseconds=5)
        scheduler = MonitorScheduler(jobs, options(sync_every=every, outbox_every=every))
        scheduler.start()
        assert jobs.health.wait_for(lambda records: records.get(SYNC_JOB, JobRecord()).runs >= 3, timeout=WAIT)
        stopping = threading.Thread(target=scheduler.stop, daemon=True)
        stopping.start()
        stopping.join(timeout=WAIT)
        assert not stopping.is_alive(), "the scheduler did not stop"
