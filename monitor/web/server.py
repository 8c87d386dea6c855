"""Running the web app under uvicorn, refusing to listen beyond loopback without a write token."""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp

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


# Beyond loopback the token is all that stands between the network and every write: long enough that it
# cannot be guessed (`openssl rand -hex 24` gives 48 characters).
MIN_TOKEN_LENGTH = 16


def check_listen_address(settings: Settings, host: str) -> None:
    """Without a real MONITOR_WEB_TOKEN anyone who can reach the port could write, so beyond loopback the
    token must be set, not blank, and at least `MIN_TOKEN_LENGTH` characters long."""
    if is_loopback(host):
        return
    if settings.web_token is None:
        raise InputError(
            f"refusing to listen on {host} without MONITOR_WEB_TOKEN: set a token, "
            "or listen on 127.0.0.1 (MONITOR_WEB_HOST)"
        )
    token = settings.write_token
    if token is None:
        raise InputError(
            f"MONITOR_WEB_TOKEN is blank: set a token of at least {MIN_TOKEN_LENGTH} characters to listen on {host}"
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise InputError(
            f"MONITOR_WEB_TOKEN is {len(token)} characters long: at least {MIN_TOKEN_LENGTH} are needed to "
            f"listen on {host} (e.g. `openssl rand -hex 24`)"
        )


def check_port_free(host: str, port: int) -> None:
    """Raise InputError (one line) when `host:port` cannot be listened on because something else holds it.

    Bound the way uvicorn binds (SO_REUSEADDR), so a port left in TIME_WAIT by our own last run is free.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"port {port} is in use; set MONITOR_WEB_PORT or --port") from None
            if exc.errno == errno.EACCES:
                raise InputError(f"port {port} needs privileges; set MONITOR_WEB_PORT or --port above 1023") from None
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def serve_web(settings: Settings, engine: Engine, *, host: str, port: int) -> None:
    check_listen_address(settings, host)
    app = create_app(settings, engine)
    uvicorn.run(app, host=host, port=port, log_level="info")


@contextmanager
def serving_in_thread(app: ASGIApp, *, host: str = "127.0.0.1", join_timeout: float = 10.0) -> Iterator[str]:
    """Serve `app` from a background thread for a `with` block; yield its base URL (for browser tests and
    screenshots).

    The socket is bound and listening before the thread starts, so a client may connect at once: the
    kernel queues the connection until uvicorn accepts it, and nobody polls for readiness.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="web-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(join_timeout)
        sock.close()
