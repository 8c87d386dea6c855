"""Extraction and spider parsing on saved pages: no server, Scrapy responses built from strings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import trafilatura
from newssite.content import (
    ALL_PAGES,
    CP1251_ARTICLE,
    EN_TROOPS,
    RU_ARTICLE,
    UK_ARTICLE,
    render_article,
    render_section,
)
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler
from trafilatura.xpaths import AUTHOR_XPATHS

from monitor.crawling.job import CrawlJob, SourceSpec
from monitor.http.fetch import retry_after_seconds
from monitor.text.decode import decode_html
from spiders.extraction import (
    _AUTHOR_MARKUP,
    _AUTHOR_WORDS_RE,
    canonical_url,
    detect_language,
    extract_article,
    strip_tracking,
)
from spiders.items import FetchedArticle
from spiders.pipelines import incoming_article
from spiders.spiders.news import NewsSpider, looks_like_article
from spiders.tally import CrawlTally

SITE = "https://news.example.org"

# -- URLs ---------------------------------------------------------------------------------------------


def test_strip_tracking_removes_tracking_parameters_and_fragment_only() -> None:
    url = "HTTPS://News.Example.org/a/b?id=5&utm_source=rss&utm_medium=feed&fbclid=x&gclid=y&page=2#comments"
    assert strip_tracking(url) == "https://news.example.org/a/b?id=5&page=2"
    assert strip_tracking("https://news.example.org") == "https://news.example.org/"


def test_canonical_url_comes_from_rel_canonical_without_tracking() -> None:
    html = '<html><head><link rel="canonical" href="/story-1?utm_campaign=x&amp;ref=home"></head></html>'
    assert canonical_url(f"{SITE}/amp/story-1?utm_source=tw", html) == f"{SITE}/story-1"


def test_canonical_url_ignores_a_front_page_canonical_and_falls_back_to_the_address() -> None:
    html = '<html><head><link rel="canonical" href="https://news.example.org/"></head></html>'
    assert canonical_url(f"{SITE}/story-2?fbclid=1", html) == f"{SITE}/story-2"
    assert canonical_url(f"{SITE}/story-3", "<html><body>no head</body></html>") == f"{SITE}/story-3"


# -- decoding -----------------------------------------------------------------------------------------


def test_windows_1251_without_any_declaration_is_detected() -> None:
    body = render_article(CP1251_ARTICLE, declare_charset=False).encode("cp1251")
    text = decode_html(body, "text/html")
    assert CP1251_ARTICLE.paragraphs[0] in text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<p>Минск</p>".encode("koi8-r"), "text/html; charset=KOI8-R"),
        ('<meta charset="windows-1251"><p>Минск</p>'.encode("cp1251"), "text/html"),
        ("\ufeff<p>Минск</p>".encode(), None),
        # The header claims UTF-8 but the bytes are not: the page's own bytes win.
        ("<p>Минск и Мозырь, Гомель и Брест</p>".encode("cp1251"), "text/html; charset=utf-8"),
    ],
)
def test_declared_and_mislabelled_encodings_decode(body: bytes, content_type: str | None) -> None:
    assert "Минск" in decode_html(body, content_type)


def test_a_declared_language_the_text_contradicts_gives_way_to_the_text() -> None:
    from monitor.text.language import article_language

    russian = " ".join(RU_ARTICLE.paragraphs)
    assert article_language("en", russian) == "ru"  # a CMS template's lang="en" over a Russian story
    assert article_language("ru", " ".join(UK_ARTICLE.paragraphs)) == "uk"
    assert article_language("ru", russian) == "ru"
    assert article_language("de", "Minsk sagte, die Gespräche würden fortgesetzt.") == "de"
    assert article_language(None, "Minsk said the talks would resume.") == "en"
    assert article_language("en", "") == "en"


def test_detect_language_tells_ukrainian_from_russian_by_letters() -> None:
    assert detect_language(" ".join(UK_ARTICLE.paragraphs)) == "uk"
    assert detect_language(" ".join(RU_ARTICLE.paragraphs)) == "ru"
    assert detect_language("Minsk said the talks would resume.") == "en"


# -- article extraction -------------------------------------------------------------------------------


def test_article_text_and_metadata_without_navigation_related_or_comments() -> None:
    url = f"{SITE}{EN_TROOPS.path}?utm_source=rss"
    page = extract_article(render_article(EN_TROOPS), url)
    assert page is not None
    for paragraph in EN_TROOPS.paragraphs:
        assert paragraph in page.text
    for boilerplate in ("About us", "Subscribe", "Older story", "Great article", "All rights reserved"):
        assert boilerplate not in page.text
    assert page.title == EN_TROOPS.title
    assert page.author == EN_TROOPS.author
    assert page.published == datetime(2024, 5, 14, 9, 30, tzinfo=UTC)
    assert page.language == "en"
    assert page.canonical_url == f"{SITE}{EN_TROOPS.path}"


def test_article_from_a_scrapy_response_in_windows_1251() -> None:
    body = render_article(CP1251_ARTICLE, declare_charset=False).encode("cp1251")
    response = HtmlResponse(f"{SITE}{CP1251_ARTICLE.path}", body=body, headers={"Content-Type": "text/html"})
    item = FetchedArticle(
        url=response.url,
        final_url=response.url,
        body=response.body,
        content_type="text/html",
        source_id=1,
        source_url=f"{SITE}/feed",
        outlet="Border Desk",
    )
    article = incoming_article(item)
    assert article is not None
    assert article.title == CP1251_ARTICLE.title
    assert CP1251_ARTICLE.paragraphs[0] in article.text
    assert article.language == "ru"
    assert article.outlet == "Border Desk"


def test_page_without_main_text_gives_none() -> None:
    assert extract_article("<html><body><nav><a href='/'>Home</a></nav></body></html>", SITE + "/x") is None


def _metadata_variants() -> list[Any]:
    """Pages covering each way to an author: <meta>, JSON-LD, the byline fallback, none at all."""
    page = render_article(EN_TROOPS)
    meta_author = f'<meta name="author" content="{EN_TROOPS.author}">'
    json_ld = (
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",'
        ' "author": {"@type": "Person", "name": "Jan Nowak"}, "publisher": {"@type": "Organization",'
        ' "name": "Border Desk"}}</script>'
    )
    byline_only = page.replace(meta_author, "")
    return [
        *(pytest.param(render_article(article), id=article.path) for article in ALL_PAGES),
        pytest.param(page.replace(meta_author, json_ld), id="json-ld author"),
        pytest.param(page.replace(meta_author, '<meta name="author" content="Desk">'), id="one-word meta author"),
        pytest.param(byline_only, id="byline only"),
        pytest.param(byline_only.replace('<p class="byline">', "<p>"), id="no author markup"),
    ]


@pytest.mark.parametrize("html", _metadata_variants())
def test_title_author_and_site_name_are_those_of_trafilaturas_full_metadata_extraction(html: str) -> None:
    url = f"{SITE}{EN_TROOPS.path}"
    page = extract_article(html, url)
    expected = trafilatura.extract_metadata(html, default_url=url)
    assert page is not None
    assert (page.title, page.author, page.sitename) == (expected.title, expected.author, expected.sitename)


def test_the_author_search_is_skipped_only_where_trafilaturas_author_xpaths_cannot_match() -> None:
    """`_AUTHOR_MARKUP` and `_AUTHOR_WORDS_RE` must cover every attribute, element and word that trafilatura's
    author XPaths test; this fails when a trafilatura upgrade adds one, so the shortcut is re-checked."""
    sources = " ".join(xpath.path for xpath in AUTHOR_XPATHS)
    assert set(re.findall(r"@([\w-]+)", sources)) <= set(re.findall(r"@([\w-]+)", _AUTHOR_MARKUP.path))
    matched_elements = re.findall(r"//(\w+)", sources) + re.findall(r"(?<![@\w-])(\w+)\s*=", sources)
    assert set(matched_elements) <= set(re.findall(r"//(\w+)", _AUTHOR_MARKUP.path))
    # A regex character class such as [Aa] stands for its first letter: the words are compared lowercased.
    words = [
        re.sub(r"\[(\w)\w*\]", r"\1", alternative)
        for literal in re.findall(r"'([^']*)'", sources)
        for alternative in literal.split("|")
    ]
    # "me" is what the text of a <rel> child element is compared with; the element itself is looked for.
    assert [word for word in words if not _AUTHOR_WORDS_RE.search(word.lower())] == ["me"]


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2024, 5, 14, 12, 0, tzinfo=UTC)
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds("Tue, 14 May 2024 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


# -- spider callbacks ---------------------------------------------------------------------------------


def _spider(source: SourceSpec, stored: set[str] | None = None) -> NewsSpider:
    crawler = get_crawler(NewsSpider, {"DOWNLOAD_MAXSIZE": 1024 * 1024})
    job = CrawlJob(database_url="sqlite://", crawl_run_id=None, sources=(source,))
    known = stored or set()
    spider = NewsSpider.from_crawler(
        crawler, job=job, tally=CrawlTally(), stored_urls=lambda urls: {url for url in urls if url in known}
    )
    assert isinstance(spider, NewsSpider)
    return spider


def _response(source: SourceSpec, body: str | bytes, content_type: str, url: str | None = None) -> Response:
    request = Request(url or source.url, meta={"source": source, "role": "source"})
    data = body.encode() if isinstance(body, str) else body
    cls = HtmlResponse if "html" in content_type else TextResponse
    return cls(url or source.url, body=data, headers={"Content-Type": content_type}, request=request)


def _urls(results: Any) -> list[str]:
    return [request.url for request in results]


def test_feed_links_lose_tracking_stored_ones_are_skipped_and_linkless_items_reported() -> None:
    source = SourceSpec(id=1, url=f"{SITE}/feed.rss", kind="feed")
    spider = _spider(source, stored={f"{SITE}/news/2024/05/old-story-about-minsk"})
    rss = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>A</title><link>{SITE}/news/2024/05/new-story?utm_source=rss&amp;utm_medium=feed</link></item>
    <item><title>B</title><link>{SITE}/news/2024/05/old-story-about-minsk</link></item>
    <item><title>No link here</title></item></channel></rss>"""
    urls = _urls(spider.parse_feed(_response(source, rss, "application/rss+xml")))
    assert urls == [f"{SITE}/news/2024/05/new-story"]
    report = spider.tally.report
    assert report.articles["skipped_known"] == 1
    assert report.errors == [
        {"source": source.url, "url": source.url, "reason": "feed item without a link: 'No link here'"}
    ]


def test_atom_and_rdf_feeds_give_their_links() -> None:
    source = SourceSpec(id=1, url=f"{SITE}/feed.atom", kind="feed")
    atom = f"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
    <entry><title>A</title><link rel="alternate" href="{SITE}/a-story-about-minsk-talks"/><id>1</id></entry></feed>"""
    assert _urls(_spider(source).parse_feed(_response(source, atom, "application/atom+xml"))) == [
        f"{SITE}/a-story-about-minsk-talks"
    ]
    rdf = f"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns="http://purl.org/rss/1.0/"><channel rdf:about="{SITE}/"><title>T</title><link>{SITE}/</link></channel>
    <item rdf:about="{SITE}/rdf-story"><title>R</title><link>{SITE}/rdf-story</link></item></rdf:RDF>"""
    assert _urls(_spider(source).parse_feed(_response(source, rdf, "application/rdf+xml"))) == [f"{SITE}/rdf-story"]


def test_malformed_feed_fails_the_source_with_the_reason() -> None:
    source = SourceSpec(id=3, url=f"{SITE}/broken.xml", kind="feed")
    spider = _spider(source)
    body = '<?xml version="1.0"?><rss><channel><title>Broken & bad</title><item><title>x</item></channel>'
    assert _urls(spider.parse_feed(_response(source, body, "application/xml"))) == []
    assert spider.tally.report.sources[3].status == "failed"
    assert "malformed feed" in spider.tally.report.errors[0]["reason"]


def test_unchanged_feed_answers_304_and_keeps_its_validators() -> None:
    source = SourceSpec(id=1, url=f"{SITE}/feed.rss", kind="feed", etag='"abc"', last_modified="Tue, 14 May 2024")
    spider = _spider(source)
    request = Request(source.url, meta={"source": source, "role": "source"})
    response = TextResponse(source.url, status=304, body=b"", request=request)
    assert _urls(spider.parse_feed(response)) == []
    outcome = spider.tally.report.sources[1]
    assert (outcome.status, outcome.etag, outcome.last_modified) == ("not_modified", '"abc"', "Tue, 14 May 2024")


def test_sitemap_index_and_news_sitemap_respect_lastmod() -> None:
    source = SourceSpec(id=5, url=f"{SITE}/sitemap.xml", kind="sitemap", since=datetime(2024, 5, 1, tzinfo=UTC))
    spider = _spider(source)
    index = f"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <sitemap><loc>{SITE}/sitemap-new.xml</loc><lastmod>2024-05-20</lastmod></sitemap>
    <sitemap><loc>{SITE}/sitemap-2019.xml</loc><lastmod>2019-01-01</lastmod></sitemap>
    <sitemap><loc>{SITE}/sitemap-undated.xml</loc></sitemap></sitemapindex>"""
    children = _urls(spider.parse_sitemap(_response(source, index, "application/xml")))
    assert children == [f"{SITE}/sitemap-new.xml", f"{SITE}/sitemap-undated.xml"]
    urlset = f"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
    xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
    <url><loc>{SITE}/fresh-story</loc><news:news><news:publication_date>2024-05-20T10:00:00Z</news:publication_date>
    </news:news></url><url><loc>{SITE}/stale-story</loc><lastmod>2024-04-01</lastmod></url></urlset>"""
    articles = _urls(spider.parse_sitemap(_response(source, urlset, "application/xml", f"{SITE}/sitemap-new.xml")))
    assert articles == [f"{SITE}/fresh-story"]


def test_section_page_follows_article_links_within_the_site_only() -> None:
    source = SourceSpec(id=6, url=f"{SITE}/section/belarus/", kind="page")
    html = render_section([EN_TROOPS.path, EN_TROOPS.path + "?fbclid=1", "/news/12345678", "/tag/minsk"])
    urls = _urls(_spider(source).parse_section(_response(source, html, "text/html; charset=utf-8")))
    assert urls == [f"{SITE}{EN_TROOPS.path}", f"{SITE}/news/12345678"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{SITE}/news/2024/05/14/troops", True),
        (f"{SITE}/politics/lukashenko-meets-putin-in-sochi-again", True),
        (f"{SITE}/article/987654", True),
        (f"{SITE}/tag/belarus-news-and-more-things", False),
        (f"{SITE}/about", False),
        (f"{SITE}/images/2024/05/photo.jpg", False),
        ("https://other.example.org/news/2024/05/14/troops", False),
        (f"{SITE}/section/belarus/", False),
    ],
)
def test_looks_like_article(url: str, expected: bool) -> None:
    assert looks_like_article(url, f"{SITE}/section/belarus/") is expected


def test_empty_article_body_is_reported_not_yielded() -> None:
    source = SourceSpec(id=1, url=f"{SITE}/feed.rss", kind="feed")
    spider = _spider(source)
    request = Request(f"{SITE}/empty", meta={"source": source, "role": "article"})
    response = HtmlResponse(f"{SITE}/empty", body=b"", headers={"Content-Type": "text/html"}, request=request)
    assert list(spider.parse_article(response)) == []
    assert spider.tally.report.errors[0]["reason"] == "empty body"
