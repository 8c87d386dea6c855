"""The crawler that stays up (the embedded default): one process, one open spider, fed source passes.

Waiting is by polling the database with a generous bound, never by sleeping a fixed time.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from alert_servers import free_port
from newssite.content import CP1251_ARTICLE, EN_SITEMAP_ONLY, EN_TROOPS, RU_ARTICLE, SYNDICATED_COPY, UK_ARTICLE
from newssite.database import prepare_crawl_database
from newssite.server import NewsSite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.catalog.sources import add_source
from monitor.catalog.watch_terms import install_default_watch_terms
from monitor.crawling.launchers import CrawlerLauncher
from monitor.crawling.runs import CrawlLimits
from monitor.demo.site import LOCAL_SITE_NETWORK
from monitor.http.safety import AddressPolicy
from monitor.storage.engine import session_scope
from monitor.storage.models import Article, CrawlRun, CrawlStatus, Source, WatchTerm

pytest_plugins = ["conftest_newssite"]

WAIT = 120.0
LIMITS = CrawlLimits(
    download_timeout=5.0,
    retry_times=1,
    backoff_base=0.05,
    backoff_max=0.2,
    autothrottle_start_delay=0.0,
    ingest_workers=0,
    time_limit=90,
    allowed_networks=(LOCAL_SITE_NETWORK, "127.0.0.2/32"),
)
KEYS = ("main", "world", "sitemap", "section")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)


def runs(engine: Engine) -> list[CrawlRun]:
    with Session(engine) as session:
        return list(session.exec(select(CrawlRun).order_by(col(CrawlRun.id))))


def all_ended(engine: Engine, count: int) -> Callable[[], bool]:
    def check() -> bool:
        found = runs(engine)
        return len(found) >= count and all(run.status != CrawlStatus.running for run in found)

    return check


@pytest.fixture
def launcher(sqlite_engine: Engine) -> Iterator[CrawlerLauncher]:
    finished: list[tuple[int, str]] = []
    made = CrawlerLauncher(sqlite_engine, limits=LIMITS, on_matches=None, on_finished=lambda *a: finished.append(a))
    made.finished = finished  # type: ignore[attr-defined]
    yield made
    made.stop(10.0)


def test_each_source_is_a_recorded_pass_of_one_crawler_process_that_stays_up(
    sqlite_engine: Engine, news_site: NewsSite, launcher: CrawlerLauncher
) -> None:
    prepare_crawl_database(sqlite_engine, news_site, keys=KEYS)
    urls = [news_site.url(NewsSite.FEED_PATHS[key]) for key in KEYS]
    launcher.launch(urls[:2])
    launcher.launch(urls[:1])  # still under way: not handed over twice
    pid = launcher.crawler.pid
    wait_until(all_ended(sqlite_engine, 2), "the first two passes were recorded")
    launcher.launch(urls[2:])
    wait_until(all_ended(sqlite_engine, 4), "the other two passes were recorded")
    assert launcher.crawler.pid == pid, "one crawler process for every pass"

    recorded = runs(sqlite_engine)
    assert [run.sources for run in recorded] == [[url] for url in urls]
    assert {run.status for run in recorded} == {CrawlStatus.finished}
    assert all(run.stats["partial"] is False and run.stats["pages_fetched"] >= 1 for run in recorded)
    assert sorted(run_id for run_id, _ in launcher.finished) == [run.id for run in recorded]  # type: ignore[attr-defined]
    with Session(sqlite_engine) as session:
        stored = Counter(session.exec(select(Article.canonical_url)))
        articles = list(session.exec(select(Article)))
        sources = list(session.exec(select(Source)))
    expected = {
        news_site.url(page.path)
        for page in (EN_TROOPS, EN_SITEMAP_ONLY, RU_ARTICLE, UK_ARTICLE, CP1251_ARTICLE, SYNDICATED_COPY)
    }
    assert set(stored) == expected and set(stored.values()) == {1}, "every article stored once"
    # Each article is stored under the pass that found it.
    assert {article.crawl_run_id for article in articles} <= {run.id for run in recorded}
    assert all(source.last_status in ("ok", "partial") and source.last_crawled_at for source in sources)
    # The syndicated copy is stored and linked to its original ("duplicate"), not counted as new.
    assert sum(run.stats["articles"]["new"] + run.stats["articles"]["duplicate"] for run in recorded) == len(expected)


def test_an_unreachable_source_fails_fast_and_its_host_is_remembered_while_others_go_on(
    sqlite_engine: Engine, news_site: NewsSite, launcher: CrawlerLauncher
) -> None:
    prepare_crawl_database(sqlite_engine, news_site, keys=("main",))
    port = free_port()
    closed = [f"http://127.0.0.2:{port}/feed-{n}.xml" for n in range(2)]
    with session_scope(sqlite_engine) as session:
        policy = AddressPolicy.allowing([LOCAL_SITE_NETWORK, "127.0.0.2/32"])
        for url in closed:
            add_source(session, url=url, kind="feed", policy=policy)
    launcher.launch([closed[0], news_site.url(NewsSite.FEED_PATHS["main"])])
    wait_until(all_ended(sqlite_engine, 2), "both passes were recorded")
    launcher.launch([closed[1]])  # the same host: remembered as unreachable, so it fails at once
    wait_until(all_ended(sqlite_engine, 3), "the third pass was recorded")

    first, feed, second = runs(sqlite_engine)
    assert feed.status == CrawlStatus.finished and feed.stats["articles"]["new"] >= 1
    assert first.errors[0]["url"] == closed[0] and "cannot connect" in first.errors[0]["reason"]
    assert "host unreachable at an earlier attempt" in second.errors[0]["reason"]
    assert second.stats["pages_fetched"] == 0
    with Session(sqlite_engine) as session:
        failing = session.exec(select(Source).where(Source.url == closed[0])).one()
    assert failing.last_status == "failed" and failing.consecutive_failures == 1


def test_a_watch_term_added_while_the_crawler_runs_is_used_by_its_next_passes(
    sqlite_engine: Engine, news_site: NewsSite
) -> None:
    prepare_crawl_database(sqlite_engine, news_site, keys=("main", "world"))
    with session_scope(sqlite_engine) as session:
        terms = list(session.exec(select(WatchTerm)))
        for term in terms:
            session.delete(term)
        session.add(WatchTerm(term="Nothing on this site", term_key="nothing on this site"))
    limits = replace(LIMITS, extra_settings={"MONITOR_CATALOG_CHECK_SECONDS": 0})
    launcher = CrawlerLauncher(sqlite_engine, limits=limits, on_matches=None)
    try:
        launcher.launch([news_site.url(NewsSite.FEED_PATHS["main"])])
        wait_until(all_ended(sqlite_engine, 1), "the first pass was recorded")
        [first] = runs(sqlite_engine)
        assert first.stats["articles"]["new"] == 0 and first.stats["articles"]["not_on_topic"] >= 1
        with session_scope(sqlite_engine) as session:
            install_default_watch_terms(session)
        launcher.launch([news_site.url(NewsSite.FEED_PATHS["world"])])
        wait_until(all_ended(sqlite_engine, 2), "the second pass was recorded")
        pid = launcher.crawler.pid
    finally:
        launcher.stop(10.0)
    second = runs(sqlite_engine)[1]
    assert second.stats["articles"]["new"] >= 1, "the new watch terms were picked up without a restart"
    assert pid is not None
