"""Reading filters and form fields typed by people: every bad value becomes a message, never an exception
that escapes to the user as a stack trace."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from monitor.catalog.queries import REVIEW_STATUSES, VERDICTS, MatchFilters

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass
class ParsedFilters:
    filters: MatchFilters
    errors: list[str] = field(default_factory=list)


# The largest id and offset both databases take (a signed 64-bit integer): a larger one overflows in the
# driver, so it is refused before any query.
MAX_ID = 2**63 - 1
# The days whose local start and end exist in every time zone (a day's window in UTC reaches up to a day
# beyond it on either side).
FIRST_DAY = date(1, 1, 2)
LAST_DAY = date(9999, 12, 30)


def parse_day(raw: str | None, *, name: str) -> date:
    """A YYYY-MM-DD date from FIRST_DAY to LAST_DAY; raise ValueError naming the field otherwise."""
    text = (raw or "").strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}: {text[:40]!r} is not a date like 2024-05-01") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{name}: {text} is out of range ({FIRST_DAY} to {LAST_DAY})")
    return day


def _choice(raw: str | None, choices: tuple[str, ...], name: str, errors: list[str]) -> str | None:
    text = (raw or "").strip()
    if not text:
        return None
    if text not in choices:
        errors.append(f"{name}: {text[:40]!r} is not one of {', '.join(choices)}")
        return None
    return text


def _optional_day(raw: str | None, name: str, errors: list[str]) -> date | None:
    if not (raw or "").strip():
        return None
    try:
        return parse_day(raw, name=name)
    except ValueError as exc:
        errors.append(str(exc))
        return None


def _optional_id(raw: str | None, name: str, errors: list[str]) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        errors.append(f"{name}: {text[:40]!r} is not a number")
        return None
    return int(text)


def parse_match_filters(params: Mapping[str, str]) -> ParsedFilters:
    """MatchFilters from query parameters `verdict`, `review`, `from`, `to`, `outlet`, `term`, `claim`,
    `article`, `language`."""
    errors: list[str] = []
    found_from = _optional_day(params.get("from"), "from", errors)
    found_to = _optional_day(params.get("to"), "to", errors)
    if found_from and found_to and found_from > found_to:
        errors.append(f"from ({found_from}) is after to ({found_to})")
        found_from = found_to = None
    filters = MatchFilters(
        verdict=_choice(params.get("verdict"), VERDICTS, "verdict", errors),
        review_status=_choice(params.get("review"), REVIEW_STATUSES, "review", errors),
        found_from=found_from,
        found_to=found_to,
        outlet=(params.get("outlet") or "").strip() or None,
        watch_term=(params.get("term") or "").strip() or None,
        baseline_claim_id=_optional_id(params.get("claim"), "claim", errors),
        article_id=_optional_id(params.get("article"), "article", errors),
        language=_language(params.get("language"), errors),
    )
    return ParsedFilters(filters, errors)


def _language(raw: str | None, errors: list[str]) -> str | None:
    text = (raw or "").strip().lower()
    if not text:
        return None
    if not re.fullmatch(r"[a-z]{2,3}", text):
        errors.append(f"language: {text[:20]!r} is not a language code such as en, ru, uk or be")
        return None
    return text


def page_number(raw: str | None) -> int:
    """A 1-based page number; anything unusable is page 1."""
    text = (raw or "").strip()
    return max(int(text), 1) if text.isdigit() and len(text) < 7 else 1


def split_aliases(raw: str) -> list[str]:
    """Aliases typed one a line or separated by commas (a comma inside an alias is rare in names)."""
    return [part.strip() for part in re.split(r"[,\n;]", raw) if part.strip()]
