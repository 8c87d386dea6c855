"""`NewsSpider`: one crawl run over many sources of mixed kinds (feeds, news sitemaps, section pages).

For each source it fetches the source document with conditional GET, finds article links in it, drops
the ones already stored or fetched by an earlier run (asking the database before any article is
requested), and fetches the rest, newest first and at most `CRAWL_MAX_ITEMS_PER_SOURCE` of them; the
others wait for the next runs. Every failure, and every link refused by the crawl-safety policy
(`monitor.http.safety`), becomes an error entry (source, address, reason) in the tally; none stops the
crawl, and one bad item never keeps the items after it from being crawled.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import feedparser
import scrapy
from lxml import etree
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure

from monitor.config import DEFAULT_CRAWL_MAX_ITEMS
from monitor.crawling.job import Assignment, CrawlJob, SourceSpec
from monitor.http.safety import AddressPolicy
from spiders.extraction import strip_tracking
from spiders.failures import describe_failure, unreachable_host
from spiders.items import FetchedArticle
from spiders.safety import policy_from_settings
from spiders.tally import CrawlTally, Tally

StoredUrls = Callable[[Sequence[str]], set[str]]
MAX_ITEMS_SETTING = "CRAWL_MAX_ITEMS_PER_SOURCE"
# The address an article request was made for (as found in its source, tracking removed).
LINK_META = "monitor_link"
# The crawl run (a source's pass) a request belongs to, for a spider that stays up.
RUN_META = "monitor_run"
# Set by scale-out (`spiders.redis_scheduler`): article requests go through the duplicate filter the
# workers share, so that no two workers fetch one page; alone, the spider deduplicates them itself.
SHARED_DUPEFILTER_SETTING = "MONITOR_SHARED_DUPEFILTER"
# How often a spider that stays up asks its feed for new passes, even while it is busy.
FEED_POLL_SECONDS = 0.5
# An unreachable host is remembered this long when its source has no interval of its own.
DEFAULT_UNREACHABLE_MEMORY = 30 * 60.0
_OLDEST = datetime.min.replace(tzinfo=UTC)


class FetchedUrls(Protocol):
    """Where the spider's pipeline remembers the article addresses it fetched and read."""

    def remember(self, url: str, outcome: str) -> None: ...

    def flush(self) -> None: ...


class SourceFeed(Protocol):
    """Where a spider that stays up gets its work, and where it hands each finished source pass.

    `take` is called every `FEED_POLL_SECONDS` (and whenever the spider goes idle); it returns the passes
    handed over since, or None when the crawler is to stop taking work.
    """

    def take(self) -> list[Assignment] | None: ...

    def tally(self, assignment: Assignment) -> Tally: ...

    def tally_of(self, crawl_run_id: int) -> Tally: ...

    def finished(self, crawl_run_id: int, *, finish_reason: str) -> None: ...

    def page_read(self, url: str) -> None:
        """The pipeline has read the article page requested at `url` (stored it, or found it off topic)."""
        ...

    def overdue(self) -> list[int]: ...

    def close(self, reason: str) -> None: ...


# Path segments of listing and service pages, never articles.
_NOT_ARTICLE_SEGMENTS = frozenset(
    {
        "tag", "tags", "category", "categories", "topic", "topics", "author", "authors", "about", "contact",
        "contacts", "login", "signin", "logout", "register", "subscribe", "subscription", "search", "privacy",
        "terms", "rss", "feed", "feeds", "page", "archive", "video", "photo", "gallery", "live", "sitemap",
    }
)  # fmt: skip
_NOT_ARTICLE_SUFFIXES = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".pdf", ".xml", ".rss", ".css", ".js", ".zip", ".mp3",
    ".mp4", ".ico", ".json", ".txt",
)  # fmt: skip
_DATE_PATH_RE = re.compile(r"/(19|20)\d{2}/\d{1,2}(/|$)|/(19|20)\d{2}-\d{2}-\d{2}")
_LONG_NUMBER_RE = re.compile(r"\d{5,}")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def looks_like_article(url: str, section_url: str) -> bool:
    """Whether a link found on a section page looks like an article of the same site.

    Articles have a dated path, a long numeric id, or a long hyphenated slug; tag, author and service
    pages, media files and other sites do not count.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or _host(url) != _host(section_url):
        return False
    path = parts.path.rstrip("/")
    if not path or path == urlsplit(section_url).path.rstrip("/") or path.lower().endswith(_NOT_ARTICLE_SUFFIXES):
        return False
    segments = [segment.lower() for segment in path.split("/") if segment]
    if any(segment in _NOT_ARTICLE_SEGMENTS for segment in segments):
        return False
    slug = segments[-1].removesuffix(".html").removesuffix(".htm")
    return bool(_DATE_PATH_RE.search(path) or _LONG_NUMBER_RE.search(slug) or slug.count("-") >= 3)


def _parse_when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _ends_request(callback: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """A callback that, once it has run to its end (or failed), ends its request in the pass's count."""

    @functools.wraps(callback)
    def wrapper(self: Any, response: Response) -> Iterator[Any]:
        try:
            yield from callback(self, response)
        finally:
            self._request_ended(response.meta)

    return wrapper


class NewsSpider(scrapy.Spider):
    """Crawls the sources of one `CrawlJob`, yielding a `FetchedArticle` per new article page.

    With a `feed`, the spider stays open (`spider_idle` raises `DontCloseSpider`, the shape of
    scrapy-redis's `RedisSpider`) and crawls the source passes the feed hands it, many at once: each
    request carries its pass (`RUN_META`), each pass has its own tally, and a pass whose last request and
    article are done is handed back to the feed to be recorded. A host that cannot be resolved or
    connected to is remembered until its source's next interval: later requests to it fail at once.
    """

    name = "news"

    def __init__(
        self,
        *,
        job: CrawlJob,
        tally: CrawlTally,
        stored_urls: StoredUrls,
        fetched: FetchedUrls | None = None,
        feed: SourceFeed | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.tally = tally
        self.stored_urls = stored_urls
        self.fetched = fetched
        self.feed = feed
        self._requested: set[tuple[int | None, str]] = set()
        # Article links requested and not answered yet, and sources whose document has not been read:
        # what a run cut short leaves for the next one.
        self._outstanding: set[str] = set()
        self._unread_sources: set[int] = set()
        self._taken: dict[tuple[int | None, int], int] = {}
        self._policy: AddressPolicy | None = None
        # host[:port] -> (monotonic time until which it is taken as unreachable, the reason)
        self._unreachable: dict[str, tuple[float, str]] = {}
        self._taking = feed is not None
        self._poller: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.feed is not None:
            crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
            crawler.signals.connect(spider._on_dropped, signal=signals.request_dropped)
        return spider

    @property
    def policy(self) -> AddressPolicy:
        if self._policy is None:
            self._policy = policy_from_settings(self.settings)
        return self._policy

    async def start(self) -> AsyncIterator[Any]:
        for source in self.job.sources:
            self.tally.source_started(source.id)
            self._unread_sources.add(source.id)
            request = self._source_request(source)
            if request is not None:
                yield request
        if self.feed is not None:
            from twisted.internet import task

            self._poller = task.LoopingCall(self._take_work)
            self._poller.start(FEED_POLL_SECONDS, now=True)

    def closed(self, reason: str) -> None:
        """Scrapy's close hook: note what was left undone (a run stopped by its time limit, say)."""
        self.tally.left_undone(articles=len(self._outstanding), sources=len(self._unread_sources))
        if self.feed is not None:
            if self._poller is not None and self._poller.running:
                self._poller.stop()
            self.feed.close(reason)

    # -- a spider that stays up ---------------------------------------------------------------------------

    def tally_for(self, meta: dict[str, Any]) -> Tally:
        """The tally of the pass a request (or an item's request) belongs to."""
        run_id = meta.get(RUN_META)
        if run_id is None or self.feed is None:
            return self.tally
        return self.feed.tally_of(run_id)

    def _take_work(self) -> None:
        if not self._taking or self.feed is None:
            return
        try:
            taken = self.feed.take()
        except Exception:  # Redis away, say: a LoopingCall that raised would never run again
            self.logger.exception("could not take new passes; trying again shortly")
            return
        if taken is None:
            self._taking = False  # stopping: the passes under way finish, then the idle spider closes
            return
        for assignment in taken:
            self._open_pass(assignment)
        for run_id in self.feed.overdue():
            self._pass_over(run_id, "closespider_timeout")

    def _open_pass(self, assignment: Assignment) -> None:
        assert self.feed is not None
        tally = self.feed.tally(assignment)
        tally.source_started(assignment.source.id)
        tally.started(1)
        request = self._source_request(assignment.source, assignment.crawl_run_id)
        if request is not None:
            self.crawler.engine.crawl(request)

    def _on_idle(self) -> None:
        self._take_work()
        if self._taking:
            raise DontCloseSpider

    def _on_dropped(self, request: scrapy.Request) -> None:
        """A request the (shared) duplicate filter dropped: another worker has it, so it ends here."""
        self._request_ended(request.meta)

    def _request_ended(self, meta: dict[str, Any]) -> None:
        run_id = meta.get(RUN_META)
        if run_id is None or self.feed is None:
            return
        if self.feed.tally_of(run_id).ended():
            self._pass_over(run_id, "finished")

    def _pass_over(self, run_id: int, reason: str) -> None:
        """Hand a pass back to be recorded, and forget what this process kept of it."""
        assert self.feed is not None
        self._requested = {key for key in self._requested if key[0] != run_id}
        self._taken = {key: count for key, count in self._taken.items() if key[0] != run_id}
        self.feed.finished(run_id, finish_reason=reason)

    def item_ended(self, meta_run: int | None) -> None:
        """The pipeline is done with an article of the pass `meta_run`."""
        self._request_ended({RUN_META: meta_run})

    def _unreachable_reason(self, url: str) -> str | None:
        host = urlsplit(url).netloc
        remembered = self._unreachable.get(host)
        if remembered is None:
            return None
        until, reason = remembered
        if time.monotonic() >= until:
            del self._unreachable[host]
            return None
        return f"{reason} (host unreachable at an earlier attempt; not tried again before the next interval)"

    def _remember_unreachable(self, request: scrapy.Request, reason: str) -> None:
        source: SourceSpec | None = request.meta.get("source")
        memory = (source.every_seconds if source else None) or DEFAULT_UNREACHABLE_MEMORY
        # A little less than the interval, so that the source's next pass tries the host again.
        host = urlsplit(request.url).netloc
        self._unreachable[host] = (time.monotonic() + memory * 0.9, reason)

    # -- requests -------------------------------------------------------------------------------------

    def _source_request(self, source: SourceSpec, run_id: int | None = None) -> scrapy.Request | None:
        """The request for the source's document; None (the pass failed at once) for an unreachable host."""
        meta: dict[str, Any] = {"source": source, "role": "source", "handle_httpstatus_list": [304]}
        if run_id is not None:
            meta[RUN_META] = run_id
        unreachable = self._unreachable_reason(source.url)
        if unreachable is not None:
            self._unread_sources.discard(source.id)
            self._report(meta, source.url, unreachable, transient=True, source_failed=True)
            self._request_ended(meta)
            return None
        headers = {}
        if source.etag:
            headers["If-None-Match"] = source.etag
        if source.last_modified:
            headers["If-Modified-Since"] = source.last_modified
        callback = {"feed": self.parse_feed, "sitemap": self.parse_sitemap}.get(source.kind, self.parse_section)
        return scrapy.Request(
            source.url,
            callback=callback,
            errback=self.on_error,
            headers=headers,
            dont_filter=True,
            meta=meta,
        )

    def _article_requests(
        self, source: SourceSpec, links: Iterable[tuple[str, dict[str, Any]]], meta: dict[str, Any]
    ) -> Iterator[scrapy.Request]:
        """Requests for the links not known yet and not requested earlier in this run, newest first, up to
        the source's share of this run; refused links are reported and skipped. `meta`: the response's."""
        run_id = meta.get(RUN_META)
        tally = self.tally_for(meta)
        wanted: dict[str, dict[str, Any]] = {}
        for link, extra in links:
            refusal = self.policy.url_refusal(link)
            if refusal:
                self._report(meta, link, refusal)
                continue
            url = strip_tracking(link)
            if (run_id, url) not in self._requested and url not in wanted:
                wanted[url] = extra
        known = self.stored_urls(list(wanted)) if wanted else set()
        tally.skipped_known(len(known))
        tally.found(source.id, len(wanted))
        fresh = [(url, extra) for url, extra in wanted.items() if url not in known]
        key = (run_id, source.id)
        room = max(0, self.settings.getint(MAX_ITEMS_SETTING, DEFAULT_CRAWL_MAX_ITEMS) - self._taken.get(key, 0))
        if len(fresh) > room:
            tally.left_for_later(source.id, len(fresh) - room)
            fresh = _newest(fresh, room)
        for url, extra in fresh:
            request_meta = {"source": source, "role": "article", LINK_META: url, **extra}
            if run_id is not None:
                request_meta[RUN_META] = run_id
            try:
                request = scrapy.Request(
                    url,
                    callback=self.parse_article,
                    errback=self.on_error,
                    # Deduplicated above; Scrapy's filter would also silently drop a redirect loop's repeat.
                    dont_filter=not self.settings.getbool(SHARED_DUPEFILTER_SETTING),
                    meta=request_meta,
                )
            except ValueError as exc:
                self._report(meta, url, f"not a usable address: {exc}")
                continue
            self._requested.add((run_id, url))
            self._outstanding.add(url)
            self._taken[key] = self._taken.get(key, 0) + 1
            tally.started(1)
            yield request

    def _source_fetched(self, response: Response) -> bool:
        """Count the page and record the validators; False when the source is unchanged (304)."""
        source: SourceSpec = response.meta["source"]
        tally = self.tally_for(response.meta)
        tally.page_fetched(source.id)
        self._unread_sources.discard(source.id)
        if response.status == 304:
            tally.source_answered(
                source.id, status="not_modified", etag=source.etag, last_modified=source.last_modified
            )
            return False
        if response.meta.get("role") == "source":
            tally.source_answered(
                source.id,
                status=None,
                etag=_header(response, b"ETag"),
                last_modified=_header(response, b"Last-Modified"),
            )
        return True

    # -- callbacks ------------------------------------------------------------------------------------
    # Each ends its request in the pass's count when it has run to its end (`_ends_request`).

    @_ends_request
    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """RSS, Atom or RDF: every item's link (items without one are reported)."""
        if not self._source_fetched(response):
            return
        source: SourceSpec = response.meta["source"]
        feed = feedparser.parse(
            response.body,
            response_headers={
                "content-location": response.url,
                "content-type": _header(response, b"Content-Type") or "application/xml",
            },
        )
        problem = _feed_problem(feed)
        entries = list(feed.entries)
        if problem:
            # Entries with neither title nor link are debris of the break, not items.
            entries = [entry for entry in entries if entry.get("link") or entry.get("title")]
            if not entries:
                self._report(response.meta, response.url, problem, source_failed=True)
                return
            self._report(response.meta, response.url, f"{problem}; {len(entries)} items read before it")
        links = []
        for entry in entries:
            link = _entry_link(entry)
            if not link:
                title = _text(entry.get("title"))[:80] or "untitled"
                self._report(response.meta, response.url, f"feed item without a link: {title!r}")
                continue
            try:
                published = entry.get("published_parsed") or entry.get("updated_parsed")
                extra: dict[str, Any] = {
                    "feed_title": _text(entry.get("title")) or None,
                    "feed_published": datetime(*published[:6]).replace(tzinfo=UTC) if published else None,
                }
                links.append((urljoin(response.url, link), extra))
            except (ValueError, TypeError) as exc:  # a broken date or address spoils this item only
                self._report(response.meta, link[:300], f"feed item skipped: {type(exc).__name__}: {exc}")
        yield from self._article_requests(source, links, response.meta)

    @_ends_request
    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """A news sitemap or a sitemap index; entries last modified before the source's `since` are skipped."""
        if not self._source_fetched(response):
            return
        source: SourceSpec = response.meta["source"]
        try:
            root = _sitemap_root(response.body, self.settings.getint("DOWNLOAD_MAXSIZE"))
        except ValueError as exc:
            self._report(response.meta, response.url, str(exc), source_failed=response.meta["role"] == "source")
            return
        kind = etree.QName(root).localname
        entries = list(_sitemap_entries(root, "sitemap" if kind == "sitemapindex" else "url"))
        fresh = []
        for loc, when in entries:
            if source.since and when and when < source.since:
                continue
            try:
                fresh.append((urljoin(response.url, loc), when))
            except ValueError as exc:
                self._report(response.meta, loc[:300], f"sitemap entry skipped: {exc}")
        if kind == "sitemapindex":
            for loc, _when in fresh:
                refusal = self.policy.url_refusal(loc)
                if refusal:
                    self._report(response.meta, loc, refusal)
                    continue
                child_meta = {"source": source, "role": "sitemap"}
                if response.meta.get(RUN_META) is not None:
                    child_meta[RUN_META] = response.meta[RUN_META]
                self.tally_for(response.meta).started(1)
                yield scrapy.Request(loc, callback=self.parse_sitemap, errback=self.on_error, meta=child_meta)
            return
        entries_found = [(loc, {"feed_published": when}) for loc, when in fresh]
        yield from self._article_requests(source, entries_found, response.meta)

    @_ends_request
    def parse_section(self, response: Response) -> Iterator[scrapy.Request]:
        """A section or tag page: links within the site that look like articles."""
        if not self._source_fetched(response):
            return
        source: SourceSpec = response.meta["source"]
        if not _is_html(response):
            self._report(response.meta, response.url, "not an HTML page", source_failed=True)
            return
        links = []
        for href in response.css("a::attr(href)").getall():
            with contextlib.suppress(ValueError):  # a broken href is no article link
                links.append(urljoin(response.url, href))
        found: list[tuple[str, dict[str, Any]]] = [(u, {}) for u in links if looks_like_article(u, source.url)]
        yield from self._article_requests(source, found, response.meta)

    @_ends_request
    def parse_article(self, response: Response) -> Iterator[FetchedArticle]:
        self._outstanding.discard(response.meta.get(LINK_META, ""))
        source: SourceSpec = response.meta["source"]
        tally = self.tally_for(response.meta)
        tally.page_fetched(source.id)
        if not response.body.strip():
            self._report(response.meta, response.url, "empty body")
            return
        if not _is_html(response):
            content_type = _header(response, b"Content-Type") or "no Content-Type"
            self._report(response.meta, response.url, f"not an HTML page ({content_type})")
            return
        redirects = response.meta.get("redirect_urls") or [response.url]
        tally.started(1)  # the article, until the pipeline is done with it
        yield FetchedArticle(
            url=redirects[0],
            final_url=response.url,
            body=response.body,
            content_type=_header(response, b"Content-Type"),
            source_id=source.id,
            source_url=source.url,
            outlet=source.outlet,
            language=source.language,
            feed_title=response.meta.get("feed_title"),
            feed_published=response.meta.get("feed_published"),
            crawl_run_id=response.meta.get(RUN_META),
        )

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self._outstanding.discard(request.meta.get(LINK_META, ""))
        if request.meta.get("role") == "source":
            self._unread_sources.discard(request.meta["source"].id)
        reason, transient = describe_failure(failure, request, self.settings)
        if unreachable_host(failure):
            self._remember_unreachable(request, reason)
        # The address as found in the source, not where redirects ended.
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        self._report(request.meta, url, reason, transient=transient, source_failed=request.meta.get("role") == "source")
        self._request_ended(request.meta)

    def _report(
        self, meta: dict[str, Any], url: str, reason: str, *, transient: bool = False, source_failed: bool = False
    ) -> None:
        source: SourceSpec | None = meta.get("source")
        self.tally_for(meta).error(
            source_id=source.id if source else None,
            source_url=source.url if source else "",
            url=url,
            reason=reason,
            transient=transient,
            source_failed=source_failed,
        )


def _newest(links: list[tuple[str, dict[str, Any]]], count: int) -> list[tuple[str, dict[str, Any]]]:
    """The `count` most recently published links (undated ones after every dated one), in their order."""
    ranked = sorted(
        range(len(links)), key=lambda i: links[i][1].get("feed_published") or _OLDEST, reverse=True
    )  # fmt: skip
    keep = set(ranked[:count])
    return [link for i, link in enumerate(links) if i in keep]


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1").strip() if value else None


def _is_html(response: Response) -> bool:
    content_type = (_header(response, b"Content-Type") or "").lower()
    if not content_type:
        return response.body.lstrip()[:1] == b"<"
    return content_type.startswith(_HTML_TYPES)


def _feed_problem(feed: Any) -> str | None:
    if not feed.get("bozo"):
        return None
    error = feed.get("bozo_exception")
    # A charset that differs from the declared one is recovered from; only broken XML is a problem.
    if isinstance(error, feedparser.CharacterEncodingOverride | feedparser.NonXMLContentType) and feed.entries:
        return None
    if not feed.get("version") and not feed.entries:
        return "not an RSS, Atom or RDF feed"
    return f"malformed feed: {error}" if error else "malformed feed"


def _entry_link(entry: Any) -> str | None:
    link = _text(entry.get("link"))
    if link:
        return link
    for candidate in entry.get("links") or []:
        href = _text(candidate.get("href"))
        if href and candidate.get("rel", "alternate") == "alternate":
            return href
    return None


def _sitemap_root(body: bytes, max_size: int) -> Any:
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=max_size)
        except (OSError, ValueError) as exc:
            raise ValueError(f"malformed gzip sitemap: {exc}") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"malformed sitemap: {exc}") from None
    if etree.QName(root).localname not in ("urlset", "sitemapindex"):
        raise ValueError(f"not a sitemap (root element <{etree.QName(root).localname}>)")
    return root


def _sitemap_entries(root: Any, element: str) -> Iterator[tuple[str, datetime | None]]:
    for node in root.iterchildren(f"{{*}}{element}"):
        loc = node.findtext("{*}loc")
        if not loc or not loc.strip():
            continue
        when = node.findtext("{*}lastmod") or node.findtext(".//{*}publication_date")
        yield loc.strip(), _parse_when(when)
