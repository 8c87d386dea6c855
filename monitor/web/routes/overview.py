"""The Today page, the Articles page and one article's page."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import HTMLResponse

from alerts.digest import local_today
from monitor.catalog.queries import (
    MatchFilters,
    article_detail,
    article_match_counts,
    crawl_health,
    day_window,
    latest_alerts,
    outlet_names,
    search_articles,
    search_matches,
    unreviewed_count,
    verdict_counts,
    watch_term_names,
)
from monitor.web.deps import Context, ItemId
from monitor.web.filters import PAGE_SIZE, page_number

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def today_page(request: Request, context: Context) -> HTMLResponse:
    """Today's counts by verdict, the newest alerts and matches, and crawl health at a glance."""
    zone = context.settings.zone
    now = context.clock()
    today = local_today(zone, now=now)
    with context.session() as session:
        page = {
            "day": today,
            "counts_today": verdict_counts(session, since=day_window(today, zone)[0]),
            "counts_all": verdict_counts(session),
            "unreviewed": unreviewed_count(session),
            "alerts": latest_alerts(session, limit=10),
            "matches": search_matches(session, MatchFilters(), zone=zone, limit=5)[0],
            "health": crawl_health(session, now=now),
        }
    return context.render(request, "today.html", page)


@router.get("/articles", response_class=HTMLResponse)
def articles_page(request: Request, context: Context) -> HTMLResponse:
    """Every stored article, newest fetched first, filterable by outlet and watch term, a page at a time."""
    params = {key: request.query_params.get(key, "").strip() for key in ("outlet", "term")}
    page = page_number(request.query_params.get("page"))
    with context.session() as session:
        items, total = search_articles(
            session,
            outlet=params["outlet"] or None,
            watch_term=params["term"] or None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        counts = article_match_counts(session, [item.id for item in items if item.id is not None])
        outlets = outlet_names(session)
        terms = watch_term_names(session)
    return context.render(
        request,
        "articles.html",
        {
            "items": [(item, counts.get(item.id or 0, 0)) for item in items],
            "total": total,
            "page": page,
            "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            "params": params,
            "outlets": outlets,
            "terms": terms,
        },
    )


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, context: Context, article_id: ItemId) -> HTMLResponse:
    with context.session() as session:
        detail = article_detail(session, article_id)
    if detail is None:
        raise HTTPException(status_code=404, detail=f"There is no article {article_id}.")
    return context.render(request, "article.html", {"detail": detail})
