"""Every read query over the store, in one place: the CLI's listings, the web's pages and JSON API, what
alert messages and the digest say about matches, and the crawler's seen-URL check.

The shapes they give:
- `ListedMatch`: a match with its claim, article, baseline claim and baseline article, one row of
  `match_rows()`, the one join of those five tables;
- `MatchView`: the same as flat plain data, what an alert message or the digest says about a match;
- `match_json` (`MatchSummary`) and `article_json`: DESIGN.md's JSON of a match and of an article
  (`monitor matches list --json`, `monitor articles list --json`, the first fields of the API's).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Self, TextIO
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Select, and_, cast, exists, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from monitor.errors import InputError
from monitor.matching.evidence import Evidence
from monitor.storage.models import (
    Alert,
    Article,
    BaselineArticle,
    BaselineClaim,
    Claim,
    CrawlRun,
    Digest,
    Match,
    ReviewStatus,
    Source,
    Verdict,
    WatchTerm,
)

# Strongest news first: a contradiction matters more than a repetition.
VERDICT_ORDER = ("contradicted", "updated", "repeated")
VERDICTS = tuple(verdict.value for verdict in Verdict)
REVIEW_STATUSES = tuple(status.value for status in ReviewStatus)
# SQL `IN` lists are kept short enough for every backend's parameter limit.
_IN_BATCH = 500


# -- arguments and days ----------------------------------------------------------------------------


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


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where local `day` starts and the next local day starts (DST-correct)."""
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def as_local(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` in `zone`; naive datetimes from the database are UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone)


# -- matches ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedMatch:
    """A match with everything a row on the page shows."""

    match: Match
    claim: Claim
    article: Article
    baseline: BaselineClaim
    baseline_article: BaselineArticle

    @property
    def baseline_published(self) -> date | None:
        return self.baseline.published or self.baseline_article.published


def match_rows() -> Select[Match, Claim, Article, BaselineClaim, BaselineArticle]:
    """Every match joined to its claim, article, baseline claim and baseline article: the one join."""
    return (
        select(Match, Claim, Article, BaselineClaim, BaselineArticle)
        .join(Claim, col(Claim.id) == col(Match.claim_id))
        .join(Article, col(Article.id) == col(Claim.article_id))
        .join(BaselineClaim, col(BaselineClaim.id) == col(Match.baseline_claim_id))
        .join(BaselineArticle, col(BaselineArticle.id) == col(BaselineClaim.article_id))
    )


def _listed(rows: Sequence[tuple[Match, Claim, Article, BaselineClaim, BaselineArticle]]) -> list[ListedMatch]:
    return [ListedMatch(*row) for row in rows]


class MatchSummary(BaseModel):
    """A stored match as DESIGN.md gives it in JSON: `monitor matches list --json`, and the first fields of
    the API's `MatchOut`. The score is rounded to a tenth, as `monitor check --json` rounds it."""

    id: int
    verdict: str
    score: float
    claim: str
    article_url: str
    baseline_claim_id: int
    baseline_claim: str
    evidence: dict[str, Any]

    @classmethod
    def of(cls, item: ListedMatch) -> Self:
        match, claim, article = item.match, item.claim, item.article
        assert match.id is not None and item.baseline.id is not None
        return cls(
            id=match.id,
            verdict=match.verdict,
            score=round(float(match.score), 1),
            claim=claim.text,
            article_url=article.url,
            baseline_claim_id=item.baseline.id,
            baseline_claim=item.baseline.text,
            evidence=dict(match.evidence or {}),
        )


MATCH_CSV_COLUMNS = (
    "id",
    "verdict",
    "score",
    "confidence",
    "review_status",
    "review_note",
    "found_at",
    "claim",
    "article_url",
    "article_title",
    "outlet",
    "published",
    "language",
    "baseline_claim_id",
    "baseline_claim",
    "baseline_article",
    "evidence",
)


def write_matches_csv(items: Iterable[ListedMatch], stream: TextIO) -> None:
    """The matches as CSV (RFC 4180, a header row of `MATCH_CSV_COLUMNS`): what `monitor matches list
    --format csv` prints and the Matches page's download gives. `evidence` is the evidence in words."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(MATCH_CSV_COLUMNS)
    for item in items:
        match, article = item.match, item.article
        evidence = Evidence.from_json(match.evidence)
        writer.writerow(
            [
                match.id,
                match.verdict,
                f"{float(match.score):.1f}",
                evidence.confidence or "",
                match.review_status,
                match.review_note or "",
                match.created_at.isoformat(),
                _csv_text(item.claim.text),
                article.url,
                _csv_text(article.title or ""),
                _csv_text(article.outlet or ""),
                article.published.isoformat() if article.published else "",
                article.language or "",
                item.baseline.id,
                _csv_text(item.baseline.text),
                _csv_text(item.baseline_article.title),
                _csv_text("; ".join(evidence.lines())),
            ]
        )


def _csv_text(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: crawled text must stay text there.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def match_json(item: ListedMatch) -> dict[str, Any]:
    """DESIGN.md's JSON object of a match (`MatchSummary`), as a dict in the documented key order."""
    return MatchSummary.of(item).model_dump()


def list_matches(
    session: Session,
    *,
    verdict: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
    language: str | None = None,
) -> list[ListedMatch]:
    """Stored matches with their claim, article and baseline claim, oldest first; `language`: only those
    of articles in that language (en, ru, uk, be...)."""
    if verdict is not None and verdict not in {v.value for v in Verdict}:
        choices = ", ".join(v.value for v in Verdict)
        raise InputError(f"verdict {verdict!r} is not one of {choices}")
    query = match_rows().order_by(col(Match.id))
    if verdict is not None:
        query = query.where(col(Match.verdict) == verdict)
    if since is not None:
        query = query.where(col(Match.created_at) >= _as_utc_bound(since))
    if language is not None:
        query = query.where(col(Article.language) == language)
    if limit is not None:
        query = query.limit(limit)
    return _listed(list(session.execute(query).all()))


@dataclass(frozen=True)
class MatchFilters:
    """What /matches and /api/matches filter on; None means "any". Days are local days, both inclusive."""

    verdict: str | None = None
    review_status: str | None = None
    found_from: date | None = None
    found_to: date | None = None
    outlet: str | None = None
    watch_term: str | None = None
    baseline_claim_id: int | None = None
    article_id: int | None = None
    language: str | None = None  # the article's language: en, ru, uk, be...


def article_languages(session: Session) -> list[str]:
    """The languages of stored articles, for filters."""
    rows = session.execute(select(col(Article.language)).where(col(Article.language).is_not(None)).distinct())
    return sorted(str(language) for (language,) in rows if language)


def has_watch_term(session: Session, term: str) -> ColumnElement[bool]:
    """SQL: the article's `watch_terms` JSON list holds `term` (JSON containment differs per backend)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(col(Article.watch_terms), JSONB).contains(cast([term], JSONB))
    elements = func.json_each(col(Article.watch_terms)).table_valued("value")
    return exists(select(literal_column("1")).select_from(elements).where(elements.c.value == term))


def _match_conditions(session: Session, filters: MatchFilters, zone: ZoneInfo) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.verdict:
        conditions.append(col(Match.verdict) == filters.verdict)
    if filters.review_status:
        conditions.append(col(Match.review_status) == filters.review_status)
    if filters.found_from:
        conditions.append(col(Match.created_at) >= day_window(filters.found_from, zone)[0])
    if filters.found_to:
        conditions.append(col(Match.created_at) < day_window(filters.found_to, zone)[1])
    if filters.outlet:
        conditions.append(col(Article.outlet) == filters.outlet)
    if filters.watch_term:
        conditions.append(has_watch_term(session, filters.watch_term))
    if filters.baseline_claim_id is not None:
        conditions.append(col(Match.baseline_claim_id) == filters.baseline_claim_id)
    if filters.article_id is not None:
        conditions.append(col(Article.id) == filters.article_id)
    if filters.language:
        conditions.append(col(Article.language) == filters.language)
    return conditions


def search_matches(
    session: Session, filters: MatchFilters, *, zone: ZoneInfo, limit: int = 50, offset: int = 0
) -> tuple[list[ListedMatch], int]:
    """Matches passing `filters`, newest first, one page of them, with the total that pass."""
    conditions = _match_conditions(session, filters, zone)
    query = match_rows().where(and_(*conditions)) if conditions else match_rows()
    total_query = select(func.count()).select_from(query.with_only_columns(col(Match.id)).subquery())
    total = int(session.execute(total_query).scalar_one())
    page = query.order_by(col(Match.created_at).desc(), col(Match.id).desc()).limit(limit).offset(offset)
    return _listed(list(session.execute(page).all())), total


def get_listed_match(session: Session, match_id: int) -> ListedMatch | None:
    row = session.execute(match_rows().where(col(Match.id) == match_id)).first()
    return ListedMatch(*row) if row else None


def listed_by_ids(session: Session, match_ids: Sequence[int]) -> list[ListedMatch]:
    """The matches of `match_ids`, in no particular order; ids that no longer exist are left out."""
    if not match_ids:
        return []
    return _listed(list(session.execute(match_rows().where(col(Match.id).in_(list(match_ids)))).all()))


def alert_feed_matches(session: Session, *, limit: int = 50) -> list[ListedMatch]:
    """The newest matches that alert (dismissed ones left out), for the feed."""
    query = (
        match_rows()
        .where(col(Match.review_status) != ReviewStatus.dismissed)
        .order_by(col(Match.created_at).desc(), col(Match.id).desc())
        .limit(limit)
    )
    return _listed(list(session.execute(query).all()))


def verdict_counts(session: Session, *, since: datetime | None = None) -> dict[str, int]:
    """Matches per verdict (dismissed ones left out), every verdict present, strongest news first."""
    query = (
        select(col(Match.verdict), func.count())
        .where(col(Match.review_status) != ReviewStatus.dismissed)
        .group_by(col(Match.verdict))
    )
    if since is not None:
        query = query.where(col(Match.created_at) >= since)
    return _all_verdicts({verdict: int(count) for verdict, count in session.execute(query)})


def unreviewed_count(session: Session) -> int:
    query = select(func.count()).select_from(Match).where(col(Match.review_status) == ReviewStatus.unreviewed)
    return int(session.execute(query).scalar_one())


def coverage_day(item: ListedMatch, zone: ZoneInfo) -> date:
    """When the coverage appeared: the article's publication date, else when the match was found."""
    moment = item.article.published or item.match.created_at
    return as_local(moment, zone).date()


@dataclass(frozen=True)
class MatchView:
    """One match with the new sentence, its article, and the baseline claim with its article."""

    match_id: int
    verdict: str
    score: float
    evidence: Evidence
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
    language: str | None = None  # the new sentence's article's language (en, ru, uk, be...)

    @classmethod
    def of(cls, item: ListedMatch) -> MatchView:
        match, claim, article = item.match, item.claim, item.article
        assert match.id is not None and item.baseline.id is not None
        return cls(
            match_id=match.id,
            verdict=match.verdict,
            score=float(match.score),
            evidence=Evidence.from_json(match.evidence),
            claim_text=claim.text,
            article_url=article.url,
            article_title=article.title,
            outlet=article.outlet,
            published=article.published,
            fetched_at=article.fetched_at,
            baseline_claim_id=item.baseline.id,
            baseline_claim_text=item.baseline.text,
            baseline_title=item.baseline_article.title,
            baseline_outlet=item.baseline_article.outlet,
            # A claim imported from a fact-check list carries its own date; else the article's.
            baseline_published=item.baseline_published,
            baseline_url=item.baseline_article.url,
            language=article.language,
        )


def load_match_views(session: Session, match_ids: Sequence[int]) -> list[MatchView]:
    """The views of `match_ids` in the order given; ids that no longer exist are left out."""
    by_id = {item.match.id: MatchView.of(item) for item in listed_by_ids(session, match_ids)}
    return [by_id[match_id] for match_id in match_ids if match_id in by_id]


# -- articles --------------------------------------------------------------------------------------


def stored_urls(session: Session, urls: Sequence[str]) -> set[str]:
    """The given URLs that are stored already, as an article's address or as its canonical URL."""
    found: set[str] = set()
    for start in range(0, len(urls), _IN_BATCH):
        batch = list(urls[start : start + _IN_BATCH])
        rows = session.execute(
            select(col(Article.url), col(Article.canonical_url)).where(
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
    return list(session.execute(query).scalars())


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


def search_articles(
    session: Session,
    *,
    since: datetime | None = None,
    outlet: str | None = None,
    watch_term: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Article], int]:
    """Stored articles, newest fetched first, one page of them, with the total."""
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(func.coalesce(col(Article.published), col(Article.fetched_at)) >= since)
    if outlet:
        conditions.append(col(Article.outlet) == outlet)
    if watch_term:
        conditions.append(has_watch_term(session, watch_term))
    where = and_(*conditions) if conditions else and_(True)
    total = int(session.execute(select(func.count()).select_from(Article).where(where)).scalar_one())
    query = select(Article).where(where).order_by(col(Article.fetched_at).desc(), col(Article.id).desc())
    return list(session.execute(query.limit(limit).offset(offset)).scalars()), total


def article_match_counts(session: Session, article_ids: Sequence[int]) -> dict[int, int]:
    """How many matches each of these articles' claims made (articles without any are left out)."""
    if not article_ids:
        return {}
    query = (
        select(col(Claim.article_id), func.count())
        .join(Match, col(Match.claim_id) == col(Claim.id))
        .where(col(Claim.article_id).in_(article_ids))
        .group_by(col(Claim.article_id))
    )
    return {int(article_id): int(count) for article_id, count in session.execute(query).all()}


def outlet_names(session: Session) -> list[str]:
    query = select(col(Article.outlet)).where(col(Article.outlet).is_not(None)).distinct()
    return sorted((name for name in session.execute(query).scalars() if name), key=str.casefold)


def watch_term_names(session: Session) -> list[str]:
    return sorted(session.execute(select(col(WatchTerm.term))).scalars(), key=str.casefold)


@dataclass(frozen=True)
class ArticleDetail:
    article: Article
    source: Source | None
    duplicate_of: Article | None
    copies: list[Article]
    claims: list[tuple[Claim, list[ListedMatch]]]


def article_detail(session: Session, article_id: int) -> ArticleDetail | None:
    article = session.get(Article, article_id)
    if article is None:
        return None
    claims_query = select(Claim).where(col(Claim.article_id) == article_id).order_by(col(Claim.position))
    claims = list(session.execute(claims_query).scalars())
    by_claim: dict[int, list[ListedMatch]] = {}
    for item in _listed(list(session.execute(match_rows().where(col(Article.id) == article_id)).all())):
        by_claim.setdefault(item.claim.id or 0, []).append(item)
    copies = session.execute(select(Article).where(col(Article.duplicate_of_id) == article_id)).scalars()
    return ArticleDetail(
        article=article,
        source=session.get(Source, article.source_id) if article.source_id else None,
        duplicate_of=session.get(Article, article.duplicate_of_id) if article.duplicate_of_id else None,
        copies=list(copies),
        claims=[(claim, by_claim.get(claim.id or 0, [])) for claim in claims],
    )


# -- baseline claims -------------------------------------------------------------------------------


@dataclass
class BaselineClaimStats:
    claim: BaselineClaim
    article: BaselineArticle
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def published(self) -> date | None:
        return self.claim.published or self.article.published

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _verdict_counts_by_claim(session: Session, claim_ids: Sequence[int] | None = None) -> dict[int, dict[str, int]]:
    query = (
        select(col(Match.baseline_claim_id), col(Match.verdict), func.count())
        .where(col(Match.review_status) != ReviewStatus.dismissed)
        .group_by(col(Match.baseline_claim_id), col(Match.verdict))
    )
    if claim_ids is not None:
        query = query.where(col(Match.baseline_claim_id).in_(list(claim_ids)))
    counts: dict[int, dict[str, int]] = {}
    for claim_id, verdict, count in session.execute(query):
        counts.setdefault(claim_id, {})[verdict] = int(count)
    return counts


def baseline_claim_rows(*, include_removed: bool = False) -> Select[BaselineClaim, BaselineArticle]:
    """Every baseline claim joined to its article, in article and then text order; without
    `include_removed`, only those of articles not removed (what is matched and listed)."""
    query = (
        select(BaselineClaim, BaselineArticle)
        .join(BaselineArticle, col(BaselineArticle.id) == col(BaselineClaim.article_id))
        .order_by(col(BaselineClaim.article_id), col(BaselineClaim.position))
    )
    return query if include_removed else query.where(col(BaselineArticle.removed_at).is_(None))


def baseline_claims(session: Session) -> list[tuple[BaselineClaim, BaselineArticle]]:
    """Every baseline claim with its article (`monitor baseline claims`, and what the matcher indexes)."""
    return [(claim, article) for claim, article in session.execute(baseline_claim_rows())]


def matches_of_baseline_article(session: Session, article_id: int) -> int:
    """How many matches the claims of a baseline article have."""
    query = (
        select(func.count())
        .select_from(Match)
        .join(BaselineClaim, col(BaselineClaim.id) == col(Match.baseline_claim_id))
        .where(col(BaselineClaim.article_id) == article_id)
    )
    return int(session.execute(query).scalar_one())


def list_baseline_articles(session: Session) -> list[tuple[BaselineArticle, int]]:
    """Every baseline article with its claim count, oldest first."""
    per_article = select(col(BaselineClaim.article_id), func.count()).group_by(col(BaselineClaim.article_id))
    counts: dict[int | None, int] = {article_id: int(count) for article_id, count in session.execute(per_article)}
    articles = session.execute(
        select(BaselineArticle).where(col(BaselineArticle.removed_at).is_(None)).order_by(col(BaselineArticle.id))
    ).scalars()
    return [(article, counts.get(article.id, 0)) for article in articles]


def baseline_claim_stats(session: Session) -> list[BaselineClaimStats]:
    """Every baseline claim with its article and how often it was repeated, updated and contradicted."""
    counts = _verdict_counts_by_claim(session)
    return [
        BaselineClaimStats(claim, article, _all_verdicts(counts.get(claim.id or 0, {})))
        for claim, article in baseline_claims(session)
    ]


def _all_verdicts(counts: dict[str, int]) -> dict[str, int]:
    """Every verdict's count, strongest news first (as everywhere on the pages)."""
    return {verdict: counts.get(verdict, 0) for verdict in VERDICT_ORDER}


def baseline_claim_stats_of(session: Session, claim_id: int) -> BaselineClaimStats | None:
    """One baseline claim with its article and counts, or None (a removed article's claim too: matches kept
    with it still link to it)."""
    row = session.execute(baseline_claim_rows(include_removed=True).where(col(BaselineClaim.id) == claim_id)).first()
    if row is None:
        return None
    claim, article = row
    counts = _verdict_counts_by_claim(session, [claim_id]).get(claim_id, {})
    return BaselineClaimStats(claim, article, _all_verdicts(counts))


TIMELINE_GROUPS_PER_PAGE = 40
TIMELINE_WEEKLY_AFTER_DAYS = 92  # coverage spread over more than about three months is grouped by week


@dataclass(frozen=True)
class TimelineGroup:
    """The matches one outlet made on one day (or week) to one baseline claim: how many, by verdict, and
    the first and the latest of them in full."""

    start: date  # the day, or the Monday of the week
    end: date  # the same day, or the Sunday
    outlet: str | None
    count: int
    verdicts: dict[str, int]
    first: ListedMatch
    latest: ListedMatch | None  # None when the group has one match


@dataclass(frozen=True)
class ClaimTimeline:
    """One baseline claim's coverage grouped by day or week, then outlet, oldest first, one page of it;
    `points` (coverage day, verdict) of every match not dismissed, for the chart."""

    unit: str  # "day" or "week"
    groups: list[TimelineGroup]
    total_groups: int
    total_matches: int
    page: int
    pages: int
    points: list[tuple[date, str]]


def claim_timeline(
    session: Session, claim_id: int, *, zone: ZoneInfo, page: int = 1, per_page: int = TIMELINE_GROUPS_PER_PAGE
) -> ClaimTimeline:
    """The timeline of `claim_id` as the claim page shows it. Reads a few columns of every match (the
    grouping and the chart need them all) and the full rows of only the matches the page shows, so a
    claim with thousands of matches stays one small page. Coverage is dated by publication (else by when
    the match was found), in `zone`."""
    moment = func.coalesce(col(Article.published), col(Match.created_at))
    rows = session.execute(
        select(col(Match.id), moment, col(Article.outlet), col(Match.verdict), col(Match.review_status))
        .join(Claim, col(Claim.id) == col(Match.claim_id))
        .join(Article, col(Article.id) == col(Claim.article_id))
        .where(col(Match.baseline_claim_id) == claim_id)
        .order_by(moment, col(Match.id))
    ).all()
    dated = [
        (match_id, _local_day(when, zone), outlet, verdict, review) for match_id, when, outlet, verdict, review in rows
    ]
    points = [(day, verdict) for _id, day, _outlet, verdict, review in dated if review != ReviewStatus.dismissed]
    span = (dated[-1][1] - dated[0][1]).days if dated else 0
    unit = "week" if span > TIMELINE_WEEKLY_AFTER_DAYS else "day"
    members: dict[tuple[date, str | None], list[tuple[int, str]]] = {}
    for match_id, day, outlet, verdict, _review in dated:
        start = day - timedelta(days=day.weekday()) if unit == "week" else day
        members.setdefault((start, outlet), []).append((match_id, verdict))
    keys = list(members)  # oldest first: the rows came in coverage order
    pages = max((len(keys) + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    shown = keys[(page - 1) * per_page : page * per_page]
    wanted = {ids[0][0] for ids in (members[key] for key in shown)} | {
        members[key][-1][0] for key in shown if len(members[key]) > 1
    }
    full = {item.match.id: item for item in listed_by_ids(session, sorted(wanted))}
    groups = []
    for key in shown:
        items = members[key]
        counts = Counter(verdict for _id, verdict in items)
        groups.append(
            TimelineGroup(
                start=key[0],
                end=key[0] + timedelta(days=6) if unit == "week" else key[0],
                outlet=key[1],
                count=len(items),
                verdicts={verdict: counts[verdict] for verdict in VERDICT_ORDER if counts[verdict]},
                first=full[items[0][0]],
                latest=full[items[-1][0]] if len(items) > 1 else None,
            )
        )
    return ClaimTimeline(unit, groups, len(keys), len(dated), page, pages, points)


def _local_day(moment: datetime | str, zone: ZoneInfo) -> date:
    # SQLite gives coalesce() of two datetime columns back as text.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return as_local(moment, zone).date()


# -- sources and crawl health ----------------------------------------------------------------------


@dataclass(frozen=True)
class CrawlHealth:
    last_run: CrawlRun | None
    runs_last_day: int
    sources_enabled: int
    sources_total: int
    failing: list[Source]


def failing_sources(session: Session) -> list[Source]:
    """Enabled sources whose last crawl failed, those failing longest first."""
    query = (
        select(Source)
        .where(col(Source.enabled).is_(True), col(Source.consecutive_failures) > 0)
        .order_by(col(Source.consecutive_failures).desc(), col(Source.url))
    )
    return list(session.execute(query).scalars())


def crawl_health(session: Session, *, now: datetime) -> CrawlHealth:
    last_run = session.execute(select(CrawlRun).order_by(col(CrawlRun.started_at).desc()).limit(1)).scalar()
    runs = select(func.count()).select_from(CrawlRun).where(col(CrawlRun.started_at) >= now - timedelta(days=1))
    enabled = select(func.count()).select_from(Source).where(col(Source.enabled).is_(True))
    return CrawlHealth(
        last_run=last_run,
        runs_last_day=int(session.execute(runs).scalar_one()),
        sources_enabled=int(session.execute(enabled).scalar_one()),
        sources_total=int(session.execute(select(func.count()).select_from(Source)).scalar_one()),
        failing=failing_sources(session),
    )


@dataclass(frozen=True)
class SourceOverview:
    source: Source
    articles: int
    last_article_at: datetime | None


def source_overview(session: Session) -> list[SourceOverview]:
    """Every source with how many articles it brought and when the newest was fetched; failing ones first."""
    counts = {
        source_id: (int(count), newest)
        for source_id, count, newest in session.execute(
            select(col(Article.source_id), func.count(), func.max(col(Article.fetched_at)))
            .where(col(Article.source_id).is_not(None))
            .group_by(col(Article.source_id))
        )
    }
    # Failing sources first: they are what a person opening the page needs to act on.
    query = select(Source).order_by(col(Source.consecutive_failures).desc(), col(Source.enabled).desc(), col(Source.id))
    return [SourceOverview(source, *counts.get(source.id, (0, None))) for source in session.execute(query).scalars()]


# -- alerts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertListing:
    """An alert row with what it carries, for `monitor alerts list` and the digest."""

    id: int
    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    carries: str


def list_alerts(session: Session, *, status: str | None = None, limit: int = 500) -> list[AlertListing]:
    """Alerts, newest first, optionally of one status."""
    statement = (
        select(Alert, col(Match.verdict), col(Digest.day))
        .outerjoin(Match, col(Match.id) == col(Alert.match_id))
        .outerjoin(Digest, col(Digest.id) == col(Alert.digest_id))
        .order_by(col(Alert.id).desc())
        .limit(limit)
    )
    if status is not None:
        statement = statement.where(col(Alert.status) == status)
    listings = []
    for alert, verdict, day in session.execute(statement):
        assert alert.id is not None
        carries = f"digest {day.isoformat()}" if day is not None else f"match {alert.match_id} ({verdict})"
        listings.append(
            AlertListing(
                id=alert.id,
                channel=alert.channel,
                status=alert.status,
                attempts=alert.attempts,
                next_attempt_at=alert.next_attempt_at,
                sent_at=alert.sent_at,
                last_error=alert.last_error,
                carries=carries,
            )
        )
    return listings


@dataclass(frozen=True)
class AlertRow:
    """One match (or digest) that was alerted, with its outbox rows: one per channel, newest first."""

    alerts: tuple[Alert, ...]
    match: ListedMatch | None
    digest_day: date | None

    @property
    def alert(self) -> Alert:
        """The newest of the rows (when it was queued)."""
        return self.alerts[0]


def latest_alerts(session: Session, *, limit: int = 10) -> list[AlertRow]:
    """The `limit` matches or digests alerted last, newest first, each once with the rows of its channels."""
    newest = func.max(col(Alert.id)).label("newest")
    carried = (
        select(col(Alert.match_id), col(Alert.digest_id), newest)
        .group_by(col(Alert.match_id), col(Alert.digest_id))
        .order_by(newest.desc())
        .limit(limit)
    )
    keys = [(match_id, digest_id) for match_id, digest_id, _ in session.execute(carried).all()]
    match_ids = [match_id for match_id, _ in keys if match_id is not None]
    digest_ids = [digest_id for _, digest_id in keys if digest_id is not None]
    rows = list(
        session.execute(
            select(Alert, col(Digest.day))
            .outerjoin(Digest, col(Digest.id) == col(Alert.digest_id))
            .where(or_(col(Alert.match_id).in_(match_ids), col(Alert.digest_id).in_(digest_ids)))
            .order_by(col(Alert.id).desc())
        ).all()
    )
    grouped: dict[tuple[int | None, int | None], list[tuple[Alert, date | None]]] = {}
    for alert, day in rows:
        grouped.setdefault((alert.match_id, alert.digest_id), []).append((alert, day))
    matches = {item.match.id: item for item in listed_by_ids(session, match_ids)}
    return [
        AlertRow(tuple(alert for alert, _ in grouped[key]), matches.get(key[0]), grouped[key][0][1])
        for key in keys
        if key in grouped
    ]


# -- digests ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestDay:
    day: date
    matches: int
    articles: int
    built_at: datetime | None


def digest_days(session: Session, *, zone: ZoneInfo, now: datetime, days_back: int = 400) -> list[DigestDay]:
    """Local days that have a stored digest, matches or new articles, newest first."""
    horizon = now - timedelta(days=days_back)
    match_times = session.execute(
        select(col(Match.created_at)).where(
            col(Match.created_at) >= horizon, col(Match.review_status) != ReviewStatus.dismissed
        )
    ).scalars()
    article_times = session.execute(
        select(col(Article.fetched_at)).where(
            col(Article.fetched_at) >= horizon, col(Article.duplicate_of_id).is_(None)
        )
    ).scalars()
    matches = Counter(as_local(moment, zone).date() for moment in match_times)
    articles = Counter(as_local(moment, zone).date() for moment in article_times)
    built = dict(session.execute(select(col(Digest.day), col(Digest.built_at))).all())
    days = set(matches) | set(articles) | set(built)
    return [DigestDay(day, matches[day], articles[day], built.get(day)) for day in sorted(days, reverse=True)]


def neighbour_days(days: Sequence[DigestDay], day: date) -> tuple[date | None, date | None]:
    """The nearest listed days before and after `day`."""
    earlier = [entry.day for entry in days if entry.day < day]
    later = [entry.day for entry in days if entry.day > day]
    return (max(earlier) if earlier else None, min(later) if later else None)
