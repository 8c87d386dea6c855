"""The alerts as an Atom feed for feed readers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from monitor.catalog.queries import alert_feed_matches
from monitor.web.deps import Context
from monitor.web.feed import alerts_feed

router = APIRouter(tags=["feeds"])


@router.get(
    "/feeds/alerts.xml",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}, "description": "An Atom feed."}},
)
def alerts_feed_route(request: Request, context: Context) -> Response:
    """The newest 50 matches that alert (dismissed ones left out), as Atom."""
    with context.session() as session:
        items = alert_feed_matches(session, limit=50)
    base_url = str(request.base_url).rstrip("/")
    body = alerts_feed(items, base_url=base_url, now=context.clock())
    return Response(body, media_type="application/atom+xml; charset=utf-8")
