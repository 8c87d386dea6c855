"""The FastAPI application factory. Built per call with its settings and engine, so tests get their own."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from monitor.config import Settings
from monitor.storage.models import BaselineClaim, Source, WatchTerm, utcnow
from monitor.web.deps import CsrfRejected, LoginRequired, WebContext
from monitor.web.middleware import SecurityMiddleware, is_api_path
from monitor.web.rendering import build_templates
from monitor.web.routes import api, auth, baseline, digests, docs, feeds, matches, overview, sources, watch
from monitor.web.security import WebSecurity

STATIC_DIR = Path(__file__).parent / "static"
logger = logging.getLogger(__name__)

API_DESCRIPTION = """The data of Claim Monitor's pages as JSON. Reads are open; writes (POST, PATCH, DELETE) need
`Authorization: Bearer $MONITOR_WEB_TOKEN` when a token is set. Errors come as `{"detail": "..."}`.
The machine-readable schema is at `/openapi.json`."""


def create_app(
    settings: Settings,
    engine: Engine,
    *,
    http_client: httpx.Client | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """The web app over `engine`. `http_client` fetches baseline articles by URL (default: a new client per
    fetch); `clock` gives the current time (tests pass their own)."""
    # Swagger UI and ReDoc load scripts from a CDN; /docs is rendered here instead (routes/docs.py).
    app = FastAPI(title="Claim Monitor", version="0.1.0", description=API_DESCRIPTION, docs_url=None, redoc_url=None)
    security = WebSecurity(settings.write_token)
    app.state.settings = settings
    app.state.engine = engine
    app.state.web = WebContext(
        settings=settings,
        engine=engine,
        security=security,
        templates=build_templates(settings.zone),
        clock=clock,
        http_client=http_client,
    )
    app.add_middleware(SecurityMiddleware, security=security)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (overview, matches, baseline, digests, watch, sources, auth, api, feeds, docs):
        app.include_router(module.router)
    _add_error_handlers(app)
    _add_healthz(app, engine)
    _add_favicon(app)
    return app


def _add_favicon(app: FastAPI) -> None:
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says: answer with the same icon.
    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


def _add_healthz(app: FastAPI, engine: Engine) -> None:
    @app.get("/healthz", tags=["service"])
    def healthz() -> JSONResponse:
        """Liveness and readiness: the database answers and the baseline is loaded."""
        body: dict[str, Any] = {"status": "ok"}
        try:
            with Session(engine) as session:
                body["baseline_claims"] = session.exec(select(func.count()).select_from(BaselineClaim)).one()
                body["watch_terms"] = session.exec(select(func.count()).select_from(WatchTerm)).one()
                body["sources"] = session.exec(select(func.count()).select_from(Source)).one()
            body["database"] = "ok"
        except SQLAlchemyError as exc:
            body.update(status="error", database=type(exc).__name__)
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)


_TITLES = {400: "Bad request", 401: "Log in", 403: "Not allowed", 404: "Not found", 405: "Not allowed"}


def error_page(request: Request, status_code: int, message: str) -> Response:
    """An error as a page (or as JSON under /api/), never with a stack trace."""
    if is_api_path(request.url.path):
        return JSONResponse({"detail": message}, status_code=status_code)
    context: WebContext = request.app.state.web
    title = _TITLES.get(status_code, "Something went wrong")
    return context.render(request, "error.html", {"title": title, "message": message}, status_code=status_code)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail) if exc.status_code != 404 or exc.detail != "Not Found" else "There is no such page."
        response = error_page(request, exc.status_code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if is_api_path(request.url.path):
            return await request_validation_exception_handler(request, exc)
        # On a page the only typed parts are ids in the path: a bad one names no page.
        return error_page(request, 404, "There is no such page.")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        # Back to the page the form was on (its first path segment), not to the POST-only address.
        page = "/" + exc.next_path.strip("/").split("/", 1)[0]
        return RedirectResponse(f"/login?next={quote(page)}", status_code=303)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        message = "This form has expired or came from another site. Reload the page and try again."
        return error_page(request, 403, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("error serving %s %s", request.method, request.url.path)
        return error_page(request, 500, "Something went wrong on our side; the error is in the server log.")
