"""Read-only queries over stored coverage, shared by the CLI, the crawler and the web app.

The `*_json` functions give DESIGN.md's JSON shapes (`monitor articles list --json`, `matches list --json`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from monitor.errors import InputError
from monitor.storage.models import Article, BaselineClaim, Claim, Match, Verdict

# SQL `IN` lists are kept short enough for every backend's parameter limit.
_IN_BATCH = 500


def parse_since(value: str | None) -> datetime | None:
    """`--since` as an aware datetime: `YYYY-MM-DD` is the start of that day in UTC, and an ISO date-time
    without an offset is read as UTC; raise InputError for anything else."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.min, tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--since {value!r} is not a date like 2024-05-01 (or 2024-05-01T08:00)") from None
    return _as_utc_bound(parsed)


def _as_utc_bound(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stored_urls(session: Session, urls: Sequence[str]) -> set[str]:
    """The given URLs that are stored already, as an article's address or as its canonical URL."""
    found: set[str] = set()
    for start in range(0, len(urls), _IN_BATCH):
        batch = list(urls[start : start + _IN_BATCH])
        rows = session.exec(
            select(Article.url, Article.canonical_url).where(
                or_(col(Article.url).in_(batch), col(Article.canonical_url).in_(batch))
            )
        )
        for url, canonical in rows:
            found.update(value for value in (url, canonical) if value in batch)
    return found


def list_articles(session: Session, *, since: datetime | None = None, limit: int | None = None) -> list[Article]:
    """Stored articles, oldest first; `since` keeps those published (or, undated, fetched) from then on."""
    query = select(Article).order_by(col(Article.id))
    if since is not None:
        moment = _as_utc_bound(since)
        query = query.where(func.coalesce(col(Article.published), col(Article.fetched_at)) >= moment)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def article_json(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "outlet": article.outlet,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
        "watch_terms": list(article.watch_terms),
    }


MatchRow = tuple[Match, Claim, Article, BaselineClaim]


def list_matches(
    session: Session, *, verdict: str | None = None, since: datetime | None = None, limit: int | None = None
) -> list[MatchRow]:
    """Stored matches with their claim, article and baseline claim, oldest first."""
    if verdict is not None and verdict not in {v.value for v in Verdict}:
        choices = ", ".join(v.value for v in Verdict)
        raise InputError(f"verdict {verdict!r} is not one of {choices}")
    query = (
        select(Match, Claim, Article, BaselineClaim)
        .join(Claim, col(Claim.id) == col(Match.claim_id))
        .join(Article, col(Article.id) == col(Claim.article_id))
        .join(BaselineClaim, col(BaselineClaim.id) == col(Match.baseline_claim_id))
        .order_by(col(Match.id))
    )
    if verdict is not None:
        query = query.where(Match.verdict == verdict)
    if since is not None:
        query = query.where(col(Match.created_at) >= _as_utc_bound(since))
    if limit is not None:
        query = query.limit(limit)
    return [(match, claim, article, baseline) for match, claim, article, baseline in session.exec(query)]


def match_json(row: MatchRow) -> dict[str, Any]:
    match, claim, article, baseline = row
    return {
        "id": match.id,
        "verdict": match.verdict,
        "score": match.score,
        "claim": claim.text,
        "article_url": article.url,
        "baseline_claim_id": baseline.id,
        "baseline_claim": baseline.text,
        "evidence": match.evidence,
    }
