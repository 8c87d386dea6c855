"""Scale-out on the local Redis and PostgreSQL: crawler workers sharing one queue, dispatchers sharing one outbox.

Workers run in child processes (as `monitor crawler` would), each test under its own random Redis key
prefix, removed afterwards. Waiting is always on an event (a worker's progress message, a process's end)
with a bound.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import re
import signal
import threading
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
from monitor.crawling.runs import CrawlLimits
from monitor.crawling.scaleout import (
    ArticleClaims,
    CrawlWorker,
    RedisCrawlLauncher,
    RedisKeys,
    ScaleOutError,
    SourceQueue,
)
from monitor.demo.site import LOCAL_SITE_NETWORK
from monitor.service.signals import stop_on_signals
from monitor.storage.engine import make_engine, migrate, session_scope
from monitor.storage.models import Alert, AlertStatus, Article, CrawlRun, CrawlStatus, Match

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


def run_worker_process(
    overrides: dict[str, Any], key_prefix: str, name: str, once: bool, batch_size: int, events: Any
) -> None:
    """A crawler worker in a child process, as `monitor crawler` runs one: SIGTERM ends it after its source.

    Every progress snapshot is put on `events` as (name, snapshot), so the test can act mid-crawl.
    """
    settings = Settings(**overrides)
    engine = make_engine(settings.database_url)
    stop = threading.Event()
    worker = CrawlWorker(
        settings,
        engine,
        name=name,
        limits=TEST_LIMITS,
        batch_size=batch_size,
        key_prefix=key_prefix,
        on_progress=lambda snapshot: events.put((name, snapshot)),
        stop=stop,
    )
    with stop_on_signals(stop):
        worker.run(once=once)
    engine.dispose()


class Workers:
    """Starts worker processes and follows their progress messages."""

    def __init__(self, overrides: dict[str, Any], key_prefix: str) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.events = self.context.Queue()
        self.overrides = overrides
        self.key_prefix = key_prefix
        self.started: list[Any] = []

    def start(self, name: str, *, once: bool, batch_size: int = 1) -> Any:
        process = self.context.Process(
            target=run_worker_process,
            args=(self.overrides, self.key_prefix, name, once, batch_size, self.events),
            name=f"worker-{name}",
        )
        process.start()
        self.started.append(process)
        return process

    def wait_for_progress(self, name: str, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first progress snapshot of worker `name` meeting `condition` (fails after WAIT seconds)."""
        while True:
            try:
                worker, snapshot = self.events.get(timeout=WAIT)
            except queue.Empty:
                pytest.fail(f"worker {name} reported no such progress within {WAIT:.0f} s")
            if worker == name and condition(snapshot):
                return dict(snapshot)

    def join_all(self) -> list[int | None]:
        for process in self.started:
            process.join(WAIT * 2)
        return [process.exitcode for process in self.started]

    def kill_all(self) -> None:
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
    workers_for: Callable[[dict[str, Any]], Workers],
) -> None:
    prepare_crawl_database(pg_engine, news_site, keys=SOURCE_KEYS)
    urls = source_urls(news_site)
    with running_smtp() as smtp, running_slack() as slack, httpx.Client(timeout=5.0) as http:
        overrides = settings_overrides(pg_engine, redis_url, smtp, slack)
        launcher = RedisCrawlLauncher(Settings(**overrides), key_prefix=key_prefix)
        launcher.launch(urls)
        launcher.launch(urls)  # the scheduler's next tick: nothing is queued twice
        assert launcher.queue.pending() == urls

        workers = workers_for(overrides)
        # Two sources per run: both workers get work, with half the runs' start-up time.
        workers.start("w1", once=True, batch_size=2)
        workers.start("w2", once=True, batch_size=2)
        assert workers.join_all() == [0, 0]

        # Every article stored once, and no article page fetched twice, whichever worker found it first.
        assert stored_urls(pg_engine) == Counter(news_site.url(page.path) for page in STORED_PAGES)
        runs = crawl_runs(pg_engine)
        assert {page.path: len(news_site.requests_for(page.path)) for page in FETCHED_PAGES} == {
            page.path: 1 for page in FETCHED_PAGES
        }, [(run.sources, run.status, run.errors) for run in runs]
        assert sorted(url for run in runs for url in run.sources) == sorted(urls)
        assert {run.status for run in runs} == {CrawlStatus.finished}
        assert launcher.queue.pending() == [] and launcher.queue.processing("w1") == []

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
def test_a_worker_killed_mid_crawl_and_restarted_loses_and_doubles_nothing(
    pg_engine: Engine,
    news_site: NewsSite,
    redis_url: str,
    key_prefix: str,
    client: redis.Redis,
    workers_for: Callable[[dict[str, Any]], Workers],
) -> None:
    keys = ("main", "world", "section")
    prepare_crawl_database(pg_engine, news_site, keys=keys)
    urls = source_urls(news_site, keys)
    with running_smtp() as smtp:
        overrides = settings_overrides(pg_engine, redis_url, smtp)
        RedisCrawlLauncher(Settings(**overrides), key_prefix=key_prefix).launch(urls)
        workers = workers_for(overrides)
        first = workers.start("w1", once=True, batch_size=len(urls))

        workers.wait_for_progress("w1", lambda snapshot: snapshot["pages_fetched"] >= 2)
        # Kill the worker and its crawl process at once, as when a container dies.
        crawling = client.hgetall(RedisKeys(key_prefix).worker("w1"))
        first.kill()
        os.killpg(int(crawling["crawl_pid"]), signal.SIGKILL)
        first.join(WAIT)
        killed_run = int(crawling["crawl_run_id"])
        source_queue = SourceQueue(client, RedisKeys(key_prefix))
        assert sorted(source_queue.processing("w1")) == sorted(crawling["sources"].split()), "nothing is lost"

        restarted = workers.start("w1", once=True, batch_size=len(urls))
        restarted.join(WAIT * 2)
        assert restarted.exitcode == 0

        assert stored_urls(pg_engine) == Counter(
            news_site.url(page.path) for page in (EN_TROOPS, RU_ARTICLE, CP1251_ARTICLE, UK_ARTICLE, SYNDICATED_COPY)
        )
        runs = {run.id: run for run in crawl_runs(pg_engine)}
        assert runs[killed_run].status == CrawlStatus.failed
        assert runs[killed_run].error == "the crawler worker w1 was restarted during this run"
        finished = [run for run in runs.values() if run.id != killed_run]
        assert sorted(url for run in finished for url in run.sources) == sorted(urls)
        assert {run.status for run in finished} == {CrawlStatus.finished}
        assert source_queue.pending() == [] and source_queue.processing("w1") == []

        # The killed run's alerts are released by its failure, and each match is emailed once.
        matches = match_ids(pg_engine)
        config = SmtpConfig(
            host="127.0.0.1", port=smtp.port, sender="monitor@example.org", recipients=RECIPIENTS, starttls=False
        )
        OutboxDispatcher(pg_engine, {"email": EmailChannel(config)}, cooldown=timedelta(0)).drain()
        assert emailed_match_ids(smtp) == matches


def test_sigterm_lets_the_current_source_finish_then_the_worker_exits_0(
    sqlite_engine: Engine,
    news_site: NewsSite,
    redis_url: str,
    key_prefix: str,
    client: redis.Redis,
    workers_for: Callable[[dict[str, Any]], Workers],
) -> None:
    keys = ("main", "world")
    prepare_crawl_database(sqlite_engine, news_site, keys=keys)
    urls = source_urls(news_site, keys)
    overrides = settings_overrides(sqlite_engine, redis_url)
    RedisCrawlLauncher(Settings(**overrides), key_prefix=key_prefix).launch(urls)
    workers = workers_for(overrides)
    worker = workers.start("w1", once=False)  # without SIGTERM it would wait for sources for ever

    workers.wait_for_progress("w1", lambda snapshot: snapshot["pages_fetched"] >= 1)
    os.kill(worker.pid, signal.SIGTERM)
    worker.join(WAIT)

    assert worker.exitcode == 0
    [run] = crawl_runs(sqlite_engine)
    assert run.status == CrawlStatus.finished and run.sources == [urls[0]]
    source_queue = SourceQueue(client, RedisKeys(key_prefix))
    assert source_queue.pending() == [urls[1]] and source_queue.processing("w1") == []
    assert not client.smembers(RedisKeys(key_prefix).workers), "the worker left the registry"


# -- the parts -----------------------------------------------------------------------------------------


def test_a_source_is_queued_once_until_its_crawl_is_acknowledged(
    redis_url: str, key_prefix: str, client: redis.Redis
) -> None:
    launcher = RedisCrawlLauncher(Settings(redis_url=redis_url), key_prefix=key_prefix)
    launcher.launch(["https://a.example/feed", "https://b.example/feed", "https://a.example/feed"])
    assert launcher.queue.pending() == ["https://a.example/feed", "https://b.example/feed"]

    taken = launcher.queue.take("w1", timeout=None)
    assert taken is not None and taken.url == "https://a.example/feed"
    launcher.launch(["https://a.example/feed"])  # being crawled: not queued again
    assert launcher.queue.pending() == ["https://b.example/feed"]

    launcher.queue.ack("w1", taken)
    launcher.launch(["https://a.example/feed"])
    assert launcher.queue.pending() == ["https://b.example/feed", "https://a.example/feed"]
    assert launcher.queue.processing("w1") == []


def test_an_article_claim_belongs_to_one_run_until_released(key_prefix: str, client: redis.Redis) -> None:
    keys = RedisKeys(key_prefix)
    first = ArticleClaims(client, keys, crawl_run_id=1, ttl=60)
    second = ArticleClaims(client, keys, crawl_run_id=2, ttl=60)

    assert first.claim("page-fingerprint")
    assert first.claim("page-fingerprint"), "a retry or redirect of the same run keeps its claim"
    assert not second.claim("page-fingerprint")
    assert second.claim("other-page")

    assert first.release() == 1
    assert second.claim("page-fingerprint")
    assert second.release() == 2
    assert not list(client.scan_iter(match=f"{key_prefix}:*"))


def test_a_live_worker_takes_over_a_dead_one(
    sqlite_engine: Engine, redis_url: str, key_prefix: str, client: redis.Redis
) -> None:
    keys = RedisKeys(key_prefix)
    source_queue = SourceQueue(client, keys)
    source_queue.push("https://a.example/feed")
    source_queue.push("https://b.example/feed")
    # A worker that took a source and started a run, then died: registered, but its heartbeat is gone.
    with session_scope(sqlite_engine) as session:
        run = CrawlRun(sources=["https://a.example/feed"])
        session.add(run)
        session.flush()
        run_id = run.id
    assert run_id is not None
    assert source_queue.take("ghost", timeout=None) is not None
    client.sadd(keys.workers, "ghost", "busy")
    client.hset(keys.worker("ghost"), mapping={"sources": "https://a.example/feed", "crawl_run_id": run_id})
    ArticleClaims(client, keys, crawl_run_id=run_id, ttl=60).claim("page")
    client.set(keys.heartbeat("busy"), "1", ex=60)  # alive: left alone

    live = CrawlWorker(Settings(redis_url=redis_url), sqlite_engine, name="live", key_prefix=key_prefix)
    assert live.recover_dead_workers() == ["ghost"]

    assert source_queue.pending() == ["https://a.example/feed", "https://b.example/feed"]
    assert source_queue.processing("ghost") == []
    assert client.smembers(keys.workers) == {"busy"}
    with Session(sqlite_engine) as session:
        failed = session.get(CrawlRun, run_id)
    assert failed is not None and failed.status == CrawlStatus.failed
    assert failed.error == "the crawler worker ghost stopped responding during this run"
    assert ArticleClaims(client, keys, crawl_run_id=run_id + 1, ttl=60).claim("page"), "its claims are released"


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


def test_the_launcher_raises_one_line_when_redis_is_down() -> None:
    closed = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    launcher = RedisCrawlLauncher(Settings(redis_url=closed))
    with pytest.raises(ScaleOutError) as raised:
        launcher.launch(["https://a.example/feed"])
    message = str(raised.value)
    assert message.startswith(f"cannot queue crawls in Redis at redis://:***@127.0.0.1:{closed.rsplit(':', 1)[1]}")
    assert "s3cret" not in message and "\n" not in message
