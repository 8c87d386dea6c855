"""What a message says about a match, as plain data read from the database in one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from monitor.storage.models import Article, BaselineArticle, BaselineClaim, Claim, Match


@dataclass(frozen=True)
class MatchView:
    """One match with the new sentence, its article, and the baseline claim with its article."""

    match_id: int
    verdict: str
    score: float
    evidence: dict[str, Any]
    claim_text: str
    article_url: str
    article_title: str | None
    outlet: str | None
    published: datetime | None
    fetched_at: datetime
    baseline_claim_id: int
    baseline_claim_text: str
    baseline_title: str
    baseline_outlet: str | None
    baseline_published: date | None
    baseline_url: str | None


def load_match_views(session: Session, match_ids: Sequence[int]) -> list[MatchView]:
    """The views of `match_ids` in the order given; ids that no longer exist are left out."""
    if not match_ids:
        return []
    statement = (
        select(Match, Claim, Article, BaselineClaim, BaselineArticle)
        .join(Claim, col(Claim.id) == col(Match.claim_id))
        .join(Article, col(Article.id) == col(Claim.article_id))
        .join(BaselineClaim, col(BaselineClaim.id) == col(Match.baseline_claim_id))
        .join(BaselineArticle, col(BaselineArticle.id) == col(BaselineClaim.article_id))
        .where(col(Match.id).in_(list(match_ids)))
    )
    by_id: dict[int, MatchView] = {}
    for match, claim, article, baseline_claim, baseline_article in session.execute(statement):
        assert match.id is not None and baseline_claim.id is not None
        by_id[match.id] = MatchView(
            match_id=match.id,
            verdict=match.verdict,
            score=float(match.score),
            evidence=dict(match.evidence or {}),
            claim_text=claim.text,
            article_url=article.url,
            article_title=article.title,
            outlet=article.outlet,
            published=article.published,
            fetched_at=article.fetched_at,
            baseline_claim_id=baseline_claim.id,
            baseline_claim_text=baseline_claim.text,
            baseline_title=baseline_article.title,
            baseline_outlet=baseline_article.outlet,
            # A claim imported from a fact-check list carries its own date; else the article's.
            baseline_published=baseline_claim.published or baseline_article.published,
            baseline_url=baseline_article.url,
        )
    return [by_id[match_id] for match_id in match_ids if match_id in by_id]
