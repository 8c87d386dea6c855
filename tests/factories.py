"""Keyword-only builders for the rows alerts and digests read: matches with their claim, article, baseline."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from monitor.storage.models import (
    Article,
    BaselineArticle,
    BaselineClaim,
    Claim,
    CrawlRun,
    CrawlStatus,
    Match,
    ReviewStatus,
    Source,
)

_sequence = itertools.count(1)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def baseline_claim(
    session: Session,
    *,
    text: str = "Belarus has 12,000-15,000 troops near the Ukrainian border.",
    title: str = "Belarus and the war",
    outlet: str | None = "Baseline Weekly",
    published: date | None = date(2022, 6, 30),
    url: str | None = "https://baseline.example/belarus",
) -> BaselineClaim:
    """A baseline claim in its own baseline article."""
    number = next(_sequence)
    article = BaselineArticle(
        key=f"baseline-{number}",
        title=title,
        outlet=outlet,
        published=published,
        url=url,
        content_hash=_hash(f"b{number}"),
    )
    session.add(article)
    session.flush()
    assert article.id is not None
    claim = BaselineClaim(article_id=article.id, position=0, text=text)
    session.add(claim)
    session.flush()
    return claim


def crawl_run(session: Session, *, status: str = CrawlStatus.finished, **fields: Any) -> CrawlRun:
    run = CrawlRun(status=status, **fields)
    session.add(run)
    session.flush()
    return run


def article(
    session: Session,
    *,
    url: str | None = None,
    title: str | None = "Minsk pulls troops back",
    outlet: str | None = "Example News",
    published: datetime | None = datetime(2024, 5, 2, 9, 0, tzinfo=UTC),
    fetched_at: datetime | None = None,
    watch_terms: list[str] | None = None,
    crawl_run_id: int | None = None,
) -> Article:
    number = next(_sequence)
    url = url or f"https://news.example/{number}"
    row = Article(
        canonical_url=url,
        url=url,
        title=title,
        outlet=outlet,
        published=published,
        text="Body.",
        content_hash=_hash(f"a{number}"),
        watch_terms=watch_terms or ["Belarus"],
        crawl_run_id=crawl_run_id,
    )
    if fetched_at is not None:
        row.fetched_at = fetched_at
    session.add(row)
    session.flush()
    return row


def match(
    session: Session,
    *,
    baseline: BaselineClaim | None = None,
    claim_text: str = "Belarus has 9,000 troops near the Ukrainian border.",
    verdict: str = "updated",
    score: float = 91.0,
    evidence: dict[str, Any] | None = None,
    on_article: Article | None = None,
    created_at: datetime | None = None,
    review_status: str = ReviewStatus.unreviewed,
    **article_fields: Any,
) -> Match:
    """A match of a new claim (in a new or given article) with `baseline` (a new one unless given)."""
    baseline = baseline or baseline_claim(session)
    new_article = on_article or article(session, **article_fields)
    assert new_article.id is not None and baseline.id is not None
    claim = Claim(article_id=new_article.id, position=next(_sequence), text=claim_text)
    session.add(claim)
    session.flush()
    assert claim.id is not None
    row = Match(
        claim_id=claim.id,
        baseline_claim_id=baseline.id,
        verdict=verdict,
        score=score,
        evidence=evidence if evidence is not None else {"changed": [["12,000-15,000", "9,000"]]},
        review_status=review_status,
    )
    if created_at is not None:
        row.created_at = created_at
    session.add(row)
    session.flush()
    return row


def source(session: Session, *, url: str, failures: int = 0, last_error: str | None = None, **fields: Any) -> Source:
    row = Source(url=url, consecutive_failures=failures, last_error=last_error, **fields)
    session.add(row)
    session.flush()
    return row


class Clock:
    """A clock the test moves by hand (an injectable `clock` for dispatchers and schedulers)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
