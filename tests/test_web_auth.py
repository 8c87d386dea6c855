"""Who may write: the token (bearer or login cookie) when one is set, a CSRF token on every form, and a
loopback Host for writes when no token is set."""

from __future__ import annotations

from http.cookies import SimpleCookie

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from web_helpers import csrf_token, make_app, make_client

from monitor.storage.models import WatchTerm
from monitor.web.security import SESSION_COOKIE, SESSION_MAX_AGE, WebSecurity

TOKEN = "s3cret-token"


def _terms(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [row.term for row in session.exec(select(WatchTerm))]


def test_api_writes_need_the_bearer_token_when_one_is_set(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine, token=TOKEN))
    body = {"term": "Lukashenko", "aliases": ["Лукашенко"]}
    missing = client.post("/api/watch-terms", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "MONITOR_WEB_TOKEN" in missing.json()["detail"]
    wrong = client.post("/api/watch-terms", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert _terms(sqlite_engine) == []
    created = client.post("/api/watch-terms", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert created.status_code == 201
    term_id = created.json()["id"]
    assert client.delete(f"/api/watch-terms/{term_id}").status_code == 401
    assert client.get("/api/watch-terms").status_code == 200  # reads stay open
    deleted = client.delete(f"/api/watch-terms/{term_id}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert deleted.status_code == 204


def test_forms_redirect_to_login_and_the_cookie_then_allows_writes(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine, token=TOKEN))
    page = client.get("/watch").text
    assert 'action="/watch"' not in page and "Log in</a> to change the watch list" in page
    token = csrf_token(client, "/login")
    refused = client.post("/watch", data={"term": "Minsk", "csrf_token": token})
    assert refused.status_code == 303 and refused.headers["location"] == "/login?next=/watch"
    assert _terms(sqlite_engine) == []

    wrong = client.post("/login", data={"token": "guess", "next": "/watch", "csrf_token": token})
    assert wrong.status_code == 401 and "That is not the token." in wrong.text
    login = client.post("/login", data={"token": TOKEN, "next": "/watch", "csrf_token": token})
    assert login.status_code == 303 and login.headers["location"] == "/watch"
    cookie = login.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=" in cookie

    assert client.post("/watch", data={"term": "Minsk", "csrf_token": token}).status_code == 303
    assert _terms(sqlite_engine) == ["Minsk"]
    # The login cookie also serves the API (a browser's fetch), SameSite=Strict keeps it same-site.
    assert client.post("/api/watch-terms", json={"term": "Gomel"}).status_code == 201

    logout = client.post("/logout", data={"csrf_token": token})
    assert logout.status_code == 303 and f'{SESSION_COOKIE}=""' in logout.headers["set-cookie"]
    client.cookies.delete(SESSION_COOKIE)
    assert client.post("/watch", data={"term": "Brest", "csrf_token": token}).status_code == 303
    assert "Brest" not in _terms(sqlite_engine)


def test_a_forged_or_foreign_cookie_does_not_log_in(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine, token=TOKEN))
    other_app_cookie = WebSecurity("another-token").issue_session()
    genuine = WebSecurity(TOKEN).issue_session()
    issued, nonce, signature = genuine.split(".")
    tampered = f"{int(issued) + 1}.{nonce}.{signature}"
    for value in (other_app_cookie, tampered, "1.2.3", "garbage"):
        client.cookies.set(SESSION_COOKIE, value)
        assert client.post("/api/watch-terms", json={"term": "Minsk"}).status_code == 401, value
    client.cookies.set(SESSION_COOKIE, genuine)
    assert client.post("/api/watch-terms", json={"term": "Minsk"}).status_code == 201


def test_login_cookies_expire() -> None:
    now = [1_000_000.0]
    security = WebSecurity(TOKEN, clock=lambda: now[0])
    cookie = security.issue_session()
    assert security.session_valid(cookie)
    now[0] += SESSION_MAX_AGE.total_seconds() + 1
    assert not security.session_valid(cookie)


def test_forms_without_a_valid_csrf_token_are_rejected(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine))
    token = csrf_token(client)
    for data in ({"term": "Minsk"}, {"term": "Minsk", "csrf_token": "0" * 64}, {"term": "Minsk", "csrf_token": ""}):
        response = client.post("/watch", data=data)
        assert response.status_code == 403
        assert "Reload the page and try again" in response.text
    # A token from another browser (another CSRF cookie) does not fit this one.
    stranger = make_client(make_app(sqlite_engine))
    assert stranger.post("/watch", data={"term": "Minsk", "csrf_token": token}).status_code == 403
    assert _terms(sqlite_engine) == []
    assert client.post("/watch", data={"term": "Minsk", "csrf_token": token}).status_code == 303


def test_csrf_cookie_is_httponly_and_strict(sqlite_engine: Engine) -> None:
    response = make_client(make_app(sqlite_engine)).get("/watch")
    cookie = SimpleCookie(response.headers["set-cookie"])
    morsel = cookie["monitor_csrf"]
    assert morsel["httponly"] and morsel["samesite"].lower() == "strict"


def test_without_a_token_writes_need_a_loopback_host(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine))
    rebound = client.post("/api/watch-terms", json={"term": "Minsk"}, headers={"Host": "evil.example"})
    assert rebound.status_code == 403 and "loopback" in rebound.json()["detail"]
    assert client.get("/api/watch-terms", headers={"Host": "evil.example"}).status_code == 200
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        response = client.post("/api/watch-terms", json={"term": f"Minsk {host}"}, headers={"Host": host})
        assert response.status_code == 201, host


def test_with_a_token_any_host_may_write_with_it(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine, token=TOKEN))
    response = client.post(
        "/api/watch-terms",
        json={"term": "Minsk"},
        headers={"Host": "monitor.example.org", "Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 201


def test_login_page_without_a_token_says_there_is_nothing_to_log_in_to(sqlite_engine: Engine) -> None:
    page = make_client(make_app(sqlite_engine)).get("/login").text
    assert "listens on loopback only" in page


def test_redirect_after_login_stays_on_this_site(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine, token=TOKEN))
    token = csrf_token(client, "/login")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/login", data={"token": TOKEN, "next": target, "csrf_token": token})
        assert response.headers["location"] == "/", target
