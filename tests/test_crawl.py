"""Whole crawls of the local news site: what is stored, what is reported, and what a second run does."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from click.testing import CliRunner
from newssite.content import CP1251_ARTICLE, GOOD_ARTICLES, SYNDICATED_COPY
from newssite.database import prepare_crawl_database
from newssite.hooks import record_matches_in_meta
from newssite.server import HARD_CASES, LAST_MODIFIED, OLD_OFF_TOPIC, NewsSite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from monitor.cli import main
from monitor.crawling.runs import CrawlLimits, RunningCrawl, run_crawl, start_crawl
from monitor.demo.site import LOCAL_SITE_NETWORK
from monitor.storage.models import Article, CrawlRun, Match, MetaEntry, Source

pytest_plugins = ["conftest_newssite"]

# Tiny timeouts and retry delays keep a whole crawl of the site to a few seconds.
TEST_LIMITS = CrawlLimits(
    download_timeout=1.0,
    retry_times=1,
    backoff_base=0.05,
    backoff_max=0.2,
    max_page_bytes=2 * 1024 * 1024,
    autothrottle_start_delay=0.0,
    progress_every=1,
    ingest_workers=0,
    time_limit=60,
    allowed_networks=(LOCAL_SITE_NETWORK,),
)


def _stored(engine: Engine) -> dict[str, Article]:
    with Session(engine) as session:
        rows = list(session.exec(select(Article)))
    by_url = {row.canonical_url: row for row in rows}
    assert len(by_url) == len(rows), "an article was stored twice"
    return by_url


def _expected_urls(site: NewsSite) -> set[str]:
    return {site.url(page.path) for page in (*GOOD_ARTICLES, SYNDICATED_COPY)}


def _source(engine: Engine, site: NewsSite, key: str) -> Source:
    with Session(engine) as session:
        row = session.exec(select(Source).where(Source.url == site.url(NewsSite.FEED_PATHS[key]))).one()
    return row


def _errors_by_url(errors: list[dict[str, str]]) -> dict[str, str]:
    return {error["url"]: error["reason"] for error in errors}


def test_crawl_stores_every_good_article_once_and_reports_every_planted_failure(
    sqlite_engine: Engine, news_site: NewsSite
) -> None:
    prepare_crawl_database(sqlite_engine, news_site)
    # The production shape: pages analyzed in two worker processes at once, stored by a writer process.
    limits = replace(TEST_LIMITS, ingest_workers=2)
    summary = run_crawl(sqlite_engine, limits=limits, on_matches=record_matches_in_meta)

    assert summary.status == "finished" and summary.error is None
    stored = _stored(sqlite_engine)
    assert set(stored) == _expected_urls(news_site)
    # The syndicated copy and the original: one of them links to the other, whichever came first.
    pair = stored[news_site.url(SYNDICATED_COPY.path)], stored[news_site.url(GOOD_ARTICLES[0].path)]
    assert sorted(article.duplicate_of_id is None for article in pair) == [False, True]
    cp1251 = stored[news_site.url(CP1251_ARTICLE.path)]
    assert CP1251_ARTICLE.paragraphs[0] in cp1251.text and cp1251.language == "ru"
    assert {stored[news_site.url(page.path)].language for page in GOOD_ARTICLES} == {"en", "ru", "uk"}

    report = summary.report
    assert report.articles["new"] == len(GOOD_ARTICLES)
    assert report.articles["duplicate"] == 1
    assert report.articles["not_on_topic"] == 2
    assert min(report.matches[verdict] for verdict in ("repeated", "updated", "contradicted")) >= 1
    assert report.claims > 0

    errors = _errors_by_url(report.errors)
    planted = {news_site.url(path): reason for path, reason in HARD_CASES.items()}
    planted[news_site.url("/feeds/broken.xml")] = "malformed feed"
    assert set(errors) == set(planted) | {news_site.url("/feeds/main.rss")}
    for url, fragment in planted.items():
        assert fragment in errors[url], (url, errors[url])
    assert errors[news_site.url("/feeds/main.rss")] == "feed item without a link: 'Item without a link'"
    assert all(error["source"].startswith(news_site.base) for error in report.errors)

    # Polite: robots.txt read and obeyed, tracking parameters never sent, the recovering page retried.
    assert news_site.requests_for("/robots.txt")
    assert not news_site.requests_for("/private/leaked-report")
    assert not [r for r in news_site.requests if "utm_" in r.query or "fbclid" in r.query]
    assert len(news_site.requests_for(GOOD_ARTICLES[-1].path)) == 2
    assert all("ClaimMonitor" in r.headers.get("User-Agent", "") for r in news_site.requests)

    with Session(sqlite_engine) as session:
        run = session.get(CrawlRun, summary.crawl_run_id)
        assert run is not None and run.status == "finished" and run.finished_at is not None
        assert run.stats["articles"]["new"] == len(GOOD_ARTICLES) and run.stats["pages_fetched"] > 10
        assert _errors_by_url(run.errors) == errors
        hook_rows = session.exec(select(MetaEntry).where(MetaEntry.key.startswith("hook:"))).all()
        assert len(hook_rows) == len(session.exec(select(Match)).all()) == sum(report.matches.values())
    main_feed, hard_feed, broken = (_source(sqlite_engine, news_site, k) for k in ("main", "hard", "broken"))
    assert main_feed.etag and main_feed.last_modified == LAST_MODIFIED and main_feed.last_status == "partial"
    assert hard_feed.etag is None and hard_feed.last_status == "partial"  # transient errors: refetch fully
    assert broken.last_status == "failed" and "malformed feed" in (broken.last_error or "")


def test_second_run_is_conditional_and_stores_nothing_new(sqlite_engine: Engine, news_site: NewsSite) -> None:
    prepare_crawl_database(sqlite_engine, news_site)
    first = run_crawl(sqlite_engine, limits=TEST_LIMITS)
    etag = _source(sqlite_engine, news_site, "main").etag
    stored_before = {url: article.id for url, article in _stored(sqlite_engine).items()}
    news_site.reset()

    second = run_crawl(sqlite_engine, limits=TEST_LIMITS)

    assert first.report.articles["new"] == len(GOOD_ARTICLES)
    assert second.status == "finished"
    assert {url: article.id for url, article in _stored(sqlite_engine).items()} == stored_before
    assert second.report.articles["new"] == second.report.articles["duplicate"] == 0
    main_feed = news_site.requests_for("/feeds/main.rss")
    assert [(r.headers.get("If-None-Match"), r.headers.get("If-Modified-Since")) for r in main_feed] == [
        (etag, LAST_MODIFIED)
    ]
    assert _source(sqlite_engine, news_site, "main").last_status == "not_modified"
    # No stored article is fetched again, and the 2019 sitemap is skipped by its lastmod.
    for page in (*GOOD_ARTICLES, SYNDICATED_COPY):
        assert not news_site.requests_for(page.path), page.path
    assert news_site.requests_for("/sitemaps/index.xml") and not news_site.requests_for("/sitemaps/news-2019.xml")
    assert not news_site.requests_for(OLD_OFF_TOPIC.path)
    assert _errors_by_url(second.report.errors).keys() >= {news_site.url(path) for path in HARD_CASES}


def test_a_killed_run_is_recorded_as_failed_and_the_next_run_completes_it(
    sqlite_engine: Engine, news_site: NewsSite
) -> None:
    prepare_crawl_database(sqlite_engine, news_site)
    running = start_crawl(sqlite_engine, limits=TEST_LIMITS)
    seen: list[dict[str, Any]] = []

    def kill_midway(snapshot: dict[str, Any], crawl: RunningCrawl = running) -> None:
        seen.append(snapshot)
        if snapshot["pages_fetched"] == 8:
            crawl.kill()

    summary = running.wait(on_progress=kill_midway)

    assert summary.status == "failed"
    assert summary.error == "the crawl process was killed by SIGKILL"
    assert [snapshot["pages_fetched"] for snapshot in seen][:8] == list(range(1, 9))
    with Session(sqlite_engine) as session:
        run = session.get(CrawlRun, summary.crawl_run_id)
        assert run is not None and run.status == "failed" and run.error == summary.error
        assert run.stats["partial"] is True
    assert _source(sqlite_engine, news_site, "main").last_status == "failed"

    rerun = run_crawl(sqlite_engine, limits=TEST_LIMITS)
    assert rerun.status == "finished"
    assert set(_stored(sqlite_engine)) == _expected_urls(news_site)


def test_crawl_command_prints_the_summary_and_rejects_an_unknown_source(
    sqlite_engine: Engine, news_site: NewsSite
) -> None:
    prepare_crawl_database(sqlite_engine, news_site, keys=("world", "broken"))
    database = sqlite_engine.url.render_as_string(hide_password=False)
    runner = CliRunner()

    unknown = runner.invoke(main, ["--db", database, "crawl", "--source", news_site.url("/nope.xml")])
    assert unknown.exit_code == 1 and "no source" in unknown.output
    with Session(sqlite_engine) as session:
        assert session.exec(select(CrawlRun)).all() == []

    result = runner.invoke(
        main,
        ["--db", database, "crawl", "--quiet", "--source", news_site.url("/feeds/world.atom"), "--source",
         news_site.url("/feeds/broken.xml")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Crawl run 1: 2 sources, finished.")
    assert "Articles kept: 2 new, 1 duplicates linked; already seen: 0; not on topic: 0" in lines
    assert any(line.startswith("Matches: ") and "contradicted" in line for line in lines)
    assert "Errors: 1" in lines
    broken = news_site.url("/feeds/broken.xml")
    # One line per source; a source's own failure is on its line, its address shown once (issue 17).
    assert any(line.startswith(f"  {broken}: failed: malformed feed") for line in lines)
    assert result.output.count(broken) == 1
    world = news_site.url("/feeds/world.atom")
    assert any(line.startswith(f"  {world}: ok; ") and line.endswith(" new") for line in lines)


def test_crawl_command_exits_1_when_every_source_failed(sqlite_engine: Engine) -> None:
    from alert_servers import free_port

    from monitor.catalog.sources import add_source
    from monitor.http.safety import AddressPolicy
    from monitor.storage.engine import session_scope

    port = free_port()
    urls = [f"http://127.0.0.2:{port}/feed-{n}.xml" for n in range(3)]
    with session_scope(sqlite_engine) as session:
        for url in urls:
            add_source(session, url=url, kind="feed", policy=AddressPolicy.allowing(["127.0.0.2/32"]))
    database = sqlite_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        main, ["--db", database, "crawl"], env={"MONITOR_CRAWL_ALLOWED_NETWORKS": "127.0.0.2/32"}
    )
    assert result.exit_code == 1, result.output
    assert result.output.rstrip().splitlines()[-1] == "Error: all 3 sources failed: is the network down?"
    # Plain progress lines (not a terminal), each source once at the end, each address once in the summary.
    assert all(f"crawl: {url}: failed" in result.output for url in urls)
    summary = result.output[result.output.index("Crawl run 1") :]
    assert all(summary.count(url) == 1 for url in urls)


def test_time_limit_closes_the_crawl_and_keeps_the_feed_unvalidated(sqlite_engine: Engine, news_site: NewsSite) -> None:
    prepare_crawl_database(sqlite_engine, news_site, keys=("main", "hard"))
    # The slow page keeps the crawl busy past the limit; the spider closes gracefully and reports.
    limits = replace(TEST_LIMITS, time_limit=1, download_timeout=5.0)
    summary = run_crawl(sqlite_engine, limits=limits)
    assert summary.status == "finished"
    assert summary.report.finish_reason == "closespider_timeout"
    # The main feed was read whole, but an unfinished run saves no validators: the next run sees every item.
    main_feed = _source(sqlite_engine, news_site, "main")
    assert main_feed.last_status == "partial" and main_feed.etag is None and main_feed.last_modified is None
