"""Reliability: the service killed (SIGKILL) during a crawl and during delivery, and the database briefly away.

Counts are taken on the receiving side (the local SMTP server and Slack receiver): every match arrives once
per channel, however the service was killed and restarted, and every article is stored once.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alert_servers import WAIT, SlackReceiver, SmtpHandler, SmtpReceiver, free_port, running_smtp
from conftest import POSTGRES_ADMIN_URL, skip_or_fail
from factories import match
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select
from test_service import READY, ServiceProcess, prepare_service_database

from alerts.channels import EmailChannel, SmtpConfig
from alerts.dispatcher import OutboxDispatcher
from alerts.outbox import enqueue_match_alerts
from alerts.render import escape_mrkdwn
from monitor.catalog.sources import add_source
from monitor.catalog.watch_terms import install_default_watch_terms
from monitor.crawling.launchers import LocalCrawlLauncher
from monitor.crawling.runs import CrawlLimits
from monitor.demo.articles import BORDER_DESK
from monitor.demo.site import LOCAL_SITE_NETWORK, LOCAL_SITE_POLICY, LocalNewsSite
from monitor.service.jobs import OUTBOX_JOB, MonitorJobs, crawl_job_name
from monitor.service.scheduler import MonitorScheduler, SchedulerOptions, crawl_job_id
from monitor.storage.engine import make_engine, migrate, session_scope
from monitor.storage.models import Alert, AlertStatus, Article, Claim, CrawlRun, CrawlStatus, Match, Source, utcnow

# The service as `monitor run` starts it, with test-sized knobs: a short outbox lease (so a delivery a killed
# service left half-done is taken over within seconds) and the outbox drained every second.
SERVICE_SCRIPT = """
import json, logging, sys
from datetime import time, timedelta
from monitor.config import load_settings
from monitor.crawling.runs import CrawlLimits
from monitor.service.scheduler import SchedulerOptions
from monitor.service.run import ServiceOptions, run_service
from monitor.storage.engine import make_engine
logging.basicConfig(level=logging.INFO)
knobs = json.loads(sys.argv[1])
settings = load_settings()
options = ServiceOptions(
    schedule=SchedulerOptions.from_settings(
        settings, outbox_every=timedelta(seconds=1), sync_every=timedelta(seconds=1)
    ),
    crawl_limits=CrawlLimits.from_settings(settings, time_limit=60, autothrottle_start_delay=0.05),
    alert_cooldown=timedelta(0),
    outbox_lease=timedelta(seconds=knobs["lease"]),
)
run_service(settings, make_engine(settings.database_url), host="127.0.0.1", port=knobs["port"], options=options)
"""


class HoldingSmtpHandler(SmtpHandler):
    """Holds the next alert email (not a digest) until released, then refuses it: the sender is killed meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.hold_next_alert = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold_next_alert and b"X-Claim-Monitor-Matches" in envelope.content:
            self.hold_next_alert = False
            self.hold.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.hold.release.wait, WAIT)
            return "451 4.3.0 held message not accepted"
        return await super().handle_DATA(server, session, envelope)


def start_service(database_url: str, smtp: SmtpReceiver, slack: SlackReceiver, cwd: Path) -> ServiceProcess:
    env = {
        "MONITOR_DATABASE_URL": database_url,
        "MONITOR_SMTP_HOST": "127.0.0.1",
        "MONITOR_SMTP_PORT": str(smtp.port),
        "MONITOR_SMTP_STARTTLS": "false",
        "MONITOR_EMAIL_FROM": "monitor@example.org",
        "MONITOR_EMAIL_TO": "desk@example.org",
        "MONITOR_SLACK_WEBHOOK_URL": slack.url,
    }
    knobs = json.dumps({"lease": 2, "port": free_port()})
    service = ServiceProcess([sys.executable, "-c", SERVICE_SCRIPT, knobs], cwd=cwd, env=env)
    assert service.wait_for_line(READY), service.output
    return service


def emailed_match_ids(smtp: SmtpReceiver) -> Counter[int]:
    ids: Counter[int] = Counter()
    for message in smtp.messages:
        header = message["X-Claim-Monitor-Matches"]
        if header:
            ids.update(int(part) for part in str(header).split(","))
    return ids


def slacked_claims(slack: SlackReceiver) -> Counter[str]:
    """Each match's quoted claim line in the Slack messages received."""
    claims: Counter[str] = Counter()
    for payload in slack.payloads:
        for block in payload.get("blocks", []):
            lines = block.get("text", {}).get("text", "").split("\n") if block.get("type") == "section" else []
            if len(lines) > 1 and lines[0].startswith(("*REPEATED*", "*UPDATED*", "*CONTRADICTED*")):
                claims[lines[1].removeprefix(">")] += 1
    return claims


def stored_state(engine: Engine) -> tuple[list[str], dict[int, str]]:
    """(stored article URLs, claim text of every match by match id)."""
    with Session(engine) as session:
        urls = [article.url for article in session.exec(select(Article))]
        statement = select(col(Match.id), col(Claim.text)).join(Claim, col(Claim.id) == col(Match.claim_id))
        rows = session.exec(statement).all()
    return urls, {match_id: claim_text for match_id, claim_text in rows if match_id is not None}


@pytest.mark.slow
def test_killed_during_a_crawl_and_during_delivery_nothing_is_lost_or_sent_twice(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    prepare_service_database(sqlite_engine)
    database = sqlite_engine.url.render_as_string(hide_password=False)
    held_slug = BORDER_DESK[-1].slug
    article_held, release_article = threading.Event(), threading.Event()

    def hold_last_article(path: str) -> None:
        if path.endswith(held_slug) and not release_article.is_set():
            article_held.set()
            release_article.wait(WAIT)

    site = LocalNewsSite(on_request=hold_last_article)
    for article in BORDER_DESK:
        site.publish("border-desk", "Border Desk", article)
    site.start()
    smtp = SmtpReceiver()
    smtp.handler = HoldingSmtpHandler()
    smtp.start()
    slack = SlackReceiver()
    slack.start()
    try:
        with session_scope(sqlite_engine) as session:
            add_source(session, url=site.feed_url("border-desk"), outlet="Border Desk", policy=LOCAL_SITE_POLICY)

        # 1. Killed during a crawl: one article page is being fetched, others may be stored already.
        first = start_service(database, smtp, slack, tmp_path)
        assert article_held.wait(60), first.output
        first.kill_tree()
        release_article.set()

        # 2. Restarted: the interrupted run is recorded, the source crawled again; killed while an alert
        # email is being delivered (the server has not accepted it).
        assert isinstance(smtp.handler, HoldingSmtpHandler)
        smtp.handler.hold_next_alert = True
        second = start_service(database, smtp, slack, tmp_path)
        assert smtp.handler.hold.reached.wait(90), second.output
        second.kill_tree()
        smtp.handler.hold.release.set()

        # 3. Restarted again: the half-done delivery is taken over once its lease ends; everything arrives.
        third = start_service(database, smtp, slack, tmp_path)
        published = {site.article_url(article.slug) for article in BORDER_DESK}

        def all_stored_and(delivered: Callable[[dict[int, str]], bool]) -> Callable[[], bool]:
            def check() -> bool:
                urls, claims = stored_state(sqlite_engine)
                return set(urls) == published and delivered(claims)

            return check

        emailed = all_stored_and(lambda claims: set(emailed_match_ids(smtp)) >= set(claims))
        slacked = all_stored_and(
            lambda claims: set(slacked_claims(slack)) >= {escape_mrkdwn(claim) for claim in claims.values()}
        )
        with smtp.handler.arrived:
            assert smtp.handler.arrived.wait_for(emailed, 90), third.output
        with slack.arrived:
            assert slack.arrived.wait_for(slacked, 30), third.output
        assert third.stop() == 0, third.output
    finally:
        site.stop()
        smtp.stop()
        slack.stop()

    urls, claims = stored_state(sqlite_engine)
    assert sorted(urls) == sorted(published), "every article stored, once"
    assert claims, "the articles speak to the baseline"
    assert emailed_match_ids(smtp) == Counter(dict.fromkeys(claims, 1)), "every match emailed exactly once"
    assert slacked_claims(slack) == Counter({escape_mrkdwn(claim): 1 for claim in claims.values()})
    with Session(sqlite_engine) as session:
        alerts = session.exec(select(Alert).where(Alert.match_id.is_not(None))).all()  # type: ignore[union-attr]
        runs = session.exec(select(CrawlRun).order_by(col(CrawlRun.id))).all()
    assert {alert.status for alert in alerts} == {AlertStatus.sent}
    assert len(alerts) == 2 * len(claims)
    assert all(run.status != CrawlStatus.running for run in runs)
    assert "interrupted" in (runs[0].error or ""), "the run of the killed service is recorded as such"


# -- the database briefly unavailable -------------------------------------------------------------------


class SqliteWriteLock:
    """Another writer holding SQLite's write lock in an exclusive transaction."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def begin(self) -> None:
        self.connection.execute("BEGIN EXCLUSIVE")

    def end(self) -> None:
        self.connection.execute("ROLLBACK")
        self.connection.close()


class PostgresDatabaseAway:
    """The service's PostgreSQL database renamed away (its connections terminated), then put back."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.admin = make_engine(POSTGRES_ADMIN_URL)

    def _execute(self, statement: str, **parameters: str) -> None:
        with self.admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(statement), parameters)

    def begin(self) -> None:
        for _attempt in range(50):  # a job may reconnect between the terminate and the rename
            self._execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()",
                name=self.name,
            )
            try:
                self._execute(f'ALTER DATABASE "{self.name}" RENAME TO "{self.name}_away"')
                return
            except OperationalError:
                continue
        raise AssertionError("the database could not be taken away")

    def end(self) -> None:
        self._execute(f'ALTER DATABASE "{self.name}_away" RENAME TO "{self.name}"')


@pytest.fixture(params=["sqlite", "postgresql"])
def outage_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Callable[[], Any]]]:
    """(engine, a factory of the outage) on a database of its own: SQLite locked, or PostgreSQL renamed away."""
    if request.param == "sqlite":
        path = tmp_path / "monitor.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        yield engine, lambda: SqliteWriteLock(str(path))
        engine.dispose()
        return
    admin = make_engine(POSTGRES_ADMIN_URL)
    name = f"claim_monitor_outage_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}")
    engine = make_engine(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    migrate(engine)
    yield engine, lambda: PostgresDatabaseAway(name)
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for database in (name, f"{name}_away"):
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


def pending_alert(engine: Engine, claim_text: str) -> None:
    with session_scope(engine) as session:
        found = match(session, claim_text=claim_text)
        enqueue_match_alerts(session, matches=[found], channels=["email"], crawl_run_id=None)


@pytest.mark.slow
def test_jobs_fail_while_the_database_is_away_are_recorded_and_succeed_afterwards(
    outage_database: tuple[Engine, Callable[[], Any]],
) -> None:
    engine, make_outage = outage_database
    site = LocalNewsSite()
    site.publish("border-desk", "Border Desk", BORDER_DESK[0])
    site.start()
    with session_scope(engine) as session:
        install_default_watch_terms(session)
        source = add_source(session, url=site.feed_url("border-desk"), every="1h", policy=LOCAL_SITE_POLICY)
        source.last_crawled_at = utcnow()  # not due: the test starts its runs itself
        source_id = source.id
    assert source_id is not None
    pending_alert(engine, "Belarus has 9,000 troops near the Ukrainian border.")
    with running_smtp() as smtp:
        channel = EmailChannel(SmtpConfig("127.0.0.1", smtp.port, "m@example.org", ("r@example.org",), starttls=False))
        launcher = LocalCrawlLauncher(
            engine,
            limits=CrawlLimits(time_limit=60, autothrottle_start_delay=0.05, allowed_networks=(LOCAL_SITE_NETWORK,)),
            on_matches=None,
        )
        jobs = MonitorJobs(
            engine,
            launcher=launcher,
            dispatcher=OutboxDispatcher(engine, {"email": channel}, cooldown=timedelta(0)),
            digest_channels=["email"],
            digest_time=time(7),
            zone=ZoneInfo("Europe/Minsk"),
        )
        options = SchedulerOptions(
            default_every=timedelta(hours=1),
            digest_time=time(7),
            zone=jobs.zone,
            outbox_every=timedelta(seconds=1),
            sync_every=timedelta(seconds=1),
        )
        scheduler = MonitorScheduler(jobs, options)
        scheduler.start()
        try:
            assert len(smtp.handler.wait_for(1)) == 1, "delivered before the outage"
            outage = make_outage()
            outage.begin()
            try:
                scheduler.scheduler.modify_job(crawl_job_id(source_id), next_run_time=utcnow())
                crawl = crawl_job_name(source_id)
                assert jobs.health.wait_for(
                    lambda records: (
                        records.get(OUTBOX_JOB) is not None
                        and records[OUTBOX_JOB].consecutive_failures > 0
                        and records.get(crawl) is not None
                        and records[crawl].consecutive_failures > 0
                    ),
                    timeout=60,
                ), jobs.health.snapshot()
            finally:
                outage.end()
            assert scheduler.scheduler.running, "the service stays up"
            pending_alert(engine, "Belarus has 20,000 troops near the Ukrainian border.")
            assert len(smtp.handler.wait_for(2)) == 2, "the outbox works again at its next run"
            scheduler.scheduler.modify_job(crawl_job_id(source_id), next_run_time=utcnow())
            assert jobs.health.wait_for(lambda records: records[crawl].consecutive_failures == 0, timeout=90), (
                jobs.health.snapshot()
            )
        finally:
            scheduler.stop()
            site.stop()
    health = jobs.health.snapshot()
    assert health[OUTBOX_JOB].failures > 0 and health[crawl].failures > 0
    reason = health[crawl].last_error or ""
    assert "database" in reason, reason
    with Session(engine) as session:
        runs = session.exec(select(CrawlRun)).all()
        articles = session.exec(select(Article).where(Article.source_id == source_id)).all()
        sources = session.exec(select(Source)).all()
    assert [run.status for run in runs] == [CrawlStatus.finished], "the failed start left no half-made run"
    assert [article.url for article in articles] == [site.article_url(BORDER_DESK[0].slug)]
    assert sources[0].consecutive_failures == 0
