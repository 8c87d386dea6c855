"""What routes depend on: the app's context (settings, engine, security, templates) and the write guards."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from monitor.config import Settings
from monitor.errors import DuplicateError, InputError, MonitorError, NotFoundError
from monitor.storage.engine import session_scope
from monitor.web.filters import MAX_ID
from monitor.web.rendering import render_page
from monitor.web.security import CSRF_COOKIE, CSRF_FIELD, WebSecurity


@dataclass(frozen=True)
class WebContext:
    """Everything the routes of one app share; built by `create_app`, kept in `app.state.web`."""

    settings: Settings
    engine: Engine
    security: WebSecurity
    templates: Jinja2Templates
    clock: Callable[[], datetime]
    # Fetching a baseline article by URL goes through this client when given (tests hand in a transport).
    http_client: httpx.Client | None = None

    def session(self) -> AbstractContextManager[Session]:
        """A unit of work: commits when the block ends, rolls back on any error."""
        return session_scope(self.engine)

    def render(self, request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
        return render_page(request, self.templates, self.security, name, context, status_code=status_code)


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


Context = Annotated[WebContext, Depends(web_context)]
# An id in a path: larger than any row can have would overflow in the database driver, so it is refused
# (422 in the API, "no such page" on pages) before any query.
ItemId = Annotated[int, Path(ge=0, le=MAX_ID, description="An id (no item has one above 2^63 - 1).")]


class LoginRequired(MonitorError):
    """A page write without the token: the browser is sent to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRejected(MonitorError):
    """A form came without a valid CSRF token (an old page, or another site)."""


def require_api_writer(request: Request, context: Context) -> None:
    """API writes: the bearer token (or the login cookie) when a token is set; 401 otherwise."""
    if not context.security.may_write(request):
        raise HTTPException(
            status_code=401,
            detail="this write needs the token: send 'Authorization: Bearer $MONITOR_WEB_TOKEN'",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def require_csrf(request: Request, context: Context) -> None:
    """A form post must carry the CSRF token that matches this browser's cookie."""
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    seed = request.cookies.get(CSRF_COOKIE)
    if not context.security.csrf_valid(seed, submitted if isinstance(submitted, str) else None):
        raise CsrfRejected()


async def require_form_writer(request: Request, context: Context) -> None:
    """Form writes: logged in (when a token is set) and a valid CSRF token."""
    if not context.security.may_write(request):
        raise LoginRequired(request.url.path)
    await require_csrf(request, context)


ApiWriter = Depends(require_api_writer)
FormWriter = Depends(require_form_writer)
CsrfChecked = Depends(require_csrf)


def status_for(error: InputError) -> int:
    """The HTTP status of a user's error: 404 not found, 409 exists already, else 400."""
    if isinstance(error, NotFoundError):
        return 404
    return 409 if isinstance(error, DuplicateError) else 400


def local_path(candidate: str | None, default: str = "/") -> str:
    """`candidate` when it is a path on this site (for redirects after a form), else `default`."""
    if candidate and candidate.startswith("/") and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return default
