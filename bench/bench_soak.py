"""Soak run: the service (as `monitor run` starts it) crawling a local site that keeps publishing, for a while.

A local news site on 127.0.0.1 adds an article every few seconds to its feed; the service crawls the feed on
a short interval, delivers the alerts to a local SMTP sink and Slack-style receiver, and is stopped with
SIGTERM at the end. Reported: the service process's RSS at the start and the end (memory should stay flat),
every published article stored (expected vs stored), and the time from an article's appearance in the feed
to its first alert leaving the outbox (median, p95 and worst). The target (issue 16): p95 within the feed's
polling interval plus 60 s (`soak.alert_latency_within_target`; a miss fails the run).

Run: `.venv/bin/python bench/bench_soak.py [--duration 600] [--every 60] [--quick]` (`--quick`: 60 s).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from _common import REPO_DIR, Figures
from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor.catalog.baseline_store import load_bundled_baseline
from monitor.catalog.sources import add_source
from monitor.catalog.watch_terms import install_default_watch_terms
from monitor.demo.articles import NewsArticle
from monitor.demo.sinks import MailSink, SlackSink, free_port
from monitor.demo.site import LOCAL_SITE_NETWORK, LOCAL_SITE_POLICY, LocalNewsSite
from monitor.storage.engine import make_engine, migrate, session_scope
from monitor.storage.models import Alert, AlertStatus, Article, Claim, CrawlRun, CrawlStatus, Match, MetaEntry

READY = "Claim Monitor is running"
# Feed-to-alert latency target: the p95 within the polling interval plus this many seconds.
LATENCY_MARGIN = 60
FEED = "wire"

# The service exactly as `monitor run` builds it, with the soak's interval and without the alert cool-down
# (the soak measures how fast each alert leaves, not how alerts on one baseline claim are grouped).
SERVICE_SCRIPT = """
import json, logging, sys
from datetime import timedelta
from monitor.config import load_settings
from monitor.crawling.runs import CrawlLimits
from monitor.service.scheduler import SchedulerOptions
from monitor.service.run import ServiceOptions, run_service
from monitor.storage.engine import make_engine
logging.basicConfig(level=logging.WARNING)
knobs = json.loads(sys.argv[1])
settings = load_settings()
options = ServiceOptions(
    schedule=SchedulerOptions.from_settings(settings),
    crawl_limits=CrawlLimits.from_settings(settings, time_limit=knobs["time_limit"], autothrottle_start_delay=0.1),
    alert_cooldown=timedelta(0),
)
run_service(settings, make_engine(settings.database_url), host="127.0.0.1", port=knobs["port"], options=options)
"""

CLAIMS = (
    "Western defence officials now estimate that Minsk has around {troops:,} troops that could take part in a "
    "possible invasion.",
    "Some experts believe that Minsk has only around {troops:,} troops that could take part in a possible invasion.",
    "The Belarusian army does not have enough troops to fight a war against its southern neighbor, {who} said.",
    "Kyiv has already started tightening up the defense of Ukraine's border with Belarus, {who} said on {day}.",
    "Lukashenko said the Russian Army has never fired Iskander missiles from Belarus.",
    "Russia decreased the number of airstrikes on Ukraine from Belarusian territory, according to {who}.",
    "Russia is expected to stop using Belarusian territory for attacks on Ukraine, {who} said.",
    "Belarus has started forming people's militias as a reserve force of its territorial defence in the {region} "
    "region.",
    "The Russian and Belarusian armies continue holding joint battalion-level drills in Belarus, {who} said.",
    "With only {small:,} Russian troops in Belarus, Moscow cannot seize villages in northern Ukraine.",
)
FILLERS = (
    "Residents of {town} said queues at the border crossing had grown longer since {day}.",
    "{who} declined to comment on the movements of equipment reported near {town}.",
    "Satellite images published on {day} showed {count} vehicles parked at a training ground outside {town}.",
    "Local officials in {town} said the new checkpoint would stay open around the clock.",
    "Prices for fuel in the {region} region rose by {percent} percent over the past month, traders said.",
    "A spokesman for the border service said {count} people had crossed at {town} over the weekend.",
    "Opposition media reported that {count} reservists had been called up in the {region} region.",
    "Railway workers in {town} described trains carrying covered cargo heading south on {day}.",
    "Diplomats in Vilnius said talks on the transit of goods through {town} had stalled again.",
    "Farmers near {town} complained that military exercises had damaged roads used for the harvest.",
)
TOWNS = ("Brest", "Gomel", "Mozyr", "Pinsk", "Hrodna", "Vitebsk", "Asipovichy", "Lida", "Barysaw", "Mazyr")
REGIONS = ("Brest", "Gomel", "Hrodna", "Vitebsk", "Mogilev", "Minsk")
SOURCES = ("a senior Ukrainian official", "the defence ministry in Kyiv", "Western diplomats", "a NATO official")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def generated_article(number: int, rng: random.Random) -> NewsArticle:
    """A unique, on-topic article with two claims that speak to the baseline among ordinary news sentences."""

    def fill(template: str) -> str:
        return template.format(
            troops=rng.randrange(5, 40) * 1000,
            small=rng.randrange(2, 12) * 500,
            who=rng.choice(SOURCES),
            day=rng.choice(DAYS),
            region=rng.choice(REGIONS),
            town=rng.choice(TOWNS),
            count=rng.randrange(12, 900),
            percent=rng.randrange(2, 30),
        )

    sentences = [fill(template) for template in rng.sample(CLAIMS, 2) + rng.sample(FILLERS, 4)]
    rng.shuffle(sentences)
    town = rng.choice(TOWNS)
    return NewsArticle(
        slug=f"{number:05d}-{town.lower()}-{rng.randrange(16**6):06x}",
        title=f"{town}: report number {number} on Belarus and the border",
        author="Soak Desk",
        summary=sentences[0],
        paragraphs=(" ".join(sentences[:3]), " ".join(sentences[3:])),
        hours_ago=0.0,
    )


def p95(values: list[float]) -> float:
    """The 95th percentile of sorted `values` (nearest rank)."""
    return values[min(len(values) - 1, max(0, math.ceil(0.95 * len(values)) - 1))]


def rss_megabytes(pid: int) -> float:
    """Resident set size of `pid` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class ServiceOutput:
    """Lines the service printed, with an event for the ready line."""

    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def follow(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))
            if READY in line:
                self.ready.set()
        self.ready.set()  # the process ended: nobody waits for a line that will not come


def prepare_database(url: str, site: LocalNewsSite, every_seconds: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        load_bundled_baseline(session)
        install_default_watch_terms(session)
        session.add(MetaEntry(key="defaults_installed", value="1"))  # no real sources: the soak stays offline
        source = add_source(
            session, url=site.feed_url(FEED), outlet="Soak Wire", language="en", policy=LOCAL_SITE_POLICY
        )
        source.every_seconds = every_seconds  # shorter than `--every` allows: a soak wants many runs
    engine.dispose()


def publish_continuously(site: LocalNewsSite, every: float, stop: threading.Event, rng: random.Random) -> None:
    number = 0
    while not stop.is_set():
        number += 1
        site.publish(FEED, "Soak Wire", generated_article(number, rng))
        stop.wait(every)


def stored_urls(url: str) -> set[str]:
    engine = make_engine(url)
    with Session(engine) as session:
        urls = set(session.exec(select(col(Article.url))).all())
    engine.dispose()
    return urls


def first_alert_sent(url: str) -> dict[str, float]:
    """Article URL -> Unix time its first alert was marked sent."""
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(
            select(col(Article.url), func.min(col(Alert.sent_at)))
            .join(Claim, col(Claim.article_id) == col(Article.id))
            .join(Match, col(Match.claim_id) == col(Claim.id))
            .join(Alert, col(Alert.match_id) == col(Match.id))
            .where(col(Alert.status) == AlertStatus.sent)
            .group_by(col(Article.url))
        ).all()
    engine.dispose()
    return {
        article_url: (sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=UTC)).timestamp()
        for article_url, sent_at in rows
        if sent_at is not None
    }


def crawl_run_counts(url: str) -> tuple[int, int]:
    """(crawl runs, failed crawl runs)."""
    engine = make_engine(url)
    with Session(engine) as session:
        statuses = session.exec(select(col(CrawlRun.status))).all()
    engine.dispose()
    return len(statuses), sum(1 for status in statuses if status == CrawlStatus.failed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of publishing and crawling")
    parser.add_argument("--every", type=int, default=60, help="crawl interval of the feed, seconds")
    parser.add_argument("--publish-every", type=float, default=3.0, help="seconds between new articles")
    parser.add_argument("--quick", action="store_true", help="60 seconds")
    args = parser.parse_args()
    duration = 60.0 if args.quick else args.duration
    prefix = "soak.quick" if args.quick else "soak"
    figures = Figures()
    rng = random.Random(20240514)

    with tempfile.TemporaryDirectory(prefix="claim-monitor-soak-") as folder:
        database = f"sqlite:///{Path(folder) / 'soak.db'}"
        site, mail, slack = LocalNewsSite(), MailSink(), SlackSink()
        site.add_feed(FEED)
        for server in (site, mail, slack):
            server.start()
        prepare_database(database, site, args.every)
        env = {
            **os.environ,
            "MONITOR_DATABASE_URL": database,
            "MONITOR_CRAWL_ALLOWED_NETWORKS": LOCAL_SITE_NETWORK,
            "MONITOR_SMTP_HOST": mail.host,
            "MONITOR_SMTP_PORT": str(mail.port),
            "MONITOR_SMTP_STARTTLS": "false",
            "MONITOR_EMAIL_FROM": "soak@localhost",
            "MONITOR_EMAIL_TO": "desk@localhost",
            "MONITOR_SLACK_WEBHOOK_URL": slack.url,
            "PYTHONPATH": str(REPO_DIR),
        }
        knobs = json.dumps({"port": free_port(), "time_limit": max(60, 6 * args.every)})
        service = subprocess.Popen(
            [sys.executable, "-c", SERVICE_SCRIPT, knobs],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output = ServiceOutput()
        threading.Thread(target=output.follow, args=(service,), daemon=True).start()
        stop_publishing = threading.Event()
        try:
            if not output.ready.wait(120) or service.poll() is not None:
                print("\n".join(output.lines[-30:]), file=sys.stderr)
                raise SystemExit("the service did not start")
            rss_start = rss_megabytes(service.pid)
            publisher = threading.Thread(
                target=publish_continuously, args=(site, args.publish_every, stop_publishing, rng), daemon=True
            )
            publisher.start()
            stop_publishing.wait(duration)
            stop_publishing.set()
            publisher.join()
            published = {site.article_url(listing.article.slug): listing.appeared_at for listing in site.listings()}
            # Let the last articles be crawled and alerted: a few crawl intervals at most.
            settle = threading.Event()
            deadline_checks = int((4 * args.every + 120) / 2)
            for _ in range(deadline_checks):
                if set(published) <= stored_urls(database) and set(published) <= set(first_alert_sent(database)):
                    break
                settle.wait(2.0)
            rss_end = rss_megabytes(service.pid)
            service.send_signal(signal.SIGTERM)
            exit_status = service.wait(120)
        finally:
            stop_publishing.set()
            if service.poll() is None:
                service.kill()
            for server in (slack, mail, site):
                server.stop()

        stored = stored_urls(database) & set(published)
        sent = first_alert_sent(database)
        latencies = sorted(sent[url] - appeared for url, appeared in published.items() if url in sent)
        figures.add(f"{prefix}.duration", duration, "s", digits=0)
        figures.add(f"{prefix}.articles_published", len(published), "articles")
        figures.add(f"{prefix}.articles_stored", len(stored), "articles")
        figures.add(f"{prefix}.articles_missing", len(published) - len(stored), "articles")
        figures.add(f"{prefix}.rss_start", rss_start, "MB", digits=1)
        figures.add(f"{prefix}.rss_end", rss_end, "MB", digits=1)
        figures.add(f"{prefix}.rss_growth", rss_end / rss_start, "ratio", digits=2)
        runs, failed_runs = crawl_run_counts(database)
        figures.add(f"{prefix}.crawl_runs", runs, "runs")
        figures.add(f"{prefix}.crawl_runs_failed", failed_runs, "runs")
        figures.add(f"{prefix}.alerted_articles", len(latencies), "articles")
        if latencies:
            figures.add(f"{prefix}.alert_latency_median", statistics.median(latencies), "s", digits=1)
            figures.add(f"{prefix}.alert_latency_p95", p95(latencies), "s", digits=1)
            figures.add(f"{prefix}.alert_latency_worst", latencies[-1], "s", digits=1)
        within = bool(latencies) and p95(latencies) <= args.every + LATENCY_MARGIN
        figures.add(f"{prefix}.alert_latency_target", args.every + LATENCY_MARGIN, "s", digits=0)
        figures.add(f"{prefix}.alert_latency_within_target", int(within), "bool")
        figures.add(f"{prefix}.emails", len(mail.received), "messages")
        figures.add(f"{prefix}.slack_messages", len(slack.payloads), "messages")
        figures.add(f"{prefix}.clean_stop", 1 if exit_status == 0 else 0, "bool")
        figures.save()
    if len(stored) != len(published) or exit_status != 0:
        print(f"soak: {len(published) - len(stored)} article(s) not stored, exit status {exit_status}", file=sys.stderr)
        return 1
    if not within:
        print(f"soak: feed-to-alert p95 over the target ({args.every + LATENCY_MARGIN} s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
