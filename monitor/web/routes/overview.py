"""The Today page and the article page."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import HTMLResponse

from alerts.digest import local_today
from monitor.catalog.queries import (
    MatchFilters,
    article_detail,
    crawl_health,
    day_window,
    latest_alerts,
    search_matches,
    unreviewed_count,
    verdict_counts,
)
from monitor.web.deps import Context, ItemId

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


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, context: Context, article_id: ItemId) -> HTMLResponse:
    with context.session() as session:
        detail = article_detail(session, article_id)
    if detail is None:
        raise HTTPException(status_code=404, detail=f"There is no article {article_id}.")
    return context.render(request, "article.html", {"detail": detail})
