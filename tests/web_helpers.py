"""Shared by the web tests: an app over a test database, a client that speaks to it in-process, and the CSRF
token a page carries."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from monitor.config import load_settings
from monitor.web.app import create_app

XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)  # 15:00 in Minsk: the local day is 2024-05-02
_CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def make_app(
    engine: Engine, *, token: str | None = None, http_client: httpx.Client | None = None, now: datetime = NOW
) -> FastAPI:
    settings = load_settings(web_token=token) if token else load_settings()
    return create_app(settings, engine, http_client=http_client, clock=lambda: now)


def make_client(app: FastAPI) -> TestClient:
    """A client addressing the app as 127.0.0.1 (writes without a token need a loopback Host)."""
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)


def csrf_token(client: TestClient, path: str = "/watch") -> str:
    """Load `path` (which sets the browser's CSRF cookie) and return the token its forms carry."""
    response = client.get(path)
    found = _CSRF_RE.search(response.text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)
