"""Jinja2 for the pages: one autoescaping environment per app, with filters that know the time zone.

Every string from a crawled page reaches HTML through autoescape; filters return plain strings or plain
data (segments, lines), never markup.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from alerts.render import format_day, safe_href, text_fragment_link
from monitor.catalog.queries import as_local
from monitor.matching.evidence import SCORE_MEANING, Evidence
from monitor.web.highlight import evidence_lines, highlight, pair_marks
from monitor.web.security import WebSecurity

TEMPLATES_DIR = Path(__file__).parent / "templates"
NAVIGATION = (
    ("/", "Today"),
    ("/matches", "Matches"),
    ("/articles", "Articles"),
    ("/baseline", "Baseline"),
    ("/digests", "Digests"),
    ("/watch", "Watch terms"),
    ("/sources", "Sources"),
)


def _local_time(zone: ZoneInfo) -> Any:
    def local_time(value: datetime | None, style: str = "minute") -> str:
        if value is None:
            return "never"
        moment = as_local(value, zone)
        return moment.strftime("%Y-%m-%d" if style == "day" else "%Y-%m-%d %H:%M")

    return local_time


def _query(params: dict[str, Any], **changes: Any) -> str:
    """`?a=1&b=2` from `params` with `changes` applied; empty values are left out."""
    merged = {**params, **changes}
    pairs = [(key, str(value)) for key, value in merged.items() if value not in (None, "")]
    return "?" + urlencode(pairs) if pairs else "?"


def _short_url(url: str | None, limit: int = 60) -> str:
    if not url:
        return ""
    text = url.split("://", 1)[-1]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_templates(zone: ZoneInfo) -> Jinja2Templates:
    environment = Environment(
        # The digest page includes the digest's sections as the email has them (`alerts/digest_sections.html`).
        loader=ChoiceLoader(
            [FileSystemLoader(TEMPLATES_DIR), PrefixLoader({"alerts": PackageLoader("alerts", "templates")})]
        ),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        local=_local_time(zone),
        day=format_day,
        href=safe_href,
        evidence=lambda stored: evidence_lines(Evidence.from_json(stored)),
        short_url=_short_url,
    )
    environment.globals.update(
        navigation=NAVIGATION,
        query=_query,
        fragment_link=lambda url, text: safe_href(text_fragment_link(url, text)),
        highlight=highlight,
        pair_marks=lambda stored: pair_marks(Evidence.from_json(stored)),
        score_meaning=SCORE_MEANING,
        timezone=zone.key,
    )
    return Jinja2Templates(env=environment)


def render_page(
    request: Request,
    templates: Jinja2Templates,
    security: WebSecurity,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page with what every page needs: the CSRF token, whether writes are allowed, the path."""
    seed = getattr(request.state, "csrf_seed", None) or ""
    common = {
        "csrf_token": security.csrf_token(seed) if seed else "",
        "can_write": security.may_write(request),
        "token_required": security.token_required,
        "current_path": request.url.path,
    }
    return templates.TemplateResponse(request, name, {**common, **context}, status_code=status_code)
