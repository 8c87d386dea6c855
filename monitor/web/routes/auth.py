"""Logging in with MONITOR_WEB_TOKEN (a signed, HttpOnly, SameSite=Strict cookie) and logging out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from monitor.web.deps import Context, CsrfChecked, local_path
from monitor.web.security import SESSION_COOKIE, SESSION_MAX_AGE

router = APIRouter(include_in_schema=False)


def login_page_response(
    request: Request, context: Context, *, next_path: str, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return context.render(
        request, "login.html", {"next_path": local_path(next_path), "error": error}, status_code=status_code
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, context: Context, next: str = "/") -> HTMLResponse:
    return login_page_response(request, context, next_path=next)


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    context: Context,
    token: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    """Set the login cookie when the token matches; otherwise show the form again with the reason."""
    security = context.security
    if not security.token_required:
        return RedirectResponse(local_path(next_path), status_code=303)
    if not security.token_matches(token.strip()):
        return login_page_response(
            request, context, next_path=next_path, error="That is not the token.", status_code=401
        )
    response = RedirectResponse(local_path(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        security.issue_session(),
        max_age=int(SESSION_MAX_AGE.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
