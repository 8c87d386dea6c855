"""`NewsSite`: the local news site, served by a real HTTP server on 127.0.0.1 (a free port).

It records every request with its headers (so tests can check conditional GET, robots.txt and what was
never fetched), answers conditional requests with 304, and serves the planted failures under /hard/.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import socket
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import urlsplit

from newssite.content import (
    CP1251_ARTICLE,
    EN_SITEMAP_ONLY,
    EN_TROOPS,
    OFF_TOPIC,
    RECOVERING_ARTICLE,
    RU_ARTICLE,
    SYNDICATED_COPY,
    UK_ARTICLE,
    Page,
    render_article,
    render_section,
)

# How long the slow page makes the client wait; tests set the crawl's timeout well below it.
SLOW_SECONDS = 3.0
HUGE_BYTES = 20 * 1024 * 1024
GZIP_BOMB_BYTES = 64 * 1024 * 1024
LAST_MODIFIED = formatdate(1715680000, usegmt=True)  # 14 May 2024

OLD_OFF_TOPIC = Page(
    path="/lifestyle/2019/03/01/spring-flower-show-opens",
    title="Spring flower show opens",
    published="2019-03-01T09:00:00+00:00",
    language="en",
    paragraphs=("The spring flower show opened on Friday with tulips from twelve countries on display.",),
)

# The planted failures: path -> (expected reason fragment in the crawl report).
HARD_CASES = {
    "/hard/server-error": "HTTP 500",
    "/hard/unavailable": "HTTP 503",
    "/hard/slow": "timed out",
    "/hard/dropped": "connection dropped",
    "/hard/huge": "larger than",
    "/hard/loop-a": "too many redirects",
    "/private/leaked-report": "robots.txt",
    "/hard/missing": "HTTP 404",
    "/hard/empty": "empty body",
}


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    query: str
    headers: dict[str, str]


def _rss(base: str, items: list[tuple[str, str | None]]) -> str:
    entries = "\n".join(
        f"<item><title>{escape(title)}</title>{f'<link>{escape(base + link)}</link>' if link else ''}"
        f"<pubDate>Tue, 14 May 2024 09:30:00 GMT</pubDate></item>"
        for title, link in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Border Desk</title><link>{base}/</link><description>News</description>
{entries}
</channel></rss>"""


def _atom(base: str, items: list[tuple[str, str]]) -> str:
    entries = "\n".join(
        f'<entry><title>{title}</title><link rel="alternate" href="{link}"/><id>{base}{link}</id>'
        f"<updated>2024-05-16T10:15:00Z</updated></entry>"
        for title, link in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{base}/"><title>Border Desk world</title>
<id>{base}/feeds/world.atom</id><updated>2024-05-16T10:15:00Z</updated>
{entries}
</feed>"""


def _urlset(base: str, entries: list[tuple[str, str]]) -> str:
    urls = "\n".join(
        f"<url><loc>{base}{path}</loc><lastmod>{when}</lastmod><news:news><news:publication>"
        f"<news:name>Border Desk</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{when}</news:publication_date><news:title>t</news:title></news:news></url>"
        for path, when in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}
</urlset>"""


def _sitemap_index(base: str, entries: list[tuple[str, str]]) -> str:
    sitemaps = "\n".join(
        f"<sitemap><loc>{base}{path}</loc><lastmod>{when}</lastmod></sitemap>" for path, when in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{sitemaps}
</sitemapindex>"""


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A crawler hanging up (on the huge page, or after a timeout) is part of the tests, not an error.
        return


class NewsSite:
    """The site and its server. `start()` binds a free port on 127.0.0.1; `stop()` shuts it down."""

    FEED_PATHS: ClassVar[dict[str, str]] = {
        "main": "/feeds/main.rss",
        "world": "/feeds/world.atom",
        "broken": "/feeds/broken.xml",
        "hard": "/feeds/hard.rss",
        "sitemap": "/sitemaps/index.xml",
        "section": "/section/belarus/",
    }

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        # Documents and redirects a test adds for itself (path -> (content type, body), path -> Location);
        # `reset` removes them.
        self.extra_documents: dict[str, tuple[str, bytes]] = {}
        self.redirects: dict[str, str] = {}
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="newssite", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Forget the recorded requests and the per-page state (the recovering page fails once again)."""
        with self._lock:
            self.requests.clear()
            self.extra_documents.clear()
            self.redirects.clear()

    def record(self, request: RecordedRequest) -> int:
        """Record a request; return how many requests for that path came before it."""
        with self._lock:
            before = sum(1 for seen in self.requests if seen.path == request.path)
            self.requests.append(request)
            return before

    def requests_for(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    # -- the pages ------------------------------------------------------------------------------------

    def documents(self) -> dict[str, tuple[str, bytes]]:
        """Path -> (content type, body) of every plain page and document of the site."""
        base = self.base
        docs: dict[str, tuple[str, bytes]] = {
            "/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /private/\n"),
            "/feeds/main.rss": (
                "application/rss+xml",
                _rss(
                    base,
                    [
                        ("Belarus keeps troops near the border", EN_TROOPS.path + "?utm_source=rss&utm_medium=feed"),
                        ("Лукашенко о границе", RU_ARTICLE.path),
                        ("Мозырский НПЗ", CP1251_ARTICLE.path),
                        ("Cheese festival", OFF_TOPIC.path),
                        ("Item without a link", None),
                    ],
                ).encode(),
            ),
            "/feeds/world.atom": (
                "application/atom+xml",
                _atom(
                    base,
                    [
                        ("Україна посилює оборону", UK_ARTICLE.path),
                        ("Wire: troops stay", SYNDICATED_COPY.path),
                        ("Belarus keeps troops near the border", EN_TROOPS.path),
                    ],
                ).encode(),
            ),
            "/feeds/broken.xml": (
                "application/rss+xml",
                b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken & unescaped</title>'
                b"<item><title>x</item></channel>",
            ),
            "/feeds/hard.rss": (
                "application/rss+xml",
                _rss(base, [(path, path) for path in (*HARD_CASES, RECOVERING_ARTICLE.path)]).encode(),
            ),
            "/sitemaps/index.xml": (
                "application/xml",
                _sitemap_index(
                    base, [("/sitemaps/news-2024-05.xml", "2024-05-20"), ("/sitemaps/news-2019.xml", "2019-03-02")]
                ).encode(),
            ),
            "/sitemaps/news-2024-05.xml": (
                "application/xml",
                _urlset(
                    base, [(EN_SITEMAP_ONLY.path, "2024-05-20T12:00:00+00:00"), (EN_TROOPS.path, "2024-05-14")]
                ).encode(),
            ),
            "/sitemaps/news-2019.xml": (
                "application/xml",
                _urlset(base, [(OLD_OFF_TOPIC.path, "2019-03-01")]).encode(),
            ),
            "/section/belarus/": (
                "text/html; charset=utf-8",
                render_section([UK_ARTICLE.path, EN_TROOPS.path + "?fbclid=IwAR0abc", RU_ARTICLE.path]).encode(),
            ),
        }
        for page in (EN_TROOPS, EN_SITEMAP_ONLY, RU_ARTICLE, UK_ARTICLE, OFF_TOPIC, SYNDICATED_COPY, OLD_OFF_TOPIC):
            docs[page.path] = ("text/html; charset=utf-8", render_article(page).encode())
        docs.update(self.extra_documents)
        # windows-1251 with neither a charset in the header nor a <meta charset>.
        docs[CP1251_ARTICLE.path] = (
            "text/html",
            render_article(CP1251_ARTICLE, declare_charset=False).encode("cp1251"),
        )
        return docs


# Sources and their documents that support conditional GET (the sitemap index deliberately does not).
CONDITIONAL_PATHS = frozenset({"/feeds/main.rss", "/feeds/world.atom", "/section/belarus/"})


@functools.cache
def gzip_bomb() -> bytes:
    """GZIP_BOMB_BYTES of zeros in a page, gzip-compressed to about 64 KB."""
    return gzip.compress(b"<html><body><p>" + bytes(GZIP_BOMB_BYTES) + b"</p></body></html>", compresslevel=9)


def _etag(path: str) -> str:
    return f'"v1-{zlib.crc32(path.encode()):08x}"'


def _handler_for(site: NewsSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "BorderDesk/1.0"

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            return

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            earlier = site.record(RecordedRequest(parts.path, parts.query, dict(self.headers.items())))
            special: dict[str, Callable[[], None]] = {
                "/hard/server-error": lambda: self._status(500),
                "/hard/unavailable": lambda: self._status(503, {"Retry-After": "1"}),
                "/hard/slow": self._slow,
                "/hard/dropped": self._dropped,
                "/hard/huge": self._huge,
                "/hard/loop-a": lambda: self._status(302, {"Location": "/hard/loop-b"}),
                "/hard/loop-b": lambda: self._status(302, {"Location": "/hard/loop-a"}),
                "/hard/empty": lambda: self._send(200, "text/html; charset=utf-8", b""),
                "/hostile/gzip-bomb": self._gzip_bomb,
            }
            if parts.path in special:
                special[parts.path]()
                return
            if parts.path in site.redirects:
                self._status(302, {"Location": site.redirects[parts.path]})
                return
            if parts.path == RECOVERING_ARTICLE.path and earlier == 0:
                self._status(503, {"Retry-After": "1"})
                return
            if parts.path == RECOVERING_ARTICLE.path:
                self._send(200, "text/html; charset=utf-8", render_article(RECOVERING_ARTICLE).encode())
                return
            document = site.documents().get(parts.path)
            if document is None:
                self._status(404)
                return
            if parts.path in CONDITIONAL_PATHS:
                validators = {"ETag": _etag(parts.path), "Last-Modified": LAST_MODIFIED}
                if self.headers.get("If-None-Match") == validators["ETag"]:
                    self._send(304, None, b"", validators)
                    return
                self._send(200, document[0], document[1], validators)
                return
            self._send(200, document[0], document[1])

        def _send(
            self, status: int, content_type: str | None, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _status(self, status: int, headers: dict[str, str] | None = None) -> None:
            self._send(status, "text/plain", f"{status}\n".encode(), headers)

        def _slow(self) -> None:
            # Waits on the site's stop event, so stopping the server never waits for a sleeping handler.
            if site.stopping.wait(SLOW_SECONDS):
                return
            with contextlib.suppress(OSError):  # the client gave up long ago
                self._send(200, "text/html; charset=utf-8", b"<html><body><p>Too late.</p></body></html>")

        def _dropped(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", "10000")
            self.end_headers()
            self.wfile.write(b"<html><body><p>" + b"The connection drops here " * 10)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

        def _gzip_bomb(self) -> None:
            # A small body that inflates to GZIP_BOMB_BYTES: the size limit must hold after decompression.
            self._send(200, "text/html; charset=utf-8", gzip_bomb(), {"Content-Encoding": "gzip"})

        def _huge(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            chunk = b"<p>" + b"x" * 65530 + b"</p>"
            try:
                for _ in range(HUGE_BYTES // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass  # the crawler hung up once it saw the size, as it should
            self.close_connection = True

    return Handler
