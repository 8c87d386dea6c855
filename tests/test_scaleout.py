"""Scale-out on the local Redis and PostgreSQL: crawler workers sharing scrapy-redis's queue, dispatchers one outbox.

Workers run in child processes (as `monitor crawler` would), each test under its own random Redis key
prefix, removed afterwards. Waiting is always on an event or a polled condition (a process's end, rows in
the database, the site's request log) with a bound.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
import re
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import redis
from alert_servers import WAIT, SlackReceiver, SmtpReceiver, free_port, running_slack, running_smtp
from click.testing import CliRunner
from conftest import skip_or_fail
from newssite.content import CP1251_ARTICLE, EN_SITEMAP_ONLY, EN_TROOPS, RU_ARTICLE, SYNDICATED_COPY, UK_ARTICLE
from newssite.database import prepare_crawl_database
from newssite.server import OFF_TOPIC, OLD_OFF_TOPIC, NewsSite
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from alerts.channels.email import EmailChannel, SmtpConfig
from alerts.channels.slack import SlackChannel
from alerts.dispatcher import OutboxDispatcher
from monitor.cli import main
from monitor.config import Settings
from monitor.crawling.runs import CrawlLimits, fail_crawl_run
from monitor.crawling.scaleout import CrawlWorker, RedisCrawlLauncher, RedisKeys, ScaleOutError
from monitor.crawling.stale_runs import close_orphaned_runs
from monitor.demo.site import LOCAL_SITE_NETWORK
from monitor.service.signals import stop_on_signals
from monitor.storage.engine import make_engine, migrate, session_scope
from monitor.storage.models import Alert, AlertStatus, Article, CrawlRun, CrawlStatus, Match, Source, utcnow

pytest_plugins = ["conftest_newssite"]

REDIS_URL = os.environ.get("MONITOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SOURCE_KEYS = ("main", "world", "sitemap", "section")
STORED_PAGES = (EN_TROOPS, EN_SITEMAP_ONLY, RU_ARTICLE, UK_ARTICLE, CP1251_ARTICLE, SYNDICATED_COPY)
FETCHED_PAGES = (*STORED_PAGES, OFF_TOPIC, OLD_OFF_TOPIC)
# No waiting between requests; a generous timeout, since a retried page would count as fetched twice.
TEST_LIMITS = CrawlLimits(
    download_timeout=20.0,
    retry_times=1,
    backoff_base=0.05,
    backoff_max=0.2,
    autothrottle_start_delay=0.0,
    progress_every=1,
    ingest_workers=0,
    time_limit=60,
    allowed_networks=(LOCAL_SITE_NETWORK,),
)
RECIPIENTS = ("desk@example.org",)


# -- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}: {type(exc).__name__}")
    return REDIS_URL


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    prefix = f"claim-monitor-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    leftover = list(client.scan_iter(match=f"{prefix}:*", count=500))
    if leftover:
        client.delete(*leftover)
    client.close()


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    yield connection
    connection.close()


@pytest.fixture
def pg_engine(postgres_database: str) -> Iterator[Engine]:
    """A migrated, empty PostgreSQL database: the scale-out backend."""
    engine = make_engine(postgres_database)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    yield engine
    engine.dispose()


# -- worker processes ----------------------------------------------------------------------------------


def run_worker_process(overrides: dict[str, Any], key_prefix: str, name: str, once: bool, events: Any) -> None:
    """A crawler worker in a child process, as `monitor crawler` runs one; its crawler's pid goes on `events`."""
    settings = Settings(**overrides)
    engine = make_engine(settings.database_url)
    stop = threading.Event()
    worker = CrawlWorker(settings, engine, name=name, limits=TEST_LIMITS, key_prefix=key_prefix, stop=stop)
    original = worker.run

    def announce() -> None:
        while worker.pid is None and not stop.is_set():
            stop.wait(0.05)
        events.put((name, worker.pid))

    threading.Thread(target=announce, daemon=True).start()
    with stop_on_signals(stop):
        original(once=once)
    engine.dispose()


class Workers:
    """Starts worker processes; each reports the pid of its crawler process."""

    def __init__(self, overrides: dict[str, Any], key_prefix: str) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.events = self.context.Queue()
        self.overrides = overrides
        self.key_prefix = key_prefix
        self.started: list[Any] = []
        self.crawlers: dict[str, int] = {}

    def start(self, name: str, *, once: bool) -> Any:
        process = self.context.Process(
            target=run_worker_process,
            args=(self.overrides, self.key_prefix, name, once, self.events),
            name=f"worker-{name}",
        )
        process.start()
        self.started.append(process)
        return process

    def crawler_pid(self, name: str) -> int:
        while name not in self.crawlers:
            try:
                worker, pid = self.events.get(timeout=WAIT)
            except queue.Empty:
                pytest.fail(f"worker {name} started no crawler within {WAIT:.0f} s")
            self.crawlers[worker] = pid
        return self.crawlers[name]

    def join_all(self) -> list[int | None]:
        for process in self.started:
            process.join(WAIT * 3)
        return [process.exitcode for process in self.started]

    def kill_all(self) -> None:
        for pid in self.crawlers.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        for process in self.started:
            if process.exitcode is None:
                process.kill()
                process.join()


@pytest.fixture
def workers_for(key_prefix: str) -> Iterator[Callable[[dict[str, Any]], Workers]]:
    made: list[Workers] = []

    def make(overrides: dict[str, Any]) -> Workers:
        made.append(Workers(overrides, key_prefix))
        return made[-1]

    yield make
    for workers in made:
        workers.kill_all()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT * 3) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


def settings_overrides(
    engine: Engine, redis_url: str, smtp: SmtpReceiver | None = None, slack: SlackReceiver | None = None
) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "redis_url": redis_url,
    }
    if smtp is not None:
        overrides |= {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_starttls": False,
            "email_from": "monitor@example.org",
            "email_to": ",".join(RECIPIENTS),
        }
    if slack is not None:
        overrides["slack_webhook_url"] = slack.url
    return overrides


def source_urls(site: NewsSite, keys: tuple[str, ...] = SOURCE_KEYS) -> list[str]:
    return [site.url(NewsSite.FEED_PATHS[key]) for key in keys]


def stored_urls(engine: Engine) -> Counter[str]:
    with Session(engine) as session:
        return Counter(session.exec(select(Article.canonical_url)))


def crawl_runs(engine: Engine) -> list[CrawlRun]:
    with Session(engine) as session:
        return list(session.exec(select(CrawlRun).order_by(col(CrawlRun.id))))


def match_ids(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return sorted(match_id for match_id in session.exec(select(Match.id)) if match_id is not None)


def dispatchers(engine: Engine, smtp: SmtpReceiver, slack: SlackReceiver, http: httpx.Client) -> list[OutboxDispatcher]:
    """Two dispatchers on one outbox, claiming two rows at a time so that their passes interleave."""
    email = SmtpConfig(
        host="127.0.0.1", port=smtp.port, sender="monitor@example.org", recipients=RECIPIENTS, starttls=False
    )
    return [
        OutboxDispatcher(
            engine,
            {"email": EmailChannel(email), "slack": SlackChannel(SecretStr(slack.url), client=http)},
            cooldown=timedelta(0),
            batch_limit=2,
        )
        for _ in range(2)
    ]


def drain_together(outboxes: list[OutboxDispatcher]) -> None:
    """Drain the outbox with every dispatcher at once, each in its own thread, started together."""
    start = threading.Barrier(len(outboxes))
    failures: list[BaseException] = []

    def drain(outbox: OutboxDispatcher) -> None:
        try:
            start.wait(WAIT)
            outbox.drain()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=drain, args=(outbox,)) for outbox in outboxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads), "a dispatcher did not finish"


def emailed_match_ids(smtp: SmtpReceiver) -> list[int]:
    """Every match id the received emails carry (one entry per time it arrived)."""
    return sorted(
        int(match_id) for message in smtp.messages for match_id in str(message["X-Claim-Monitor-Matches"]).split(",")
    )


def slack_match_count(slack: SlackReceiver) -> int:
    """Matches announced by the received Slack messages ("3 new matches with baseline claims")."""
    counts = [re.search(r"(\d+) new match", str(payload["text"])) for payload in slack.payloads]
    assert all(counts), slack.payloads
    return sum(int(found.group(1)) for found in counts if found)


# -- whole runs ----------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_two_workers_store_each_article_once_and_two_dispatchers_send_each_alert_once(
    pg_engine: Engine,
    news_site: NewsSite,
    redis_url: str,
    key_prefix: str,
    client: redis.Redis,
    workers_for: Callable[[dict[str, Any]], Workers],
) -> None:
    prepare_crawl_database(pg_engine, news_site, keys=SOURCE_KEYS)
    urls = source_urls(news_site)
    with running_smtp() as smtp, running_slack() as slack, httpx.Client(timeout=5.0) as http:
        overrides = settings_overrides(pg_engine, redis_url, smtp, slack)
        launcher = RedisCrawlLauncher(Settings(**overrides), pg_engine, key_prefix=key_prefix)
        launcher.launch(urls)
        launcher.launch(urls)  # the scheduler's next tick: a pass still running is not handed out twice
        assert launcher.pending() == urls

        workers = workers_for(overrides)
        workers.start("w1", once=True)
        workers.start("w2", once=True)
        assert workers.join_all() == [0, 0]

        # Every article stored once, and no page fetched twice, whichever worker took it.
        assert stored_urls(pg_engine) == Counter(news_site.url(page.path) for page in STORED_PAGES)
        runs = crawl_runs(pg_engine)
        assert {page.path: len(news_site.requests_for(page.path)) for page in FETCHED_PAGES} == {
            page.path: 1 for page in FETCHED_PAGES
        }, json.dumps([(run.sources, run.status, run.errors) for run in runs])  # whole: a list would be cut short
        assert {
            url: len(news_site.requests_for(NewsSite.FEED_PATHS[key]))
            for key, url in zip(SOURCE_KEYS, urls, strict=True)
        } == {url: 1 for url in urls}, "no feed fetched twice"
        assert sorted(url for run in runs for url in run.sources) == sorted(urls), "one pass per source"
        assert {run.status for run in runs} == {CrawlStatus.finished}
        assert all(run.stats["partial"] is False for run in runs)
        assert launcher.pending() == [] and client.zcard(RedisKeys(key_prefix).requests) == 0
        # The queue and filter are the deployment's, not one per worker; every pass released its fingerprints.
        assert not list(client.scan_iter(match=f"{key_prefix}:*w1*"))
        assert client.scard(RedisKeys(key_prefix).dupefilter) == 0
        assert client.scard(RedisKeys(key_prefix).open_passes) == 0

        matches = match_ids(pg_engine)
        assert matches, "the site's pages speak to the baseline"
        drain_together(dispatchers(pg_engine, smtp, slack, http))

        assert emailed_match_ids(smtp) == matches
        assert slack_match_count(slack) == len(matches)
    with Session(pg_engine) as session:
        alerts = list(session.exec(select(Alert)))
    assert len(alerts) == 2 * len(matches)
    assert {(alert.status, alert.attempts) for alert in alerts} == {(AlertStatus.sent, 1)}


@pytest.mark.postgres
def test_a_worker_killed_mid_crawl_loses_nothing_and_doubles_nothing(
    pg_engine: Engine,
    news_site: NewsSite,
    redis_url: str,
    key_prefix: str,
    client: redis.Redis,
    workers_for: Callable[[dict[str, Any]], Workers],
) -> None:
    """w1 is SIGKILLed (with its crawler) mid-crawl; w2 takes the requests w1 left queued and finishes them.

    A pass that lost requests w1 had in hand is closed (its worker's process is gone), and the source's
    next pass stores what it missed: in the end every article is stored exactly once and emailed once.
    """
    keys = ("main", "world", "sitemap", "section")
    prepare_crawl_database(pg_engine, news_site, keys=keys)
    urls = source_urls(news_site, keys)
    with running_smtp() as smtp:
        overrides = settings_overrides(pg_engine, redis_url, smtp)
        launcher = RedisCrawlLauncher(Settings(**overrides), pg_engine, key_prefix=key_prefix)
        launcher.launch(urls)
        workers = workers_for(overrides)
        first = workers.start("w1", once=False)
        crawler = workers.crawler_pid("w1")
        wait_until(lambda: len(news_site.requests) >= 3, "w1 started fetching")
        os.killpg(crawler, signal.SIGKILL)  # the crawler and its article workers at once, as a dying container
        first.kill()
        first.join(WAIT)

        second = workers.start("w2", once=False)
        # The orphaned passes are closed as the scheduler's periodic job does; then every source is due again.
        wait_until(lambda: not close_and_count_running(pg_engine), "every pass ended")
        launcher.launch(urls)
        wait_until(lambda: not close_and_count_running(pg_engine), "the next passes ended")
        os.kill(second.pid, signal.SIGTERM)
        second.join(WAIT)

        assert stored_urls(pg_engine) == Counter(news_site.url(page.path) for page in STORED_PAGES)
        assert client.zcard(RedisKeys(key_prefix).requests) == 0, "the requests w1 left queued were taken"
        runs = crawl_runs(pg_engine)
        assert {run.status for run in runs[-len(urls) :]} == {CrawlStatus.finished}
        matches = match_ids(pg_engine)
        config = SmtpConfig(
            host="127.0.0.1", port=smtp.port, sender="monitor@example.org", recipients=RECIPIENTS, starttls=False
        )
        OutboxDispatcher(pg_engine, {"email": EmailChannel(config)}, cooldown=timedelta(0)).drain()
        assert emailed_match_ids(smtp) == matches


def close_and_count_running(engine: Engine) -> int:
    """What the scheduler's periodic job does (passes whose process is gone are closed); the runs still running."""
    close_orphaned_runs(engine)
    return sum(1 for run in crawl_runs(engine) if run.status == CrawlStatus.running)


def test_sigterm_stops_a_worker_with_status_0_and_leaves_its_queue_to_the_others(
    sqlite_engine: Engine,
    news_site: NewsSite,
    redis_url: str,
    key_prefix: str,
    workers_for: Callable[[dict[str, Any]], Workers],
) -> None:
    keys = ("main", "world")
    prepare_crawl_database(sqlite_engine, news_site, keys=keys)
    urls = source_urls(news_site, keys)
    overrides = settings_overrides(sqlite_engine, redis_url)
    RedisCrawlLauncher(Settings(**overrides), sqlite_engine, key_prefix=key_prefix).launch(urls)
    workers = workers_for(overrides)
    worker = workers.start("w1", once=False)  # without SIGTERM it would wait for sources for ever
    workers.crawler_pid("w1")
    wait_until(lambda: all(run.status != CrawlStatus.running for run in crawl_runs(sqlite_engine)), "both passes ended")
    os.kill(worker.pid, signal.SIGTERM)
    worker.join(WAIT)
    assert worker.exitcode == 0
    assert {run.status for run in crawl_runs(sqlite_engine)} == {CrawlStatus.finished}


# -- the parts -----------------------------------------------------------------------------------------


def test_a_source_is_handed_out_once_until_its_pass_is_recorded(
    sqlite_engine: Engine, redis_url: str, key_prefix: str
) -> None:
    with session_scope(sqlite_engine) as session:
        for url in ("https://a.example/feed", "https://b.example/feed"):
            session.add(Source(url=url))
    launcher = RedisCrawlLauncher(Settings(redis_url=redis_url), sqlite_engine, key_prefix=key_prefix)
    launcher.launch(["https://a.example/feed", "https://b.example/feed", "https://a.example/feed"])
    assert launcher.pending() == ["https://a.example/feed", "https://b.example/feed"]
    launcher.launch(["https://a.example/feed"])  # its pass is running: not handed out again
    assert launcher.pending() == ["https://a.example/feed", "https://b.example/feed"]

    [first, _] = crawl_runs(sqlite_engine)
    assert first.id is not None
    fail_crawl_run(sqlite_engine, first.id, reason="recorded")
    launcher.launch(["https://a.example/feed"])
    assert launcher.pending() == ["https://a.example/feed", "https://b.example/feed", "https://a.example/feed"]


def test_a_pass_past_its_time_limit_is_closed_as_failed(sqlite_engine: Engine, redis_url: str, key_prefix: str) -> None:
    with session_scope(sqlite_engine) as session:
        session.add(CrawlRun(sources=["https://a.example/feed"], started_at=utcnow() - timedelta(hours=1)))
        session.add(CrawlRun(sources=["https://b.example/feed"]))
    launcher = RedisCrawlLauncher(Settings(redis_url=redis_url), sqlite_engine, key_prefix=key_prefix, time_limit=60)
    assert len(launcher.close_overdue_runs(grace=30)) == 1
    old, fresh = crawl_runs(sqlite_engine)
    assert old.status == CrawlStatus.failed and "time limit of 60 s" in (old.error or "")
    assert fresh.status == CrawlStatus.running


def test_a_page_a_pass_read_stays_filtered_after_the_pass_ends(
    sqlite_engine: Engine, redis_url: str, key_prefix: str
) -> None:
    """Another source's pass may find a link before the first pass has stored its page, and enqueue it
    after that pass ended: the shared filter still drops it. A page the pass did not read (it failed) is
    released, for a later pass to request again."""
    from scrapy import Request

    from spiders.redis_scheduler import PassDupeFilter, RedisFeed, release_pass
    from spiders.spiders.news import RUN_META

    feed = RedisFeed(redis_url, key_prefix, sqlite_engine, TEST_LIMITS)
    shared = PassDupeFilter(feed.client, feed.keys.dupefilter)
    read, failed = "http://127.0.0.1:1/news/read", "http://127.0.0.1:1/news/failed"
    assert not shared.request_seen(Request(read, meta={RUN_META: 1}))
    assert not shared.request_seen(Request(failed, meta={RUN_META: 1}))
    feed.page_read(read)
    assert release_pass(feed.client, feed.keys, 1) == 2  # the filter itself empties, as ever
    assert shared.request_seen(Request(read, meta={RUN_META: 2})), "a page the first pass read"
    assert not shared.request_seen(Request(failed, meta={RUN_META: 2})), "a page that failed is requested again"


def test_a_pass_that_finds_a_page_another_pass_holds_does_not_release_it(
    sqlite_engine: Engine, redis_url: str, key_prefix: str
) -> None:
    """Three sources list one article: the first pass requests it, the second finds it held and ends; the
    page stays held until the first pass ends, so the third pass does not fetch it again. A pass that
    finds its own page twice still releases it."""
    from scrapy import Request

    from spiders.redis_scheduler import PassDupeFilter, RedisFeed, release_pass
    from spiders.spiders.news import RUN_META

    feed = RedisFeed(redis_url, key_prefix, sqlite_engine, TEST_LIMITS)
    shared = PassDupeFilter(feed.client, feed.keys.dupefilter)
    page = "http://127.0.0.1:1/news/listed-three-times"
    assert not shared.request_seen(Request(page, meta={RUN_META: 1}))
    assert shared.request_seen(Request(page, meta={RUN_META: 1})), "listed twice by one source"
    assert shared.request_seen(Request(page, meta={RUN_META: 2}))
    assert release_pass(feed.client, feed.keys, 2) == 0
    assert shared.request_seen(Request(page, meta={RUN_META: 3})), "still held by the first pass"
    assert release_pass(feed.client, feed.keys, 3) == 0
    assert release_pass(feed.client, feed.keys, 1) == 1
    assert not shared.request_seen(Request(page, meta={RUN_META: 4})), "released when its pass ended"


# -- errors ----------------------------------------------------------------------------------------------


def test_the_crawler_command_says_in_one_line_when_redis_is_unset_or_down(tmp_path: Any) -> None:
    runner = CliRunner()
    database = f"sqlite:///{tmp_path / 'monitor.db'}"

    unset = runner.invoke(main, ["--db", database, "crawler", "--once"])
    assert unset.exit_code == 1
    assert unset.output == "Error: MONITOR_REDIS_URL is not set: crawler workers take their sources from Redis\n"

    closed = f"redis://127.0.0.1:{free_port()}/0"
    down = runner.invoke(main, ["--db", database, "crawler", "--once"], env={"MONITOR_REDIS_URL": closed})
    assert down.exit_code == 1
    assert down.output.startswith(f"Error: cannot reach Redis at {closed}: ") and down.output.count("\n") == 1


def test_the_launcher_raises_one_line_when_redis_is_down(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        session.add(Source(url="https://a.example/feed"))
    closed = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    launcher = RedisCrawlLauncher(Settings(redis_url=closed), sqlite_engine)
    with pytest.raises(ScaleOutError) as raised:
        launcher.launch(["https://a.example/feed"])
    [run] = crawl_runs(sqlite_engine)
    assert run.status == CrawlStatus.failed, "the pass that could not be handed out is not left running"
    message = str(raised.value)
    assert message.startswith(f"cannot queue crawls in Redis at redis://:***@127.0.0.1:{closed.rsplit(':', 1)[1]}")
    assert "s3cret" not in message and "\n" not in message
