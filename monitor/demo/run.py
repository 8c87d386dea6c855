"""`run_demo`: one offline cycle of the whole service, crawl -> matches -> alerts -> digest, on 127.0.0.1.

It starts the local news site, a mail sink and a Slack-style receiver, makes a fresh demo database with
the bundled baseline and watch terms and the site's two feeds as sources, and then runs the service's own
job functions (`monitor.service.scheduler.MonitorJobs`): both sources crawled (as the scheduler would, in
parallel), the outbox drained, and today's digest built, stored and sent.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from alerts.channels import build_channels
from alerts.digest import local_today
from alerts.digest_render import digest_html
from alerts.dispatcher import OutboxDispatcher
from alerts.outbox import configured_channels, enqueue_channels, match_alert_hook
from monitor.catalog.baseline_store import load_bundled_baseline
from monitor.catalog.sources import add_source
from monitor.catalog.watch_terms import install_default_watch_terms
from monitor.config import Settings, load_settings
from monitor.crawling.launchers import LocalCrawlLauncher
from monitor.crawling.runs import CrawlLimits
from monitor.demo.articles import DEMO_FEEDS
from monitor.demo.sinks import MailSink, ReceivedMail, SlackSink, mail_as_text, slack_as_text, slack_headline
from monitor.demo.site import LOCAL_SITE_NETWORK, LOCAL_SITE_POLICY, LocalNewsSite
from monitor.errors import MonitorError
from monitor.service.jobs import MonitorJobs
from monitor.storage.engine import make_engine, migrate, session_scope
from monitor.storage.models import Article, CrawlRun, Match, MetaEntry, Source

Progress = Callable[[str], None]

DEMO_DATABASE = "demo.db"
DEMO_DIGEST = "demo-digest.html"
DEMO_MAIL = "demo-mail"
DEMO_SLACK = "demo-slack"
PREVIEW_LINES = 14  # how much of the first email and Slack message the summary shows
# The demo crawls its own site on loopback, so it need not wait as politely as on a real site.
DEMO_LIMITS = CrawlLimits(
    time_limit=45.0,
    download_timeout=10.0,
    autothrottle_start_delay=0.05,
    retry_times=1,
    allowed_networks=(LOCAL_SITE_NETWORK,),
)


@dataclass(frozen=True)
class CycleOutcome:
    """What one cycle left in the database and on disk."""

    articles_stored: int
    matches: Counter[str]
    digest_day: date
    digest_path: Path
    problems: list[str]


class DemoError(MonitorError):
    """The demo cycle did not complete (a crawl failed, or nothing was delivered); the message says what."""


@dataclass
class DemoReport:
    """What the demo did and where everything went."""

    data_dir: Path
    site: str
    articles_published: int
    articles_stored: int
    matches: Counter[str]
    mails: list[ReceivedMail]
    mail_server: str
    slack_messages: list[dict[str, Any]]
    digest_day: date
    digest_path: Path
    seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        """The demo database as an absolute URL, so the printed commands work from any folder."""
        return f"sqlite:///{(self.data_dir / DEMO_DATABASE).absolute()}"

    def lines(self, monitor_command: str = "monitor") -> list[str]:
        """The closing summary: what arrived where, a short look at the first email and Slack message,
        and the commands (starting with `monitor_command`, as this shell can run it) to look further."""
        verdicts = ", ".join(f"{self.matches.get(v, 0)} {v}" for v in ("repeated", "updated", "contradicted"))
        lines = [
            f"Demo finished in {self.seconds:.1f} s; nothing left 127.0.0.1.",
            f"Crawled the local news site ({self.site}): {self.articles_stored} of {self.articles_published} "
            f"articles stored, {sum(self.matches.values())} matches with baseline claims: {verdicts}.",
            "",
            f"Email, local SMTP sink at {self.mail_server}: {len(self.mails)} message(s), "
            f"saved as .eml files in {self.data_dir / DEMO_MAIL}/",
        ]
        lines += [f"  {mail.path.name if mail.path else '-'}  {mail.subject}" for mail in self.mails]
        lines.append(
            f"Slack, local webhook receiver: {len(self.slack_messages)} message(s), "
            f"saved as .json files in {self.data_dir / DEMO_SLACK}/"
        )
        lines += [f"  {slack_headline(payload)}" for payload in self.slack_messages]
        if self.mails:
            lines += ["", "The first email, as text:", *_preview(mail_as_text(self.mails[0].message))]
        if self.slack_messages:
            lines += ["", "The first Slack message, as text:", *_preview(slack_as_text(self.slack_messages[0]))]
        lines += [
            "",
            f"Digest for {self.digest_day.isoformat()}: {self.digest_path} (also sent by email and Slack)",
            f"Database: {self.data_dir / DEMO_DATABASE} (made afresh on every run)",
            f"Matches: {monitor_command} matches list --db {self.database_url}",
            f"Web UI: {monitor_command} serve --db {self.database_url}   then open http://127.0.0.1:8000/",
            "  (or run the demo as `monitor demo --serve` to browse its result at once)",
        ]
        lines += [f"Problem: {problem}" for problem in self.problems]
        return lines


def _preview(text: str) -> list[str]:
    lines = [line for line in text.strip().splitlines()]
    shown = [f"  | {line}".rstrip() for line in lines[:PREVIEW_LINES]]
    if len(lines) > PREVIEW_LINES:
        shown.append(f"  | … ({len(lines) - PREVIEW_LINES} more lines)")
    return shown


def demo_settings(database_url: str, mail: MailSink, slack: SlackSink) -> Settings:
    """Settings pointing every channel at the local receivers, whatever MONITOR_* the shell has."""
    return load_settings(
        database_url=database_url,
        smtp_host=mail.host,
        smtp_port=mail.port,
        smtp_user=None,
        smtp_password=None,
        smtp_starttls=False,
        email_from="claim-monitor@localhost",
        email_to=["newsroom@localhost"],
        slack_webhook_url=slack.url,
        web_host="127.0.0.1",
        redis_url=None,
        crawl_allowed_networks=[LOCAL_SITE_NETWORK],
    )


def fresh_demo_folder(data_dir: Path) -> None:
    """Remove what an earlier demo left (database with its WAL files, digest, emails)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in (DEMO_DATABASE, f"{DEMO_DATABASE}-wal", f"{DEMO_DATABASE}-shm", DEMO_DIGEST):
        (data_dir / name).unlink(missing_ok=True)
    shutil.rmtree(data_dir / DEMO_MAIL, ignore_errors=True)
    shutil.rmtree(data_dir / DEMO_SLACK, ignore_errors=True)


def prepare_demo_database(engine: Engine, site: LocalNewsSite) -> list[int]:
    """Schema, bundled baseline, default watch terms and the site's feeds as sources; return their ids.

    The real default sources are not installed (and marked as installed, so `monitor serve` on the demo
    database does not add them either): the demo never leaves 127.0.0.1.
    """
    migrate(engine)
    with session_scope(engine) as session:
        load_bundled_baseline(session)
        install_default_watch_terms(session)
        session.add(MetaEntry(key="defaults_installed", value="1"))
        ids = []
        for feed, (outlet, _articles) in DEMO_FEEDS.items():
            source = add_source(
                session, url=site.feed_url(feed), kind="feed", outlet=outlet, language="en", policy=LOCAL_SITE_POLICY
            )
            assert source.id is not None
            ids.append(source.id)
    return ids


def publish_demo_articles(site: LocalNewsSite) -> int:
    count = 0
    for feed, (outlet, articles) in DEMO_FEEDS.items():
        for article in articles:
            site.publish(feed, outlet, article)
            count += 1
    return count


def run_demo(data_dir: Path, *, progress: Progress | None = None) -> DemoReport:
    """Run the demo cycle with everything in `data_dir`; raise DemoError when it did not complete."""
    say = progress or (lambda _line: None)
    started = time.monotonic()
    fresh_demo_folder(data_dir)
    site = LocalNewsSite()
    mail = MailSink(data_dir / DEMO_MAIL)
    slack = SlackSink(data_dir / DEMO_SLACK)
    site.start()
    mail.start()
    slack.start()
    try:
        published = publish_demo_articles(site)
        say(f"Local news site at {site.base}: {published} articles in {len(DEMO_FEEDS)} feeds.")
        say(f"Local SMTP sink at {mail.host}:{mail.port}, local Slack receiver at {slack.url.split('/services')[0]}.")
        settings = demo_settings(f"sqlite:///{data_dir / DEMO_DATABASE}", mail, slack)
        engine = make_engine(settings.database_url)
        try:
            source_ids = prepare_demo_database(engine, site)
            say("Fresh demo database with the bundled baseline; crawling both feeds…")
            outcome = _run_cycle(engine, settings, source_ids, data_dir, say)
        finally:
            engine.dispose()
    finally:
        slack.stop()
        mail.stop()
        site.stop()
    report = DemoReport(
        data_dir=data_dir,
        site=site.base,
        articles_published=published,
        articles_stored=outcome.articles_stored,
        matches=outcome.matches,
        mails=mail.received,
        mail_server=f"{mail.host}:{mail.port}",
        slack_messages=slack.payloads,
        digest_day=outcome.digest_day,
        digest_path=outcome.digest_path,
        seconds=time.monotonic() - started,
        problems=outcome.problems,
    )
    if not report.mails or not report.slack_messages:
        raise DemoError("the demo delivered nothing: " + ("; ".join(report.problems) or "no alerts were sent"))
    return report


def _run_cycle(
    engine: Engine, settings: Settings, source_ids: list[int], data_dir: Path, say: Progress
) -> CycleOutcome:
    """Crawl every source, deliver the alerts, send today's digest: the scheduler's jobs, once each."""
    launcher = LocalCrawlLauncher(engine, limits=DEMO_LIMITS, on_matches=match_alert_hook(enqueue_channels(settings)))
    channels = build_channels(settings)
    # No cool-down: the demo shows every match delivered, not held back behind an earlier alert.
    dispatcher = OutboxDispatcher.from_settings(engine, settings, channels, cooldown=timedelta(0))
    jobs = MonitorJobs(
        engine,
        launcher=launcher,
        dispatcher=dispatcher,
        digest_channels=configured_channels(settings),
        digest_time=settings.digest_time,
        zone=settings.zone,
    )
    with ThreadPoolExecutor(len(source_ids)) as pool:
        list(pool.map(jobs.crawl_source, source_ids))
    say("Crawled; delivering alerts…")
    jobs.drain_outbox()
    today = local_today(settings.zone)
    sending = jobs.send_daily_digest(today)
    digest_path = data_dir / DEMO_DIGEST
    if sending is not None:
        digest_path.write_text(digest_html(sending.content), encoding="utf-8")
    problems = [f"{name}: {record.last_error}" for name, record in jobs.health.snapshot().items() if record.last_error]
    with session_scope(engine) as session:
        stored = session.exec(select(func.count()).select_from(Article)).one()
        matches = Counter(session.exec(select(col(Match.verdict))).all())
        problems += [
            f"crawl run {run.id}: {run.error}"
            for run in session.exec(select(CrawlRun).where(col(CrawlRun.error).is_not(None)))
        ]
        problems += [
            f"source {source.url}: {source.last_error}"
            for source in session.exec(select(Source).where(col(Source.last_error).is_not(None)))
        ]
    return CycleOutcome(int(stored), matches, today, digest_path, problems)
