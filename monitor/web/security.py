"""Who may write, and proof that a form came from our own page.

- With `MONITOR_WEB_TOKEN` set, a write needs `Authorization: Bearer <token>` or the login cookie. The cookie
  holds `issued.nonce.signature` (HMAC-SHA256 under a key derived from the token), so changing the token
  logs everybody out and nothing is stored server-side.
- Without a token, writes are open, but the server listens on loopback only (server.py); writes must
  then carry a loopback `Host`, so a page on another site that rebinds its DNS name to 127.0.0.1 cannot
  write.
- Every form carries a CSRF token: the HMAC of a random per-browser cookie (double submit, signed). A
  cross-site page can neither read that cookie nor make the browser send it (SameSite=Strict).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from starlette.requests import Request

SESSION_COOKIE = "monitor_session"
CSRF_COOKIE = "monitor_csrf"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE = timedelta(days=14)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"claim-monitor web {purpose}".encode(), hashlib.sha256).digest()


def _sign(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def request_host(request: Request) -> str:
    """The host name the client asked for, without port or IPv6 brackets."""
    host = request.headers.get("host", "")
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, if there is one."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


class WebSecurity:
    """Checks tokens, signs and verifies login cookies and CSRF tokens; one per app."""

    def __init__(self, token: str | None, *, clock: Callable[[], float] = time.time) -> None:
        self._token = token or None
        self._clock = clock
        # With a token the keys follow from it, so a restart keeps people logged in; without one there is
        # nothing to log in to, and a per-process key only signs CSRF tokens.
        secret = self._token.encode() if self._token else secrets.token_bytes(32)
        self._session_key = _derive(secret, "session")
        self._csrf_key = _derive(secret, "csrf")

    @property
    def token_required(self) -> bool:
        return self._token is not None

    def token_matches(self, candidate: str | None) -> bool:
        if self._token is None or not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self._token.encode())

    def issue_session(self) -> str:
        """A new login cookie value."""
        body = f"{int(self._clock())}.{secrets.token_urlsafe(12)}"
        return f"{body}.{_sign(self._session_key, body)}"

    def session_valid(self, value: str | None) -> bool:
        """True for a cookie this app signed (under the current token) within SESSION_MAX_AGE."""
        if not value or self._token is None:
            return False
        body, _, signature = value.rpartition(".")
        issued, _, _nonce = body.partition(".")
        if not issued.isdigit() or not hmac.compare_digest(signature, _sign(self._session_key, body)):
            return False
        age = self._clock() - int(issued)
        return 0 <= age <= SESSION_MAX_AGE.total_seconds()

    def may_write(self, request: Request) -> bool:
        """Whether this request may change data (the token, when one is set, as bearer or login cookie)."""
        if self._token is None:
            return True
        return self.token_matches(bearer_token(request)) or self.session_valid(request.cookies.get(SESSION_COOKIE))

    def host_allowed(self, request: Request) -> bool:
        """Without a token, writes must address the loopback server by a loopback name (no DNS rebinding)."""
        if self._token is not None or request.method not in UNSAFE_METHODS:
            return True
        return request_host(request) in LOOPBACK_HOSTS

    @staticmethod
    def new_csrf_seed() -> str:
        return secrets.token_urlsafe(24)

    def csrf_token(self, seed: str) -> str:
        """The token forms carry for the browser whose CSRF cookie is `seed`."""
        return _sign(self._csrf_key, seed)

    def csrf_valid(self, seed: str | None, submitted: str | None) -> bool:
        if not seed or not submitted:
            return False
        return hmac.compare_digest(submitted, self.csrf_token(seed))
