from __future__ import annotations

import httpx
import pytest
from sqlalchemy.engine import Engine

from monitor.catalog.first_run import initialise
from monitor.config import load_settings
from monitor.errors import InputError
from monitor.storage.engine import session_scope
from monitor.web.app import create_app
from monitor.web.server import check_listen_address


def test_healthz_reports_the_database_and_baseline(engine: Engine) -> None:
    with session_scope(engine) as session:
        initialise(session)
    app = create_app(load_settings(), engine)
    transport = httpx.ASGITransport(app=app)

    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/healthz")

    import asyncio

    response = asyncio.run(fetch())
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["baseline_claims"] > 40


def test_refuses_to_listen_beyond_loopback_without_a_token() -> None:
    settings = load_settings()
    check_listen_address(settings, "127.0.0.1")
    with pytest.raises(InputError, match="MONITOR_WEB_TOKEN"):
        check_listen_address(settings, "0.0.0.0")
    # Issue 11: beyond loopback the token must be long enough to resist guessing (it was "s3cret" here).
    check_listen_address(load_settings(web_token="s3cret-but-long-enough"), "0.0.0.0")


@pytest.mark.parametrize(
    ("token", "message"),
    [("", "MONITOR_WEB_TOKEN is blank"), ("   ", "MONITOR_WEB_TOKEN is blank"), ("s3cret", "6 characters long")],
)
def test_a_blank_or_short_token_is_refused_beyond_loopback_and_means_no_token_on_loopback(
    token: str, message: str, engine: Engine
) -> None:
    settings = load_settings(web_token=token)
    with pytest.raises(InputError, match=message) as refused:
        check_listen_address(settings, "0.0.0.0")
    assert "\n" not in str(refused.value) and "MONITOR_WEB_TOKEN" in str(refused.value)
    if not token.strip():
        # The server and the app agree: a blank token is no token, so writes are loopback-only, not open.
        check_listen_address(settings, "127.0.0.1")
        assert settings.write_token is None
        security = create_app(settings, engine).state.web.security
        assert not security.token_required
