"""`LocalNewsSite`: a small news site on 127.0.0.1 serving RSS feeds and article pages, for the demo and the soak.

Articles can be added while it runs (the soak adds them continuously); the site remembers when each one
first appeared in its feed, so a benchmark can measure the time from there to the alert. Feeds answer
conditional GET (ETag) like a real CMS, and `robots.txt` allows everything.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from monitor.demo.articles import NewsArticle
from monitor.http.safety import AddressPolicy

RequestHook = Callable[[str], None]


@dataclass(frozen=True)
class Listing:
    """An article as the site holds it: which feed lists it, its outlet, and when it appeared (Unix time)."""

    feed: str
    outlet: str
    article: NewsArticle
    published: datetime
    appeared_at: float


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return  # a client hanging up is not the site's problem


# Where the local site listens, and the one internal network the demo, the tests and the benchmarks allow
# the crawler (MONITOR_CRAWL_ALLOWED_NETWORKS): their sites' own address, nothing else on the machine.
LOCAL_SITE_HOST = "127.0.0.1"
LOCAL_SITE_NETWORK = "127.0.0.1/32"
LOCAL_SITE_POLICY = AddressPolicy.allowing(LOCAL_SITE_NETWORK)


class LocalNewsSite:
    """The site and its HTTP server. `start()` binds a free port on 127.0.0.1; `stop()` shuts it down.

    `on_request`, when set, is called with the path of every request before it is answered (in the
    server's request thread), so a test can see a crawl arrive or hold it in the middle of its work.
    """

    def __init__(self, *, on_request: RequestHook | None = None) -> None:
        self.on_request = on_request
        self._listings: dict[str, Listing] = {}
        self._feeds: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._server = _QuietServer((LOCAL_SITE_HOST, 0), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def feed_url(self, feed: str) -> str:
        return f"{self.base}/feeds/{feed}.rss"

    def article_url(self, slug: str) -> str:
        return f"{self.base}/news/{slug}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="news-site", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_feed(self, feed: str) -> None:
        """An (empty) feed at `/feeds/<feed>.rss`."""
        with self._lock:
            self._feeds.setdefault(feed, [])

    def publish(self, feed: str, outlet: str, article: NewsArticle, *, now: datetime | None = None) -> Listing:
        """Put `article` on its page and at the top of `feed`; ValueError if the slug exists already."""
        published = (now or datetime.now(UTC)) - timedelta(hours=article.hours_ago)
        listing = Listing(feed, outlet, article, published.replace(microsecond=0), time.time())
        with self._lock:
            if article.slug in self._listings:
                raise ValueError(f"an article {article.slug!r} exists already")
            self._listings[article.slug] = listing
            self._feeds.setdefault(feed, []).insert(0, article.slug)
        return listing

    def listings(self) -> list[Listing]:
        """Every article published so far, oldest first."""
        with self._lock:
            return sorted(self._listings.values(), key=lambda listing: listing.appeared_at)

    # -- documents ------------------------------------------------------------------------------------

    def feed_document(self, feed: str) -> bytes | None:
        with self._lock:
            slugs = list(self._feeds.get(feed, ())) if feed in self._feeds else None
            listings = [self._listings[slug] for slug in slugs or ()]
        if slugs is None:
            return None
        return render_rss(self.base, feed, listings).encode("utf-8")

    def article_document(self, slug: str) -> bytes | None:
        with self._lock:
            listing = self._listings.get(slug)
        if listing is None:
            return None
        return render_article_page(self.article_url(slug), listing).encode("utf-8")


def render_rss(base: str, feed: str, listings: list[Listing]) -> str:
    """An RSS 2.0 feed of `listings`, newest first as given."""
    outlet = listings[0].outlet if listings else feed
    items = "\n".join(
        "<item>"
        f"<title>{escape(listing.article.title)}</title>"
        f"<link>{escape(base)}/news/{escape(listing.article.slug)}</link>"
        f'<guid isPermaLink="true">{escape(base)}/news/{escape(listing.article.slug)}</guid>'
        f"<description>{escape(listing.article.summary)}</description>"
        f"<pubDate>{format_datetime(listing.published, usegmt=True)}</pubDate>"
        "</item>"
        for listing in listings
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<rss version="2.0"><channel><title>{escape(outlet)}</title><link>{escape(base)}/</link>'
        f"<description>{escape(outlet)}: news from Belarus and the region</description>\n{items}\n</channel></rss>\n"
    )


def render_article_page(url: str, listing: Listing) -> str:
    """A news page as a CMS would make it: navigation, the article, related links and a footer."""
    article = listing.article
    body = "\n".join(f"<p>{escape(paragraph)}</p>" for paragraph in article.paragraphs)
    published = listing.published.isoformat()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(article.title)} | {escape(listing.outlet)}</title>
<link rel="canonical" href="{escape(url)}">
<meta property="og:title" content="{escape(article.title)}">
<meta property="og:site_name" content="{escape(listing.outlet)}">
<meta property="article:published_time" content="{published}">
<meta name="author" content="{escape(article.author)}">
<meta name="description" content="{escape(article.summary)}">
</head><body>
<header><nav><a href="/">Home</a> <a href="/feeds/{escape(listing.feed)}.rss">RSS</a> <a href="/">Belarus</a>
<a href="/">Ukraine</a> <a href="/">Opinion</a></nav></header>
<main><article>
<h1>{escape(article.title)}</h1>
<p class="byline">By {escape(article.author)}, <time datetime="{published}">{listing.published:%d %B %Y}</time></p>
{body}
</article>
<aside><h2>Read more</h2><ul><li><a href="/">Newsletter: the week in Belarus</a></li></ul></aside></main>
<footer><p>© {escape(listing.outlet)}. Subscribe to our newsletter.</p></footer>
</body></html>
"""


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _handler_for(site: LocalNewsSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "LocalNewsSite/1.0"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if site.on_request is not None:
                site.on_request(path)
            if path == "/robots.txt":
                self._send(200, "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n")
            elif path.startswith("/feeds/") and path.endswith(".rss"):
                self._feed(path.removeprefix("/feeds/").removesuffix(".rss"))
            elif path.startswith("/news/"):
                self._article(path.removeprefix("/news/"))
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found\n")

        def _feed(self, feed: str) -> None:
            body = site.feed_document(feed)
            if body is None:
                self._send(404, "text/plain; charset=utf-8", b"no such feed\n")
                return
            etag = _etag(body)
            if self.headers.get("If-None-Match") == etag:
                self._send(304, None, b"", {"ETag": etag})
                return
            self._send(200, "application/rss+xml; charset=utf-8", body, {"ETag": etag})

        def _article(self, slug: str) -> None:
            body = site.article_document(slug)
            if body is None:
                self._send(404, "text/plain; charset=utf-8", b"no such article\n")
                return
            self._send(200, "text/html; charset=utf-8", body)

        def _send(
            self, status: int, content_type: str | None, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            try:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)
            except OSError:
                pass  # the crawler gave up on this page (a time limit, a killed service)

    return Handler
