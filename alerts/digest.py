"""The daily digest: what one day (in the digest's time zone) brought, stored in `digests` and queued to send.

A day's matches are those found that day (`Match.created_at` in the local day), dismissed ones excluded,
grouped by verdict and then by baseline claim; articles are those fetched that day. Crawl health and
failed alerts are shown as they are when the digest is built.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from alerts.outbox import enqueue_digest_alerts
from alerts.render import describe_evidence, format_day, group_by_baseline, text_fragment_link
from monitor.catalog.queries import VERDICT_ORDER, MatchView, day_window, failing_sources, list_alerts, load_match_views
from monitor.storage.models import (
    AlertStatus,
    Article,
    CrawlRun,
    CrawlStatus,
    Digest,
    Match,
    ReviewStatus,
    utcnow,
)


class DigestMatch(BaseModel):
    match_id: int
    verdict: str
    score: float
    claim: str
    link: str
    article_title: str | None
    outlet: str | None
    published: str
    evidence: list[str]
    language: str | None = None


class DigestBaselineGroup(BaseModel):
    baseline_claim_id: int
    baseline_claim: str
    baseline_article: str
    baseline_published: str
    matches: list[DigestMatch]


class DigestVerdictSection(BaseModel):
    verdict: str
    count: int
    groups: list[DigestBaselineGroup]


class DigestOutlet(BaseModel):
    outlet: str
    matches: int


class DigestArticle(BaseModel):
    article_id: int
    title: str | None
    url: str
    outlet: str | None


class DigestWatchTerm(BaseModel):
    term: str
    articles: list[DigestArticle]


class FailingSource(BaseModel):
    url: str
    outlet: str | None
    consecutive_failures: int
    last_error: str | None


class CrawlProblem(BaseModel):
    crawl_run_id: int
    source: str | None
    url: str | None
    reason: str


class PartialRun(BaseModel):
    """A run that finished early (its time limit, a shutdown): why, and what it left for the next run."""

    crawl_run_id: int
    reason: str


class FailedAlert(BaseModel):
    alert_id: int
    channel: str
    carries: str
    last_error: str | None


class DigestContent(BaseModel):
    """Everything a digest shows; `model_dump(mode="json")` is what the `digests` table stores."""

    day: date
    timezone: str
    match_count: int
    verdicts: list[DigestVerdictSection]
    outlets: list[DigestOutlet]
    articles_count: int
    watch_terms: list[DigestWatchTerm]
    new_outlets: list[str]
    crawl_runs: int
    failing_sources: list[FailingSource]
    crawl_errors: list[CrawlProblem]
    failed_alerts: list[FailedAlert]
    # Digests stored before runs were marked partial have none.
    partial_runs: list[PartialRun] = Field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not (self.failing_sources or self.crawl_errors or self.failed_alerts or self.partial_runs)

    def verdict_counts(self) -> dict[str, int]:
        return {section.verdict: section.count for section in self.verdicts}


def local_today(zone: ZoneInfo, *, now: datetime | None = None) -> date:
    """Today's date in `zone`."""
    return (now or utcnow()).astimezone(zone).date()


def build_digest(session: Session, *, day: date, zone: ZoneInfo) -> DigestContent:
    """The digest of local `day` in `zone`, read from the database (nothing is written)."""
    start, end = day_window(day, zone)
    views = _day_matches(session, start, end)
    articles = _day_articles(session, start, end)
    runs = list(
        session.execute(
            select(CrawlRun)
            .where(col(CrawlRun.started_at) >= start, col(CrawlRun.started_at) < end)
            .order_by(col(CrawlRun.id))
        ).scalars()
    )
    return DigestContent(
        day=day,
        timezone=zone.key,
        match_count=len(views),
        verdicts=_verdict_sections(views),
        outlets=[
            DigestOutlet(outlet=outlet, matches=count)
            for outlet, count in Counter(view.outlet or "unknown outlet" for view in views).most_common()
        ],
        articles_count=len(articles),
        watch_terms=_watch_terms(articles),
        new_outlets=_new_outlets(session, start, end),
        crawl_runs=len(runs),
        failing_sources=_failing_sources(session, end),
        crawl_errors=_crawl_problems(runs),
        partial_runs=[
            PartialRun(crawl_run_id=run.id, reason=str(run.stats.get("partial_reason") or "cut short"))
            for run in runs
            if run.id is not None and run.status == CrawlStatus.finished and (run.stats or {}).get("partial")
        ],
        failed_alerts=[
            FailedAlert(alert_id=row.id, channel=row.channel, carries=row.carries, last_error=row.last_error)
            for row in list_alerts(session, status=AlertStatus.failed)
        ],
    )


def _day_matches(session: Session, start: datetime, end: datetime) -> list[MatchView]:
    ids = session.execute(
        select(col(Match.id))
        .where(col(Match.created_at) >= start, col(Match.created_at) < end)
        .where(col(Match.review_status) != ReviewStatus.dismissed)
        .order_by(col(Match.id))
    ).scalars()
    return load_match_views(session, [match_id for match_id in ids if match_id is not None])


def _digest_match(view: MatchView) -> DigestMatch:
    return DigestMatch(
        match_id=view.match_id,
        verdict=view.verdict,
        score=round(view.score, 1),
        claim=view.claim_text,
        link=text_fragment_link(view.article_url, view.claim_text),
        article_title=view.article_title,
        outlet=view.outlet,
        published=format_day(view.published or view.fetched_at),
        evidence=describe_evidence(view.evidence),
        language=view.language,
    )


def _verdict_sections(views: Sequence[MatchView]) -> list[DigestVerdictSection]:
    sections = []
    for verdict in VERDICT_ORDER:
        of_verdict = [view for view in views if view.verdict == verdict]
        if not of_verdict:
            continue
        groups = [
            DigestBaselineGroup(
                baseline_claim_id=group.baseline.baseline_claim_id,
                baseline_claim=group.baseline.baseline_claim_text,
                baseline_article=group.baseline.baseline_title,
                baseline_published=format_day(group.baseline.baseline_published),
                matches=[_digest_match(view) for view in group.matches],
            )
            for group in group_by_baseline(of_verdict)
        ]
        sections.append(DigestVerdictSection(verdict=verdict, count=len(of_verdict), groups=groups))
    return sections


def _day_articles(session: Session, start: datetime, end: datetime) -> list[Article]:
    statement = (
        select(Article)
        .where(col(Article.fetched_at) >= start, col(Article.fetched_at) < end)
        .where(col(Article.duplicate_of_id).is_(None))
        .order_by(col(Article.id))
    )
    return list(session.execute(statement).scalars())


def _watch_terms(articles: Sequence[Article]) -> list[DigestWatchTerm]:
    by_term: dict[str, list[DigestArticle]] = {}
    for article in articles:
        assert article.id is not None
        entry = DigestArticle(article_id=article.id, title=article.title, url=article.url, outlet=article.outlet)
        for term in article.watch_terms or []:
            by_term.setdefault(str(term), []).append(entry)
    ordered = sorted(by_term.items(), key=lambda item: (-len(item[1]), item[0].casefold()))
    return [DigestWatchTerm(term=term, articles=entries) for term, entries in ordered]


def _new_outlets(session: Session, start: datetime, end: datetime) -> list[str]:
    """Outlets whose first stored article was fetched in the window."""
    first_seen = func.min(col(Article.fetched_at))
    statement = (
        select(col(Article.outlet))
        .where(col(Article.outlet).is_not(None))
        .group_by(col(Article.outlet))
        .having(first_seen >= start, first_seen < end)
        .order_by(col(Article.outlet))
    )
    return [outlet for outlet in session.execute(statement).scalars() if outlet]


def _failing_sources(session: Session, end: datetime) -> list[FailingSource]:
    """Sources failing now whose failing crawl was before the day's end: a digest of an earlier day does
    not list what failed after it (today's outage in yesterday's digest); that day's own crawl errors are
    in `crawl_errors`."""
    return [
        FailingSource(
            url=source.url,
            outlet=source.outlet,
            consecutive_failures=source.consecutive_failures,
            last_error=source.last_error,
        )
        for source in failing_sources(session)
        if source.last_crawled_at is None or _as_utc(source.last_crawled_at) < end
    ]


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


HEALTH_LINES = 5  # the digest names this many failing sources; the Sources page has them all


@dataclass(frozen=True)
class HealthSummary:
    """Crawl health in a few lines: how many sources failed, the reason most share, the first few."""

    failing: int  # distinct sources (or addresses) with a failure
    reason: str | None  # the reason most of them share
    sharing: int  # how many share it
    lines: tuple[str, ...]  # the first HEALTH_LINES failures, one a line
    more: int  # failures not in `lines`


def health_summary(content: DigestContent) -> HealthSummary:
    """The crawl failures of a digest grouped: one count, one shared reason, a few examples."""
    reasons: dict[str, str] = {}
    for source in content.failing_sources:
        reasons.setdefault(source.url, _reason(source.last_error or "no detail"))
    for problem in content.crawl_errors:
        where = problem.source or problem.url or f"crawl run {problem.crawl_run_id}"
        reasons.setdefault(where, _reason(problem.reason))
    counts = Counter(reasons.values())
    reason, sharing = counts.most_common(1)[0] if counts else (None, 0)
    lines = tuple(f"{where}: {why}" for where, why in list(reasons.items())[:HEALTH_LINES])
    return HealthSummary(len(reasons), reason, sharing, lines, max(len(reasons) - HEALTH_LINES, 0))


def _reason(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 160 else line[:159] + "…"


def _crawl_problems(runs: Sequence[CrawlRun]) -> list[CrawlProblem]:
    problems = []
    for run in runs:
        assert run.id is not None
        if run.error:
            problems.append(CrawlProblem(crawl_run_id=run.id, source=None, url=None, reason=run.error))
        for error in run.errors or []:
            problems.append(_crawl_problem(run.id, error))
    return problems


def _crawl_problem(run_id: int, error: dict[str, Any] | Any) -> CrawlProblem:
    if not isinstance(error, dict):
        return CrawlProblem(crawl_run_id=run_id, source=None, url=None, reason=str(error))
    reason = error.get("reason") or error.get("error") or error.get("message") or "unknown error"
    return CrawlProblem(
        crawl_run_id=run_id,
        source=_optional_str(error.get("source")),
        url=_optional_str(error.get("url") or error.get("address")),
        reason=str(reason),
    )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def store_digest(session: Session, content: DigestContent, *, now: datetime | None = None) -> Digest:
    """Insert or replace the stored digest of `content.day` (one row per day); return the row."""
    values = {"day": content.day, "built_at": now or utcnow(), "content": content.model_dump(mode="json")}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(Digest)
        .values(values)
        .on_conflict_do_update(
            index_elements=["day"], set_={"built_at": values["built_at"], "content": values["content"]}
        )
    )
    session.execute(statement)
    row = session.execute(select(Digest).where(col(Digest.day) == content.day)).scalar_one()
    session.refresh(row)
    return row


def stored_digest(session: Session, day: date) -> DigestContent | None:
    """The stored digest of `day`, if one was built."""
    row = session.execute(select(Digest).where(col(Digest.day) == day)).scalar_one_or_none()
    return None if row is None else DigestContent.model_validate(row.content)


@dataclass(frozen=True)
class DigestSending:
    """The digest that was built and stored, and per channel what `send_digest` did with it."""

    digest_id: int
    content: DigestContent
    channels: dict[str, str]


def send_digest(
    session: Session,
    *,
    day: date,
    zone: ZoneInfo,
    channels: Sequence[str],
    resend: bool = False,
    now: datetime | None = None,
) -> DigestSending:
    """Build and store the digest of `day`, and queue it once per channel in the caller's transaction.

    Queuing a day's digest again does nothing for channels that have it already (the outbox row is
    unique per channel and digest); `resend=True` puts their row back to pending so it is sent again.
    The dispatcher delivers the rows, with the stored content as it is when it sends.
    """
    now = now or utcnow()
    content = build_digest(session, day=day, zone=zone)
    row = store_digest(session, content, now=now)
    assert row.id is not None
    outcome = enqueue_digest_alerts(session, digest_id=row.id, channels=channels, now=now, resend=resend)
    return DigestSending(digest_id=row.id, content=content, channels=outcome)
