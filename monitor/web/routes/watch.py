"""The Watch terms page: add a term with aliases, edit aliases, pause or resume, remove."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlmodel import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from monitor.catalog.watch_terms import add_watch_term, list_watch_terms, remove_watch_term, update_watch_term
from monitor.errors import InputError, NotFoundError
from monitor.storage.models import WatchTerm
from monitor.web.deps import Context, FormWriter, ItemId, status_for
from monitor.web.filters import split_aliases

router = APIRouter(include_in_schema=False)


def watch_page_response(
    request: Request,
    context: Context,
    *,
    error: str | None = None,
    error_row: int | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with context.session() as session:
        terms = list_watch_terms(session)
    return context.render(
        request,
        "watch.html",
        {"terms": terms, "error": error, "error_row": error_row, "typed": typed or {"term": "", "aliases": ""}},
        status_code=status_code,
    )


def term_by_id(session: Session, term_id: int) -> WatchTerm:
    row = session.get(WatchTerm, term_id)
    if row is None:
        raise NotFoundError(f"there is no watch term {term_id} (removed already?)")
    return row


@router.get("/watch", response_class=HTMLResponse)
def watch_page(request: Request, context: Context) -> HTMLResponse:
    return watch_page_response(request, context)


@router.post("/watch", dependencies=[FormWriter])
def add_term_form(
    request: Request,
    context: Context,
    term: Annotated[str, Form()] = "",
    aliases: Annotated[str, Form()] = "",
) -> Response:
    try:
        with context.session() as session:
            add_watch_term(session, term=term, aliases=split_aliases(aliases))
    except InputError as exc:
        typed = {"term": term, "aliases": aliases}
        return watch_page_response(request, context, error=str(exc), typed=typed, status_code=status_for(exc))
    return RedirectResponse("/watch", status_code=303)


def _change_term(
    request: Request, context: Context, term_id: int, change: Callable[[Session, str], object]
) -> Response:
    """Apply `change` to the term with `term_id` (by its name, as the watch list's functions take it)."""
    try:
        with context.session() as session:
            change(session, term_by_id(session, term_id).term)
    except InputError as exc:
        return watch_page_response(
            request,
            context,
            error=str(exc),
            error_row=None if isinstance(exc, NotFoundError) else term_id,
            status_code=status_for(exc),
        )
    return RedirectResponse(f"/watch#term-{term_id}", status_code=303)


@router.post("/watch/{term_id}/aliases", dependencies=[FormWriter])
def edit_aliases_form(
    request: Request, context: Context, term_id: ItemId, aliases: Annotated[str, Form()] = ""
) -> Response:
    return _change_term(
        request,
        context,
        term_id,
        lambda session, term: update_watch_term(session, term=term, aliases=split_aliases(aliases)),
    )


@router.post("/watch/{term_id}/enabled", dependencies=[FormWriter])
def pause_term_form(
    request: Request, context: Context, term_id: ItemId, enabled: Annotated[str, Form()] = ""
) -> Response:
    return _change_term(
        request, context, term_id, lambda session, term: update_watch_term(session, term=term, enabled=enabled == "1")
    )


@router.post("/watch/{term_id}/delete", dependencies=[FormWriter])
def remove_term_form(request: Request, context: Context, term_id: ItemId) -> Response:
    return _change_term(request, context, term_id, lambda session, term: remove_watch_term(session, term=term))
