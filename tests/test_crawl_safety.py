"""Crawl safety (issue 11): only http(s), never an internal address, every refused item reported.

Refusals are shown without sending traffic beyond loopback: 127.0.0.1 is the one allowed network (the
local news site), 127.0.0.2 stands for "internal" and has a listener that counts connections, and names
that resolve to private or link-local addresses come from a resolver stub (`newssite.names`). A tripwire
in the crawl process records every connection it tries and lets only 127.0.0.1 through.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from newssite.content import EN_SITEMAP_ONLY, EN_TROOPS, RU_ARTICLE, UK_ARTICLE
from newssite.database import prepare_crawl_database
from newssite.names import (
    STUB_NAMES,
    TRIPWIRE_LOG_SETTING,
    ConnectionTripwire,
    recorded_connections,
    stub_getaddrinfo,
)
from newssite.server import NewsSite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_crawl import TEST_LIMITS

from monitor.catalog.sources import add_source
from monitor.cli import main
from monitor.crawling.runs import run_crawl
from monitor.demo.site import LOCAL_SITE_POLICY
from monitor.http.fetch import fetch_document
from monitor.http.safety import AddressPolicy, DestinationRefused, literal_address, scheme_refusal
from monitor.storage.engine import session_scope
from monitor.storage.models import Article, Source

pytest_plugins = ["conftest_newssite"]

REFUSED_HOST = "127.0.0.2"  # loopback, but outside the allowed 127.0.0.1/32


class ConnectionCounter:
    """A listener on 127.0.0.2 that accepts and counts connections (there must be none)."""

    def __init__(self) -> None:
        self._socket = socket.create_server((REFUSED_HOST, 0))
        self.port = self._socket.getsockname()[1]
        self.accepted: list[tuple[str, int]] = []
        self._thread = threading.Thread(target=self._accept, name="refused-listener", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, peer = self._socket.accept()
            except OSError:
                return
            self.accepted.append(peer)
            connection.close()

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def refused_listener() -> Iterator[ConnectionCounter]:
    counter = ConnectionCounter()
    yield counter
    counter.close()


def _spellings(address: str) -> dict[str, str]:
    """The same IPv4 address as hex, as one decimal number, and in octal, as browsers and libc read them."""
    value = int(ipaddress.IPv4Address(address))
    octal = ".".join(f"0{int(part):o}" for part in address.split("."))
    return {"hex": hex(value), "decimal": str(value), "octal": octal}


def _rss(items: list[tuple[str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link><![CDATA[{link}]]></link>"
        f"<pubDate>Tue, 14 May 2024 09:30:00 GMT</pubDate></item>"
        for title, link in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>{entries}</channel></rss>'.encode()


def _urlset(locations: list[str]) -> bytes:
    urls = "".join(f"<url><loc><![CDATA[{loc}]]></loc></url>" for loc in locations)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def test_a_hostile_feed_and_sitemap_store_only_the_good_articles_and_reach_no_refused_address(
    sqlite_engine: Engine, news_site: NewsSite, refused_listener: ConnectionCounter, tmp_path: Path
) -> None:
    port = refused_listener.port
    on_disk = tmp_path / "secret.html"
    on_disk.write_text("<html><body><p>Lukashenko's secret plan for Belarus.</p></body></html>")
    refused_article = f"http://{REFUSED_HOST}:{port}/news/2024/05/14/refused-article"
    spelled = {
        name: f"http://{value}:{port}/news/2024/05/14/{name}" for name, value in _spellings(REFUSED_HOST).items()
    }
    by_name = {name: f"http://{name}:{port}/news/2024/05/14/via-dns" for name in STUB_NAMES}
    news_site.redirects.update(
        {
            "/hard/redirect-to-refused": refused_article,
            "/hard/redirect-to-name": by_name["loopback-alias.newssite.test"],
            "/hard/redirect-to-file": f"file://{on_disk}",
        }
    )
    redirects = [news_site.url(path) for path in news_site.redirects]
    bad_items = {
        "file (localhost)": f"file://localhost{on_disk}",
        "file": f"file://{on_disk}",
        "data": "data:text/html,<p>Lukashenko and Belarus</p>",
        "ftp": f"ftp://127.0.0.1:{port}/belarus.html",
        "javascript": "javascript:alert(1)",
        "refused address": refused_article,
        **{f"refused address as {name}": url for name, url in spelled.items()},
        **{f"name for {address}": by_name[name] for name, address in STUB_NAMES.items()},
        **{f"redirect {index}": url for index, url in enumerate(redirects)},
    }
    # The bad items come first: every good item after them must still be crawled.
    items = [*bad_items.items(), ("Troops", news_site.url(EN_TROOPS.path)), ("UK", news_site.url(UK_ARTICLE.path))]
    news_site.extra_documents["/feeds/hostile.rss"] = ("application/rss+xml", _rss(items))
    sitemap_bad = [
        f"file://{on_disk}",
        "data:text/html,Belarus",
        f"{refused_article}-in-sitemap",
        f"{by_name['intranet.newssite.test']}-in-sitemap",
    ]
    news_site.extra_documents["/sitemaps/hostile.xml"] = (
        "application/xml",
        _urlset([*sitemap_bad, news_site.url(EN_SITEMAP_ONLY.path), news_site.url(RU_ARTICLE.path)]),
    )
    prepare_crawl_database(sqlite_engine, news_site, keys=())
    with session_scope(sqlite_engine) as session:
        for path, kind in (("/feeds/hostile.rss", "feed"), ("/sitemaps/hostile.xml", "sitemap")):
            add_source(session, url=news_site.url(path), kind=kind, policy=LOCAL_SITE_POLICY)
    connections = tmp_path / "connections.jsonl"
    limits = replace(
        TEST_LIMITS,
        extra_settings={
            "CRAWL_NAME_LOOKUP": "newssite.names.stub_getaddrinfo",
            "EXTENSIONS": {"newssite.names.ConnectionTripwire": 0},
            TRIPWIRE_LOG_SETTING: str(connections),
        },
    )

    summary = run_crawl(sqlite_engine, limits=limits)

    assert summary.status == "finished" and summary.error is None
    with Session(sqlite_engine) as session:
        stored = {article.url for article in session.exec(select(Article))}
    good = {news_site.url(page.path) for page in (EN_TROOPS, UK_ARTICLE, EN_SITEMAP_ONLY, RU_ARTICLE)}
    assert stored == good
    hostile, hostile_sitemap = news_site.url("/feeds/hostile.rss"), news_site.url("/sitemaps/hostile.xml")
    from_feed = {error["url"]: error["reason"] for error in summary.report.errors if error["source"] == hostile}
    from_sitemap = {e["url"]: e["reason"] for e in summary.report.errors if e["source"] == hostile_sitemap}
    # One report per bad item, each a refusal; feedparser spells `file:///x` as `file://x`, nothing else.
    assert len(from_feed) == len(bad_items) and all(reason.startswith("refused: ") for reason in from_feed.values())
    assert set(from_feed) - set(bad_items.values()) == {f"file:/{on_disk}"}
    assert set(from_sitemap) == set(sitemap_bad) and all(r.startswith("refused: ") for r in from_sitemap.values())
    reasons = {**from_sitemap, **from_feed}
    assert "not file:" in reasons[f"file://localhost{on_disk}"] and "not data:" in reasons[bad_items["data"]]
    assert "not ftp:" in reasons[bad_items["ftp"]] and "not javascript:" in reasons["javascript:alert(1)"]
    for url in (refused_article, *spelled.values()):
        assert reasons[url] == "refused: 127.0.0.2 is a loopback address, outside MONITOR_CRAWL_ALLOWED_NETWORKS"
    assert "resolves to 10.20.30.40, a private address" in reasons[by_name["intranet.newssite.test"]]
    assert "resolves to 169.254.169.254, a link-local address" in reasons[by_name["metadata.newssite.test"]]
    assert "resolves to 127.0.0.2, a loopback address" in reasons[news_site.url("/hard/redirect-to-name")]
    assert "127.0.0.2 is a loopback address" in reasons[news_site.url("/hard/redirect-to-refused")]
    assert "not file:" in reasons[news_site.url("/hard/redirect-to-file")]

    # Nothing was read from disk, and no connection was opened to any refused address.
    assert refused_listener.accepted == []
    tried = {entry["host"] for entry in recorded_connections(connections)}
    assert tried == {"127.0.0.1"}, tried
    with Session(sqlite_engine) as session:
        feed = session.exec(select(Source).where(Source.url == hostile)).one()
    assert feed.last_status == "partial" and "problems" in (feed.last_error or "")


def test_the_tripwire_and_the_name_stub_really_work(tmp_path: Path, refused_listener: ConnectionCounter) -> None:
    """The test's own safety net: a stubbed name resolves as listed, and only 127.0.0.1 can be connected to."""
    assert stub_getaddrinfo("intranet.newssite.test", 80)[0][4] == ("10.20.30.40", 80)
    log = tmp_path / "connections.jsonl"
    original = socket.socket.connect_ex, socket.socket.connect
    try:
        ConnectionTripwire(log)
        with socket.socket() as probe:
            assert probe.connect_ex((REFUSED_HOST, refused_listener.port)) != 0
    finally:
        socket.socket.connect_ex, socket.socket.connect = original  # type: ignore[method-assign]
    assert recorded_connections(log) == [{"host": REFUSED_HOST, "port": refused_listener.port}]
    assert refused_listener.accepted == []


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("127.0.0.2", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("::ffff:10.0.0.1", "private"),
    ],
)
def test_internal_addresses_are_refused_by_kind(address: str, kind: str) -> None:
    refusal = AddressPolicy().address_refusal(address)
    assert (refusal is not None and f"a {kind} address" in refusal) or f"an {kind} address" in (refusal or "")


def test_public_and_allowed_addresses_pass() -> None:
    policy = AddressPolicy.allowing("127.0.0.1/32, 10.1.0.0/16")
    for address in ("93.184.216.34", "2606:4700::1111", "127.0.0.1", "10.1.200.3", "::ffff:127.0.0.1"):
        assert policy.address_refusal(address) is None, address
    assert policy.address_refusal("10.2.0.1") is not None and policy.address_refusal("127.0.0.2") is not None


def test_every_spelling_of_a_literal_address_is_recognised() -> None:
    for spelling in (*_spellings("169.254.169.254").values(), "169.254.43518", "[::ffff:169.254.169.254]"):
        address = literal_address(spelling)
        mapped = getattr(address, "ipv4_mapped", None) or address
        assert str(mapped) == "169.254.169.254", spelling
    assert literal_address("news.example.org") is None and literal_address("deadbeef") is None


def test_only_http_and_https_pass_the_scheme_check() -> None:
    assert scheme_refusal("https://news.example.org/a") is None and scheme_refusal("HTTP://news.example.org/") is None
    for url in ("file:///etc/passwd", "data:text/html,x", "ftp://x/y", "javascript:alert(1)", "s3://b/k", "//x/y"):
        assert scheme_refusal(url), url


def test_sources_add_refuses_internal_literals_and_other_schemes_with_one_line(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--db", database, "init"]).exit_code == 0  # only init creates the database
    for url in (f"http://{REFUSED_HOST}/feed.xml", f"http://{_spellings(REFUSED_HOST)['hex']}/feed.xml"):
        result = runner.invoke(main, ["--db", database, "sources", "add", url])
        assert result.exit_code == 1, result.output
        assert "refused: 127.0.0.2 is a loopback address, outside MONITOR_CRAWL_ALLOWED_NETWORKS" in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert runner.invoke(main, ["--db", database, "sources", "add", "data:text/html,x"]).exit_code == 1
    allowed = runner.invoke(main, ["--db", database, "sources", "add", "http://127.0.0.1:9/feed.xml"])
    assert allowed.exit_code == 0, allowed.output
    listed = runner.invoke(main, ["--db", database, "sources", "list"])
    assert "127.0.0.1:9" in listed.output and REFUSED_HOST not in listed.output


def test_a_bad_allowed_networks_setting_stops_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_CRAWL_ALLOWED_NETWORKS", "127.0.0.1/32,intranet")
    result = CliRunner().invoke(main, ["sources", "list"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: MONITOR_CRAWL_ALLOWED_NETWORKS: 'intranet' is not a network like 10.1.0.0/16 or 127.0.0.1/32"
    )


# -- httpx fetches (`baseline add URL`) ----------------------------------------------------------------


def test_fetch_document_follows_no_redirect_to_a_refused_address(
    news_site: NewsSite, refused_listener: ConnectionCounter
) -> None:
    news_site.redirects["/hard/redirect-to-refused"] = f"http://{REFUSED_HOST}:{refused_listener.port}/article"
    with pytest.raises(DestinationRefused, match=r"127\.0\.0\.2 is a loopback address"):
        fetch_document(news_site.url("/hard/redirect-to-refused"), policy=LOCAL_SITE_POLICY)
    with pytest.raises(DestinationRefused, match=r"127\.0\.0\.2 is a loopback address"):
        fetch_document(f"http://{REFUSED_HOST}:{refused_listener.port}/article", policy=LOCAL_SITE_POLICY)
    assert refused_listener.accepted == []
    assert news_site.requests_for("/hard/redirect-to-refused")


def test_the_guarded_client_connects_to_the_checked_address_and_keeps_the_host_name(
    news_site: NewsSite, refused_listener: ConnectionCounter
) -> None:
    from monitor.http.transport import guarded_client

    port = int(news_site.base.rsplit(":", 1)[1])
    names = {"site.newssite.test": "127.0.0.1", "loopback-alias.newssite.test": REFUSED_HOST}

    def lookup(host: str, port: int, *args: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]

    with guarded_client(LOCAL_SITE_POLICY, lookup=lookup) as client:
        response = client.get(f"http://site.newssite.test:{port}{EN_TROOPS.path}")
        assert response.status_code == 200 and b"Belarus" in response.content
        with pytest.raises(DestinationRefused, match=r"loopback-alias\.newssite\.test resolves to 127\.0\.0\.2"):
            client.get(f"http://loopback-alias.newssite.test:{refused_listener.port}/x")
    assert news_site.requests_for(EN_TROOPS.path)[0].headers["Host"] == f"site.newssite.test:{port}"
    assert refused_listener.accepted == []


def test_baseline_add_refuses_an_internal_url_with_one_line(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path / 'm.db'}", "init"]).exit_code == 0
    result = CliRunner().invoke(
        main, ["--db", f"sqlite:///{tmp_path / 'm.db'}", "baseline", "add", f"http://{REFUSED_HOST}/report.html"]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: http://{REFUSED_HOST}/report.html: refused: 127.0.0.2 is a loopback address, "
        "outside MONITOR_CRAWL_ALLOWED_NETWORKS"
    ]


# -- the web token ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "short-token"])
def test_serve_beyond_loopback_with_a_blank_or_short_token_stops_with_one_line(
    token: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MONITOR_WEB_TOKEN", token)
    result = CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path / 'm.db'}", "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: MONITOR_WEB_TOKEN is "), lines
