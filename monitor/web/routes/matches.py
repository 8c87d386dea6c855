"""The Matches page: filters, both sentences side by side, and the review form."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from monitor.catalog.queries import (
    REVIEW_STATUSES,
    VERDICTS,
    article_languages,
    outlet_names,
    search_matches,
    watch_term_names,
    write_matches_csv,
)
from monitor.errors import InputError, NotFoundError
from monitor.web.deps import Context, FormWriter, ItemId, local_path
from monitor.web.filters import PAGE_SIZE, page_number, parse_match_filters
from monitor.web.review import review_match

router = APIRouter(include_in_schema=False)

FILTER_KEYS = ("verdict", "review", "from", "to", "outlet", "term", "claim", "article", "language")


def matches_page_response(
    request: Request, context: Context, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    params = {key: request.query_params.get(key, "") for key in FILTER_KEYS}
    parsed = parse_match_filters(params)
    page = page_number(request.query_params.get("page"))
    with context.session() as session:
        items, total = search_matches(
            session, parsed.filters, zone=context.settings.zone, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        outlets = outlet_names(session)
        terms = watch_term_names(session)
        languages = article_languages(session)
    errors = [*parsed.errors, *([error] if error else [])]
    return context.render(
        request,
        "matches.html",
        {
            "items": items,
            "total": total,
            "page": page,
            "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            "params": params,
            "errors": errors,
            "verdicts": VERDICTS,
            "review_statuses": REVIEW_STATUSES,
            "outlets": outlets,
            "terms": terms,
            "languages": languages,
            "return_to": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        },
        status_code=400 if parsed.errors else status_code,
    )


@router.get("/matches", response_class=HTMLResponse)
def matches_page(request: Request, context: Context) -> HTMLResponse:
    return matches_page_response(request, context)


CSV_LIMIT = 100_000  # a year of coverage is about 34,000 matches


@router.get("/matches.csv")
def matches_csv(request: Request, context: Context) -> Response:
    """The matches the page's filters select, all of them (newest first), as a CSV download."""
    params = {key: request.query_params.get(key, "") for key in FILTER_KEYS}
    parsed = parse_match_filters(params)
    if parsed.errors:
        return Response("; ".join(parsed.errors) + "\n", status_code=400, media_type="text/plain")
    with context.session() as session:
        items, _total = search_matches(session, parsed.filters, zone=context.settings.zone, limit=CSV_LIMIT)
        buffer = io.StringIO()
        write_matches_csv(items, buffer)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="claim-monitor-matches.csv"'},
    )


@router.post("/matches/{match_id}/review", dependencies=[FormWriter])
def review_form(
    request: Request,
    context: Context,
    match_id: ItemId,
    status: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    return_to: Annotated[str, Form()] = "/matches",
) -> Response:
    """Confirm, dismiss or reset a match, then go back to the list the reviewer came from."""
    try:
        with context.session() as session:
            review_match(session, match_id=match_id, status=status, note=note, now=context.clock())
    except NotFoundError as exc:
        return matches_page_response(request, context, error=str(exc), status_code=404)
    except InputError as exc:
        return matches_page_response(request, context, error=str(exc), status_code=400)
    target = local_path(return_to, "/matches")
    return RedirectResponse(f"{target}#match-{match_id}", status_code=303)
