"""Article extraction from fetched HTML (decoded by `monitor.text.decode`): canonical URL, main text, metadata.

Pure functions over bytes and strings (no Scrapy, no I/O), so they are tested on saved pages and measured
on the article-extraction benchmark (`bench/bench_extraction.py`). The main text comes from trafilatura,
tuned towards precision: a navigation line or "related" list that slips into the text becomes a false claim.
Title, author and site name come from trafilatura's metadata readers too, called one by one so that the
parts we do not keep (categories, tags, licence) and searches that cannot succeed cost nothing.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
import trafilatura
from htmldate import find_date
from lxml.etree import ParserError, XPath
from trafilatura.metadata import (
    META_URL,
    Document,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)

from monitor.text.language import article_language
from monitor.text.language import language_of_text as detect_language

__all__ = [
    "ExtractedPage",
    "canonical_url",
    "detect_language",
    "extract_article",
    "strip_tracking",
]

# Query parameters that only say how a reader arrived; two links differing in them are the same article.
_TRACKING_PREFIXES = ("utm_", "at_", "mc_", "pk_", "hsa_", "_hs", "oly_", "ns_")
_TRACKING_NAMES = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "ysclid",
        "igshid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "ocid",
        "cmpid",
        "s_cid",
        "ncid",
        "sr_share",
        "mkt_tok",
        "spm",
        "vero_id",
        "rb_clickid",
        "wt_mc",
        "wt.mc_id",
        "icid",
        "ito",
        "ref",
    }
)


# Fewer words than this is a stub, a paywall teaser or a link list, not an article.
MIN_ARTICLE_WORDS = 10


@dataclass(frozen=True)
class ExtractedPage:
    """What extraction found in one article page; `text` is never empty."""

    url: str
    canonical_url: str
    title: str | None
    text: str
    author: str | None
    published: datetime | None
    language: str | None
    sitename: str | None


# ---------------------------------------------------------------------------------------------------------
# URLs


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def strip_tracking(url: str) -> str:
    """`url` without tracking parameters (utm_*, fbclid, gclid, ...) and fragment; scheme and host lowercased.

    Other parameters keep their order, so `?id=5&page=2` stays a distinct article address.
    """
    parts = urlsplit(url.strip())
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(name)]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query, doseq=True), ""))


def canonical_url(page_url: str, html: str | lxml.html.HtmlElement) -> str:
    """The page's `rel=canonical` address (tracking parameters stripped), else `page_url` stripped.

    A canonical that points at a site's front page from an inner page is a CMS mistake, not a claim that
    every article is the front page, so it is ignored, as are non-http(s) ones.
    """
    tree = html if isinstance(html, lxml.html.HtmlElement) else _parse(html)
    fallback = strip_tracking(page_url)
    if tree is None:
        return fallback
    for href in tree.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " canonical ")]/@href'):
        candidate = urljoin(page_url, str(href).strip())
        parts = urlsplit(candidate)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        if parts.path in ("", "/") and urlsplit(page_url).path not in ("", "/"):
            continue
        return strip_tracking(candidate)
    return fallback


# ---------------------------------------------------------------------------------------------------------
# Language


def _language_tag(value: str | None) -> str | None:
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _declared_language(tree: lxml.html.HtmlElement) -> str | None:
    for xpath in (
        "/html/@lang",
        "/html/@xml:lang",
        '//meta[@http-equiv="content-language" or @http-equiv="Content-Language"]/@content',
        '//meta[@property="og:locale"]/@content',
    ):
        for value in tree.xpath(xpath):
            tag = _language_tag(str(value))
            if tag:
                return tag
    return None


# ---------------------------------------------------------------------------------------------------------
# Metadata


def _parse(html: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return None


def _parse_datetime(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value[:10]), datetime.min.time())
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _meta_published(tree: lxml.html.HtmlElement) -> datetime | None:
    for xpath in (
        '//meta[@property="article:published_time"]/@content',
        '//meta[@itemprop="datePublished"]/@content',
        '//meta[@name="pubdate" or @name="publishdate" or @name="date"]/@content',
        "//time[@datetime]/@datetime",
    ):
        for value in tree.xpath(xpath):
            parsed = _parse_datetime(str(value))
            if parsed is not None:
                return parsed
    return None


def _clean_text(text: str) -> str:
    # NFC so that the same letter stored from two pages compares equal; trailing spaces per line removed.
    lines = (line.strip() for line in unicodedata.normalize("NFC", text).splitlines())
    return "\n".join(line for line in lines if line)


# Everything trafilatura's author XPaths (`trafilatura.xpaths.AUTHOR_XPATHS`) test, lowercased: the <author> and
# <rel> elements, these attributes and these words in them. `extract_author` searches a pruned copy of the whole
# tree, the costliest part of the metadata; on a page with none of these it finds nothing, so it is not called.
# tests/test_extraction.py fails when a trafilatura upgrade makes the XPaths test something not listed here.
_AUTHOR_MARKUP = XPath(
    "//author | //rel | //@class | //@id | //@rel | //@itemprop | //@data-testid | //@data-component"
)
_AUTHOR_WORDS_RE = re.compile(
    "author|byl|bbl|username|screenname|writer|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)


def _may_name_an_author(tree: lxml.html.HtmlElement) -> bool:
    """False only where `extract_author` is sure to find nothing (see `_AUTHOR_MARKUP`)."""
    found = _AUTHOR_MARKUP(tree)
    attribute_values = [str(value) for value in found if isinstance(value, str)]
    has_author_elements = len(attribute_values) < len(found)
    return has_author_elements or _AUTHOR_WORDS_RE.search(" ".join(attribute_values).lower()) is not None


def _page_metadata(tree: lxml.html.HtmlElement, url: str, *, with_date: bool) -> Document:
    """Title, author, site name and (when `with_date`) date, as `trafilatura.extract_metadata` finds them.

    The same steps in the same order, minus what we do not keep (categories, tags, licence, host name: each
    a search of the whole tree) and the date search when the page's metadata already gave a date.
    """
    metadata = examine_meta(tree)
    # A one-word author in <meta> is usually a site or a handle; trafilatura rejects it the same way.
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    # trafilatura's JSON-LD reader has bugs of its own; the page stays usable without it.
    with contextlib.suppress(Exception):
        metadata = extract_meta_json(tree, metadata)
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.author and _may_name_an_author(tree):
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    if with_date:
        # Markup only: htmldate's search of the whole text for date-like strings is slow.
        metadata.date = find_date(tree, extensive_search=False, original_date=True, url=metadata.url)
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url and (host := META_URL.match(metadata.url)):
        metadata.sitename = host[1]
    metadata.clean_and_trim()
    return metadata


def extract_article(html: str, url: str) -> ExtractedPage | None:
    """Extract the main text and metadata of an article page at `url`; None when it has no main text
    (fewer than `MIN_ARTICLE_WORDS` words)."""
    tree = _parse(html)
    if tree is None:
        return None
    document = trafilatura.bare_extraction(
        tree, url=url, favor_precision=True, include_comments=False, include_tables=True, with_metadata=False
    )
    text = _clean_text(getattr(document, "text", None) or "") if document is not None else ""
    if len(text.split()) < MIN_ARTICLE_WORDS:
        return None
    # Metadata only for pages that are articles; bare_extraction worked on its own copy, so `tree` is intact.
    meta_published = _meta_published(tree)
    metadata = _page_metadata(tree, url, with_date=meta_published is None)
    return ExtractedPage(
        url=url,
        canonical_url=canonical_url(url, tree),
        title=(metadata.title or "").strip() or None,
        text=text,
        author=(metadata.author or "").strip()[:500] or None,
        published=meta_published or _parse_datetime(metadata.date or ""),
        language=article_language(_declared_language(tree), text),
        sitename=(metadata.sitename or "").strip() or None,
    )
