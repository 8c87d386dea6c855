"""The Digests pages: the days with coverage, and one day's digest as the email has it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import HTMLResponse

from alerts.digest import build_digest, health_summary, local_today
from alerts.digest_render import digest_subject, health_headline
from monitor.catalog.queries import digest_days, neighbour_days
from monitor.web.deps import Context
from monitor.web.filters import parse_day

router = APIRouter(include_in_schema=False)


@router.get("/digests", response_class=HTMLResponse)
def digests_page(request: Request, context: Context) -> HTMLResponse:
    zone = context.settings.zone
    now = context.clock()
    with context.session() as session:
        days = digest_days(session, zone=zone, now=now)
    return context.render(request, "digests.html", {"days": days, "today": local_today(zone, now=now)})


@router.get("/digests/{day}", response_class=HTMLResponse)
def digest_page(request: Request, context: Context, day: str) -> HTMLResponse:
    """The digest of a local day, built now from the database, so a dismissed match has left it already."""
    try:
        wanted = parse_day(day, name="day")
    except ValueError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    zone = context.settings.zone
    with context.session() as session:
        content = build_digest(session, day=wanted, zone=zone)
        days = digest_days(session, zone=zone, now=context.clock())
    previous_day, next_day = neighbour_days(days, wanted)
    health = health_summary(content)
    return context.render(
        request,
        "digest.html",
        {
            "digest": content,
            "subject": digest_subject(content),
            "health": health,
            "health_headline": health_headline(health),
            "sources_url": "/sources",
            "previous_day": previous_day,
            "next_day": next_day,
            "stored": next((entry for entry in days if entry.day == wanted and entry.built_at), None),
        },
    )
