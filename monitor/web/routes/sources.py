"""The Sources page: add, pause or resume, remove; each source's last crawl, status, error and articles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlmodel import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from monitor.catalog.queries import source_overview
from monitor.catalog.sources import add_source, describe_every, remove_source, set_source_enabled
from monitor.errors import InputError, NotFoundError
from monitor.storage.models import Source, SourceKind
from monitor.web.deps import Context, FormWriter, ItemId, status_for

router = APIRouter(include_in_schema=False)
EMPTY_FORM = {"url": "", "kind": "feed", "every": "", "outlet": ""}


def sources_page_response(
    request: Request,
    context: Context,
    *,
    error: str | None = None,
    error_row: int | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with context.session() as session:
        overview = source_overview(session)
    default_every = context.settings.crawl_every
    filters = {key: request.query_params.get(key, "").strip() for key in ("q", "state", "language")}
    shown = [entry for entry in overview if _passes(entry.source, filters)]
    return context.render(
        request,
        "sources.html",
        {
            "sources": [(entry, describe_every(entry.source, default_every)) for entry in shown],
            "filters": filters,
            "total": len(overview),
            "enabled": sum(entry.source.enabled for entry in overview),
            "failing": sum(entry.source.consecutive_failures > 0 for entry in overview),
            "languages": sorted({entry.source.language for entry in overview if entry.source.language}),
            "kinds": [kind.value for kind in SourceKind],
            "error": error,
            "error_row": error_row,
            "typed": typed or EMPTY_FORM,
        },
        status_code=status_code,
    )


def _passes(source: Source, filters: dict[str, str]) -> bool:
    """Whether a source passes the page's filters: text in its outlet or address, state, language."""
    text = filters["q"].casefold()
    if text and text not in (source.outlet or "").casefold() and text not in source.url.casefold():
        return False
    state = filters["state"]
    if (state == "enabled" and not source.enabled) or (state == "paused" and source.enabled):
        return False
    if state == "failing" and not source.consecutive_failures:
        return False
    return not filters["language"] or source.language == filters["language"]


def source_by_id(session: Session, source_id: int) -> Source:
    row = session.get(Source, source_id)
    if row is None:
        raise NotFoundError(f"there is no source {source_id} (removed already?)")
    return row


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, context: Context) -> HTMLResponse:
    return sources_page_response(request, context)


@router.post("/sources", dependencies=[FormWriter])
def add_source_form(
    request: Request,
    context: Context,
    url: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "feed",
    every: Annotated[str, Form()] = "",
    outlet: Annotated[str, Form()] = "",
) -> Response:
    try:
        with context.session() as session:
            add_source(
                session,
                url=url,
                kind=kind,
                every=every.strip() or None,
                outlet=outlet,
                policy=context.settings.address_policy,
            )
    except InputError as exc:
        typed = {"url": url, "kind": kind, "every": every, "outlet": outlet}
        return sources_page_response(request, context, error=str(exc), typed=typed, status_code=status_for(exc))
    return RedirectResponse("/sources", status_code=303)


def _change_source(
    request: Request, context: Context, source_id: int, change: Callable[[Session, str], object]
) -> Response:
    try:
        with context.session() as session:
            change(session, source_by_id(session, source_id).url)
    except InputError as exc:
        return sources_page_response(
            request,
            context,
            error=str(exc),
            error_row=None if isinstance(exc, NotFoundError) else source_id,
            status_code=status_for(exc),
        )
    return RedirectResponse(f"/sources#source-{source_id}", status_code=303)


@router.post("/sources/{source_id}/enabled", dependencies=[FormWriter])
def pause_source_form(
    request: Request, context: Context, source_id: ItemId, enabled: Annotated[str, Form()] = ""
) -> Response:
    return _change_source(
        request, context, source_id, lambda session, url: set_source_enabled(session, url=url, enabled=enabled == "1")
    )


@router.post("/sources/{source_id}/delete", dependencies=[FormWriter])
def remove_source_form(request: Request, context: Context, source_id: ItemId) -> Response:
    return _change_source(request, context, source_id, lambda session, url: remove_source(session, url=url))
