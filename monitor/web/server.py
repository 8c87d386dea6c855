"""Running the web app under uvicorn, refusing to listen beyond loopback without a write token."""

from __future__ import annotations

import ipaddress

import uvicorn
from sqlalchemy.engine import Engine

from monitor.config import Settings
from monitor.errors import InputError
from monitor.web.app import create_app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen_address(settings: Settings, host: str) -> None:
    """Without MONITOR_WEB_TOKEN anyone who can reach the port could write, so only loopback is allowed."""
    if settings.web_token is None and not is_loopback(host):
        raise InputError(
            f"refusing to listen on {host} without MONITOR_WEB_TOKEN: set a token, "
            "or listen on 127.0.0.1 (MONITOR_WEB_HOST)"
        )


def serve_web(settings: Settings, engine: Engine, *, host: str, port: int) -> None:
    check_listen_address(settings, host)
    app = create_app(settings, engine)
    uvicorn.run(app, host=host, port=port, log_level="info")
