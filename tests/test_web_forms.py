"""Watch terms, sources and baseline articles through the forms and the API: the changes land, and bad
input comes back as a message on the form (never a stack trace)."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from web_helpers import csrf_token, make_app, make_client

from monitor.storage.models import BaselineArticle, Source, WatchTerm

ARTICLE_TEXT = (
    "Belarus moves troops\n\n"
    "Belarus has moved 5,000 troops to the border with Ukraine, the defence ministry said on Monday.\n\n"
    "Lukashenko said the army would hold exercises near Brest until the end of the month.\n\n"
    "Subscribe to our newsletter!\n"
)


def _watch_terms(engine: Engine) -> dict[str, WatchTerm]:
    with Session(engine) as session:
        return {row.term: row for row in session.exec(select(WatchTerm))}


def _sources(engine: Engine) -> dict[str, Source]:
    with Session(engine) as session:
        return {row.url: row for row in session.exec(select(Source))}


def test_add_edit_pause_and_remove_a_watch_term(engine: Engine) -> None:
    client = make_client(make_app(engine))
    token = csrf_token(client)
    added = client.post(
        "/watch", data={"term": " Lukashenko ", "aliases": "Лукашенко, Łukaszenka", "csrf_token": token}
    )
    assert added.status_code == 303
    row = _watch_terms(engine)["Lukashenko"]
    assert row.aliases == ["Лукашенко", "Łukaszenka"] and row.enabled
    assert "Łukaszenka" in client.get("/watch").text

    client.post(f"/watch/{row.id}/aliases", data={"aliases": "Лукашэнка\nLukaschenko", "csrf_token": token})
    assert _watch_terms(engine)["Lukashenko"].aliases == ["Лукашэнка", "Lukaschenko"]
    client.post(f"/watch/{row.id}/enabled", data={"enabled": "0", "csrf_token": token})
    assert not _watch_terms(engine)["Lukashenko"].enabled
    assert ">Resume</button>" in client.get("/watch").text
    client.post(f"/watch/{row.id}/enabled", data={"enabled": "1", "csrf_token": token})
    assert _watch_terms(engine)["Lukashenko"].enabled
    removed = client.post(f"/watch/{row.id}/delete", data={"csrf_token": token})
    assert removed.status_code == 303 and _watch_terms(engine) == {}


def test_watch_form_errors_come_back_on_the_form(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine))
    token = csrf_token(client)
    empty = client.post("/watch", data={"term": "  ", "aliases": "x", "csrf_token": token})
    assert empty.status_code == 400
    assert 'role="alert"' in empty.text and "watch term is empty" in empty.text
    assert 'name="aliases" value="x"' in empty.text  # what was typed stays in the form
    client.post("/watch", data={"term": "Minsk", "csrf_token": token})
    duplicate = client.post("/watch", data={"term": "MINSK", "csrf_token": token})
    assert duplicate.status_code == 409 and "exists already" in duplicate.text
    wildcard = client.post("/watch", data={"term": "Be*arus", "csrf_token": token})
    assert wildcard.status_code == 400 and "allowed only at the end" in wildcard.text
    gone = client.post("/watch/9999/delete", data={"csrf_token": token})
    assert gone.status_code == 404 and "there is no watch term 9999" in gone.text
    row = _watch_terms(sqlite_engine)["Minsk"]
    bad_alias = client.post(f"/watch/{row.id}/aliases", data={"aliases": "ok, *", "csrf_token": token})
    assert bad_alias.status_code == 400 and "alias of &#39;Minsk&#39; is empty" in bad_alias.text
    assert "Traceback" not in bad_alias.text


def test_watch_terms_api(engine: Engine) -> None:
    client = make_client(make_app(engine))
    created = client.post("/api/watch-terms", json={"term": "Lukashenko", "aliases": ["Лукашенко"]})
    assert created.status_code == 201
    term = created.json()
    assert term["term"] == "Lukashenko" and term["aliases"] == ["Лукашенко"] and term["enabled"]
    assert client.post("/api/watch-terms", json={"term": "lukashenko"}).status_code == 409
    assert client.post("/api/watch-terms", json={"term": ""}).status_code == 400
    assert client.post("/api/watch-terms", json={"term": "x", "colour": "red"}).status_code == 422
    patched = client.patch(f"/api/watch-terms/{term['id']}", json={"enabled": False, "aliases": ["Lukaschenko"]})
    assert patched.json()["enabled"] is False and patched.json()["aliases"] == ["Lukaschenko"]
    assert [item["term"] for item in client.get("/api/watch-terms").json()] == ["Lukashenko"]
    assert client.delete(f"/api/watch-terms/{term['id']}").status_code == 204
    assert client.delete(f"/api/watch-terms/{term['id']}").status_code == 404
    assert client.get("/api/watch-terms").json() == []


def test_add_pause_and_remove_a_source(engine: Engine) -> None:
    client = make_client(make_app(engine))
    token = csrf_token(client, "/sources")
    form = {"url": "HTTPS://News.Example/rss", "kind": "feed", "every": "2h", "outlet": "News", "csrf_token": token}
    assert client.post("/sources", data=form).status_code == 303
    row = _sources(engine)["https://news.example/rss"]
    assert row.every_seconds == 7200 and row.outlet == "News"
    page = client.get("/sources").text
    assert "every 2h" in page and "never" in page  # not crawled yet
    client.post(f"/sources/{row.id}/enabled", data={"enabled": "0", "csrf_token": token})
    assert not _sources(engine)["https://news.example/rss"].enabled
    client.post(f"/sources/{row.id}/delete", data={"csrf_token": token})
    assert _sources(engine) == {}


def test_source_form_errors_come_back_on_the_form(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine))
    token = csrf_token(client, "/sources")
    cases = [
        ({"url": "ftp://news.example/"}, "is not an http(s) URL"),
        ({"url": "https://news.example/rss", "kind": "podcast"}, "is not one of feed, sitemap, page"),
        ({"url": "https://news.example/rss", "every": "soon"}, "is not an interval like 30m"),
    ]
    for fields, message in cases:
        response = client.post("/sources", data={**fields, "csrf_token": token})
        assert response.status_code == 400, fields
        assert message in response.text.replace("&#39;", "'"), fields
        assert f'value="{fields["url"]}"' in response.text
    assert _sources(sqlite_engine) == {}


def test_sources_api(engine: Engine) -> None:
    client = make_client(make_app(engine))
    created = client.post("/api/sources", json={"url": "https://news.example/rss", "kind": "feed"})
    assert created.status_code == 201 and created.json()["articles"] == 0
    source_id = created.json()["id"]
    assert client.post("/api/sources", json={"url": "https://news.example/rss"}).status_code == 409
    assert client.post("/api/sources", json={"url": "https://x.example/", "kind": "podcast"}).status_code == 422
    assert client.post("/api/sources", json={"url": "not a url"}).status_code == 400
    assert client.patch(f"/api/sources/{source_id}", json={"enabled": False}).json()["enabled"] is False
    listed = client.get("/api/sources").json()
    assert [item["url"] for item in listed] == ["https://news.example/rss"]
    assert client.delete(f"/api/sources/{source_id}").status_code == 204
    assert client.get("/api/sources").json() == []


def test_add_a_baseline_article_by_upload(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine))
    token = csrf_token(client, "/baseline")
    response = client.post(
        "/baseline",
        data={"title": "Troops on the move", "outlet": "Example", "published": "2024-04-01", "csrf_token": token},
        files={"file": ("troops.txt", ARTICLE_TEXT.encode(), "text/plain")},
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/baseline?added=")
    with Session(sqlite_engine) as session:
        stored = session.exec(select(BaselineArticle)).one()
    assert stored.title == "Troops on the move" and str(stored.published) == "2024-04-01"
    page = client.get(response.headers["location"]).text
    assert "Added the article" in page and "Belarus has moved 5,000 troops" in page
    again = client.post(
        "/baseline", data={"csrf_token": token}, files={"file": ("troops.txt", ARTICLE_TEXT.encode(), "text/plain")}
    )
    assert again.status_code == 400 and "the baseline has this already" in again.text


def test_add_a_baseline_article_by_address(sqlite_engine: Engine) -> None:
    def site(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/missing":
            return httpx.Response(404)
        return httpx.Response(200, text=ARTICLE_TEXT, headers={"content-type": "text/plain; charset=utf-8"})

    with httpx.Client(transport=httpx.MockTransport(site)) as http:
        client = make_client(make_app(sqlite_engine, http_client=http))
        token = csrf_token(client, "/baseline")
        added = client.post("/baseline", data={"url": "https://news.example/troops", "csrf_token": token})
        assert added.status_code == 303
        missing = client.post("/baseline", data={"url": "https://news.example/missing", "csrf_token": token})
        assert missing.status_code == 400 and "the server answered 404" in missing.text
    with Session(sqlite_engine) as session:
        stored = session.exec(select(BaselineArticle)).one()
    assert stored.url == "https://news.example/troops"


def test_baseline_form_errors(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine))
    token = csrf_token(client, "/baseline")
    neither = client.post("/baseline", data={"csrf_token": token})
    assert neither.status_code == 400 and "give either an address or a file" in neither.text
    bad_url = client.post("/baseline", data={"url": "file:///etc/passwd", "csrf_token": token})
    assert bad_url.status_code == 400 and "is not an http(s) URL" in bad_url.text
    bad_date = client.post(
        "/baseline",
        data={"published": "last week", "csrf_token": token},
        files={"file": ("a.txt", ARTICLE_TEXT.encode(), "text/plain")},
    )
    assert bad_date.status_code == 400 and "is not a date like 2024-05-01" in bad_date.text
    binary = client.post(
        "/baseline", data={"csrf_token": token}, files={"file": ("a.bin", b"\x00\x01\x02" * 100, "application/x")}
    )
    assert binary.status_code == 400 and 'role="alert"' in binary.text
