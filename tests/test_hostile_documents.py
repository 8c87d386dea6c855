"""What held and must keep holding (issue 11): decompression bombs and entity-expansion feeds are refused
within the size limits, quickly, and reported; the rest of the crawl goes on."""

from __future__ import annotations

import gzip
import time
from dataclasses import replace

from newssite.content import EN_TROOPS
from newssite.database import prepare_crawl_database
from newssite.server import GZIP_BOMB_BYTES, NewsSite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_crawl import TEST_LIMITS
from test_extraction import SITE, _response, _spider

from monitor.catalog.sources import add_source
from monitor.crawling.job import SourceSpec
from monitor.crawling.runs import run_crawl
from monitor.demo.site import LOCAL_SITE_POLICY
from monitor.storage.engine import session_scope
from monitor.storage.models import Article

pytest_plugins = ["conftest_newssite"]

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def test_a_billion_laughs_feed_is_not_expanded() -> None:
    source = SourceSpec(id=1, url=f"{SITE}/feed.rss", kind="feed")
    spider = _spider(source)
    feed = BILLION_LAUGHS + (
        f'<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
        f"<link>{SITE}/news/2024/05/14/some-story-about-minsk</link></item></channel></rss>"
    )
    started = time.monotonic()
    requests = list(spider.parse_feed(_response(source, feed, "application/rss+xml")))
    assert time.monotonic() - started < 5
    titles = [request.meta.get("feed_title") or "" for request in requests]
    assert all(len(title) < 10_000 for title in titles), [len(title) for title in titles]


def test_a_billion_laughs_sitemap_is_refused() -> None:
    source = SourceSpec(id=1, url=f"{SITE}/sitemap.xml", kind="sitemap")
    spider = _spider(source)
    sitemap = BILLION_LAUGHS + (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&lol9;</loc></url></urlset>'
    )
    started = time.monotonic()
    requests = list(spider.parse_sitemap(_response(source, sitemap, "application/xml")))
    assert time.monotonic() - started < 5
    assert all(len(request.url) < 10_000 for request in requests)


def test_a_gzip_bomb_sitemap_is_refused_at_the_size_limit() -> None:
    source = SourceSpec(id=1, url=f"{SITE}/sitemap.xml.gz", kind="sitemap")
    spider = _spider(source)  # DOWNLOAD_MAXSIZE 1 MB
    bomb = gzip.compress(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + b" " * (64 << 20))
    assert len(bomb) < 1 << 20
    assert list(spider.parse_sitemap(_response(source, bomb, "application/x-gzip"))) == []
    (error,) = spider.tally.report.errors
    assert error["reason"].startswith("malformed gzip sitemap")


def test_a_gzip_bomb_page_is_refused_after_decompression_and_the_crawl_goes_on(
    sqlite_engine: Engine, news_site: NewsSite
) -> None:
    bomb, good = news_site.url("/hostile/gzip-bomb"), news_site.url(EN_TROOPS.path)
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>bomb</title><link>{bomb}</link></item><item><title>ok</title><link>{good}</link></item>"
        "</channel></rss>"
    )
    news_site.extra_documents["/feeds/bomb.rss"] = ("application/rss+xml", rss.encode())
    prepare_crawl_database(sqlite_engine, news_site, keys=())
    with session_scope(sqlite_engine) as session:
        add_source(session, url=news_site.url("/feeds/bomb.rss"), policy=LOCAL_SITE_POLICY)

    summary = run_crawl(sqlite_engine, limits=replace(TEST_LIMITS, max_page_bytes=2 * 1024 * 1024))

    reasons = {error["url"]: error["reason"] for error in summary.report.errors}
    assert (
        (bomb in reasons and "2 MB" not in reasons[bomb])
        or "DOWNLOAD_MAXSIZE" in reasons[bomb]
        or ("larger than" in reasons[bomb])
    )
    with Session(sqlite_engine) as session:
        assert {article.url for article in session.exec(select(Article))} == {good}
    assert GZIP_BOMB_BYTES > 30 * 2 * 1024 * 1024
