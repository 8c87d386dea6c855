"""The Baseline pages: every claim with its counts, one claim's timeline, and adding a baseline article."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from starlette.responses import HTMLResponse, RedirectResponse, Response

from baseline.loader import BaselineFileError, read_article
from monitor.catalog.baseline_store import add_baseline_article, remove_baseline_article
from monitor.catalog.queries import (
    baseline_claim_stats,
    baseline_claim_stats_of,
    claim_timeline,
    list_baseline_articles,
    matches_of_baseline_article,
)
from monitor.catalog.sources import clean_url
from monitor.errors import InputError
from monitor.http.fetch import MAX_DOCUMENT_BYTES, fetch_document
from monitor.web.chart import matches_chart
from monitor.web.deps import Context, FormWriter, ItemId
from monitor.web.filters import page_number, parse_day

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class BaselineArticleForm:
    url: str = ""
    title: str = ""
    outlet: str = ""
    published: str = ""


def baseline_page_response(
    request: Request,
    context: Context,
    *,
    form: BaselineArticleForm | None = None,
    error: str | None = None,
    added: str | None = None,
    removed: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    with context.session() as session:
        stats = baseline_claim_stats(session)
        articles = list_baseline_articles(session)
    by_article: dict[int, list[object]] = {}
    for entry in stats:
        by_article.setdefault(entry.article.id or 0, []).append(entry)
    return context.render(
        request,
        "baseline.html",
        {
            "articles": [(article, count, by_article.get(article.id or 0, [])) for article, count in articles],
            "form": form or BaselineArticleForm(),
            "error": error,
            "added": added,
            "removed": removed,
        },
        status_code=status_code,
    )


@router.get("/baseline", response_class=HTMLResponse)
def baseline_page(
    request: Request, context: Context, added: str | None = None, removed: str | None = None
) -> HTMLResponse:
    # Only a count is shown back, so a crafted link cannot put words on the page.
    return baseline_page_response(
        request, context, added=added if added and added.isdigit() else None, removed=removed == "1"
    )


def _read_upload(upload: UploadFile) -> bytes:
    data = upload.file.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(f"{upload.filename}: the file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB")
    return data


def _add_article(context: Context, form: BaselineArticleForm, upload: UploadFile | None) -> int:
    """Fetch or read the article and store it; return how many claims it gave. Raises InputError."""
    published = parse_day(form.published, name="published") if form.published.strip() else None
    has_file = upload is not None and bool(upload.filename)
    if has_file == bool(form.url.strip()):
        raise InputError("give either an address or a file, not both and not neither")
    try:
        if upload is not None and has_file:
            source = upload.filename or "upload"
            article = read_article(_read_upload(upload), source=source, content_type=upload.content_type)
        else:
            document = fetch_document(
                clean_url(form.url), policy=context.settings.address_policy, client=context.http_client
            )
            source = document.url
            article = read_article(document.content, source=source, content_type=document.content_type)
    except BaselineFileError as exc:
        raise InputError(str(exc)) from None
    with context.session() as session:
        _row, claims = add_baseline_article(
            session,
            article=article,
            source=source,
            title=form.title.strip() or None,
            outlet=form.outlet.strip() or None,
            published=published,
        )
    return claims


@router.post("/baseline", dependencies=[FormWriter])
def add_baseline_form(
    request: Request,
    context: Context,
    url: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    outlet: Annotated[str, Form()] = "",
    published: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Add a baseline article by address or upload; errors come back on the form with what was typed."""
    form = BaselineArticleForm(url=url, title=title, outlet=outlet, published=published)
    try:
        claims = _add_article(context, form, file)
    except (InputError, ValueError) as exc:
        return baseline_page_response(request, context, form=form, error=str(exc), status_code=400)
    return RedirectResponse(f"/baseline?added={claims}", status_code=303)


@router.get("/baseline/{claim_id}", response_class=HTMLResponse)
def baseline_claim_page(request: Request, context: Context, claim_id: ItemId) -> HTMLResponse:
    """Who said what when about one baseline claim: a chart of matches by publication date, and the
    coverage grouped by day (or week) and outlet, a page of groups at a time."""
    page = page_number(request.query_params.get("page"))
    with context.session() as session:
        stats = baseline_claim_stats_of(session, claim_id)
        if stats is None:
            raise HTTPException(status_code=404, detail=f"There is no baseline claim {claim_id}.")
        timeline = claim_timeline(session, claim_id, zone=context.settings.zone, page=page)
    return context.render(
        request,
        "baseline_claim.html",
        {"stats": stats, "timeline": timeline, "chart": matches_chart(timeline.points), "params": {}},
    )


@router.get("/baseline/articles/{article_id}/remove", response_class=HTMLResponse)
def remove_baseline_page(request: Request, context: Context, article_id: ItemId) -> HTMLResponse:
    """Asks first: what becomes of the article's matches, and a button to confirm."""
    return _remove_page(request, context, article_id)


def _remove_page(
    request: Request, context: Context, article_id: int, *, error: str = "", status_code: int = 200
) -> HTMLResponse:
    with context.session() as session:
        listed = {article.id: (article, count) for article, count in list_baseline_articles(session)}
        if article_id not in listed:
            raise HTTPException(status_code=404, detail=f"There is no baseline article {article_id}.")
        article, claims = listed[article_id]
        matches = matches_of_baseline_article(session, article_id)
    return context.render(
        request,
        "baseline_remove.html",
        {"article": article, "claims": claims, "matches": matches, "error": error},
        status_code=status_code,
    )


@router.post("/baseline/articles/{article_id}/remove", dependencies=[FormWriter])
def remove_baseline_form(
    request: Request, context: Context, article_id: ItemId, matches: Annotated[str, Form()] = ""
) -> Response:
    """Remove the article, keeping or deleting its matches as chosen; back to the Baseline page."""
    if matches not in ("keep", "remove"):
        error = "choose whether its matches are kept or removed"
        return _remove_page(request, context, article_id, error=error, status_code=400)
    with context.session() as session:
        remove_baseline_article(session, article_id=article_id, remove_matches=matches == "remove", now=context.clock())
    return RedirectResponse("/baseline?removed=1", status_code=303)
