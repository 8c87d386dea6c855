"""Middleware on every response: security headers, the CSRF cookie, and the loopback-host rule for writes."""

from __future__ import annotations

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp

from monitor.web.security import CSRF_COOKIE, WebSecurity

# Everything the pages use is served from here: no inline script or style, no CDN, no frames.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Links out go to news sites; they need not learn which page of the monitor an analyst came from.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def is_api_path(path: str) -> bool:
    return path.startswith("/api/") or path == "/api"


class SecurityMiddleware(BaseHTTPMiddleware):
    """Adds the security headers, gives each browser a CSRF cookie, and refuses writes to a foreign Host."""

    def __init__(self, app: ASGIApp, *, security: WebSecurity) -> None:
        super().__init__(app)
        self._security = security

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        seed = request.cookies.get(CSRF_COOKIE)
        new_seed = None if seed else self._security.new_csrf_seed()
        # Routes read the seed from request.state, so the first page a browser loads has working forms.
        request.state.csrf_seed = seed or new_seed
        if not self._security.host_allowed(request):
            response = _refused_host(request)
        else:
            response = await call_next(request)
        if new_seed is not None:
            response.set_cookie(
                CSRF_COOKIE,
                new_seed,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
                path="/",
            )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _refused_host(request: Request) -> Response:
    message = (
        "writes without MONITOR_WEB_TOKEN are accepted only at a loopback address (127.0.0.1 or localhost); "
        f"this request was addressed to {request.headers.get('host', '?')!r}"
    )
    if is_api_path(request.url.path):
        return JSONResponse({"detail": message}, status_code=403)
    return PlainTextResponse(message, status_code=403)
