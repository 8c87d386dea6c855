"""The JSON API under /api/: the same data as the pages; writes need the token when one is set."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from sqlmodel import Session

from alerts.digest import DigestContent, build_digest
from monitor.catalog.queries import (
    baseline_claim_stats,
    digest_days,
    get_listed_match,
    search_articles,
    search_matches,
    source_overview,
)
from monitor.catalog.sources import add_source, remove_source, set_source_enabled
from monitor.catalog.watch_terms import add_watch_term, list_watch_terms, remove_watch_term, update_watch_term
from monitor.errors import InputError
from monitor.http.safety import AddressPolicy
from monitor.storage.models import Source, WatchTerm
from monitor.web.deps import ApiWriter, Context, ItemId, status_for
from monitor.web.filters import FIRST_DAY, LAST_DAY, MAX_ID, MAX_PAGE_SIZE, PAGE_SIZE, parse_day, parse_match_filters
from monitor.web.review import review_match
from monitor.web.routes.sources import source_by_id
from monitor.web.routes.watch import term_by_id
from monitor.web.schemas import (
    ArticleOut,
    ClaimOut,
    DigestDayOut,
    ErrorOut,
    MatchOut,
    Page,
    ReviewIn,
    SourceIn,
    SourceOut,
    SourcePatch,
    WatchTermIn,
    WatchTermOut,
    WatchTermPatch,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad input; `detail` says what is wrong."},
    401: {"model": ErrorOut, "description": "A write without the token (when MONITOR_WEB_TOKEN is set)."},
    404: {"model": ErrorOut, "description": "No such item."},
    409: {"model": ErrorOut, "description": "The item exists already."},
}
router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
Result = TypeVar("Result")


def _write(context: Context, action: Callable[[Session], Result]) -> Result:
    """Run `action` in one transaction, turning the domain's InputErrors into HTTP errors."""
    try:
        with context.session() as session:
            return action(session)
    except InputError as exc:
        raise HTTPException(status_code=status_for(exc), detail=str(exc)) from None


@router.get("/matches", response_model=Page[MatchOut])
def api_matches(
    request: Request,
    context: Context,
    verdict: str | None = Query(None, description="repeated, updated or contradicted"),
    review: str | None = Query(None, description="unreviewed, confirmed or dismissed"),
    found_from: str | None = Query(None, alias="from", description="First local day found (YYYY-MM-DD)"),
    found_to: str | None = Query(None, alias="to", description="Last local day found (YYYY-MM-DD)"),
    outlet: str | None = None,
    term: str | None = Query(None, description="A watch term the article matched"),
    claim: str | None = Query(None, description="A baseline claim id"),
    article: str | None = Query(None, description="An article id"),
    language: str | None = Query(None, description="The article's language: en, ru, uk, be..."),
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> Page[MatchOut]:
    """Matches, newest first, filtered as on the Matches page."""
    params = {
        "verdict": verdict,
        "review": review,
        "from": found_from,
        "to": found_to,
        "outlet": outlet,
        "term": term,
        "claim": claim,
        "article": article,
        "language": language,
    }
    parsed = parse_match_filters({key: value for key, value in params.items() if value is not None})
    if parsed.errors:
        raise HTTPException(status_code=400, detail="; ".join(parsed.errors))
    with context.session() as session:
        items, total = search_matches(session, parsed.filters, zone=context.settings.zone, limit=limit, offset=offset)
    return Page[MatchOut](items=[MatchOut.of(item) for item in items], total=total, limit=limit, offset=offset)


@router.get("/matches/{match_id}", response_model=MatchOut)
def api_match(context: Context, match_id: ItemId) -> MatchOut:
    with context.session() as session:
        item = get_listed_match(session, match_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"no match with id {match_id}")
    return MatchOut.of(item)


def _review(context: Context, match_id: int, body: ReviewIn) -> MatchOut:
    _write(
        context,
        lambda session: review_match(
            session, match_id=match_id, status=body.status, note=body.note, now=context.clock()
        ),
    )
    return api_match(context, match_id)


@router.post("/matches/{match_id}/review", response_model=MatchOut, dependencies=[ApiWriter])
def api_review_match(context: Context, match_id: ItemId, body: ReviewIn) -> MatchOut:
    """Confirm or dismiss a match (a dismissed match leaves the digest and is not alerted again)."""
    return _review(context, match_id, body)


@router.patch("/matches/{match_id}", response_model=MatchOut, dependencies=[ApiWriter])
def api_patch_match(context: Context, match_id: ItemId, body: ReviewIn) -> MatchOut:
    """The same as POST /api/matches/{id}/review."""
    return _review(context, match_id, body)


@router.get("/articles", response_model=Page[ArticleOut])
def api_articles(
    context: Context,
    since: str | None = Query(None, description="Published (or, undated, fetched) on or after (YYYY-MM-DD)"),
    outlet: str | None = None,
    term: str | None = Query(None, description="A watch term the article matched"),
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> Page[ArticleOut]:
    """Stored articles, newest first."""
    try:
        since_day = parse_day(since, name="since") if since else None
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    moment = datetime(since_day.year, since_day.month, since_day.day, tzinfo=UTC) if since_day else None
    with context.session() as session:
        rows, total = search_articles(session, since=moment, outlet=outlet, watch_term=term, limit=limit, offset=offset)
    return Page[ArticleOut](items=[ArticleOut.of(row) for row in rows], total=total, limit=limit, offset=offset)


@router.get("/claims", response_model=list[ClaimOut])
def api_claims(context: Context) -> list[ClaimOut]:
    """Every baseline claim with how often coverage repeated, updated and contradicted it."""
    with context.session() as session:
        return [ClaimOut.of(entry) for entry in baseline_claim_stats(session)]


@router.get("/digests", response_model=list[DigestDayOut])
def api_digests(context: Context) -> list[DigestDayOut]:
    """The local days that have a digest (matches, new articles, or a stored digest), newest first."""
    with context.session() as session:
        days = digest_days(session, zone=context.settings.zone, now=context.clock())
    return [DigestDayOut.of(entry) for entry in days]


@router.get("/digests/{day}", response_model=DigestContent)
def api_digest(
    context: Context, day: Annotated[date, Path(description=f"YYYY-MM-DD, from {FIRST_DAY} to {LAST_DAY}")]
) -> DigestContent:
    """One day's digest, built now (what `monitor digest --format json` prints); 404 outside the day range."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise HTTPException(status_code=404, detail=f"no digest for {day}: days run from {FIRST_DAY} to {LAST_DAY}")
    with context.session() as session:
        return build_digest(session, day=day, zone=context.settings.zone)


@router.get("/watch-terms", response_model=list[WatchTermOut])
def api_watch_terms(context: Context) -> list[WatchTermOut]:
    with context.session() as session:
        return [WatchTermOut.of(row) for row in list_watch_terms(session)]


@router.post("/watch-terms", response_model=WatchTermOut, status_code=201, dependencies=[ApiWriter])
def api_add_watch_term(context: Context, body: WatchTermIn) -> WatchTermOut:
    """Add a term with its aliases (any script); 409 when it exists already."""
    return _write(
        context, lambda session: WatchTermOut.of(add_watch_term(session, term=body.term, aliases=body.aliases))
    )


def _patch_term(session: Session, term_id: int, body: WatchTermPatch) -> WatchTerm:
    term = term_by_id(session, term_id).term
    return update_watch_term(session, term=term, aliases=body.aliases, enabled=body.enabled)


@router.patch("/watch-terms/{term_id}", response_model=WatchTermOut, dependencies=[ApiWriter])
def api_patch_watch_term(context: Context, term_id: ItemId, body: WatchTermPatch) -> WatchTermOut:
    """Replace the aliases and/or pause (`enabled: false`) or resume a term."""
    return _write(context, lambda session: WatchTermOut.of(_patch_term(session, term_id, body)))


@router.delete("/watch-terms/{term_id}", status_code=204, dependencies=[ApiWriter])
def api_remove_watch_term(context: Context, term_id: ItemId) -> Response:
    _write(context, lambda session: remove_watch_term(session, term=term_by_id(session, term_id).term))
    return Response(status_code=204)


@router.get("/sources", response_model=list[SourceOut])
def api_sources(context: Context) -> list[SourceOut]:
    with context.session() as session:
        return [SourceOut.of(entry.source, entry.articles) for entry in source_overview(session)]


def _add_source(session: Session, body: SourceIn, policy: AddressPolicy) -> Source:
    return add_source(
        session,
        url=body.url,
        kind=body.kind,
        every=body.every,
        outlet=body.outlet,
        language=body.language,
        policy=policy,
    )


@router.post("/sources", response_model=SourceOut, status_code=201, dependencies=[ApiWriter])
def api_add_source(context: Context, body: SourceIn) -> SourceOut:
    """Add a source to crawl; 409 when it exists already."""
    return _write(context, lambda session: SourceOut.of(_add_source(session, body, context.settings.address_policy), 0))


@router.patch("/sources/{source_id}", response_model=SourceOut, dependencies=[ApiWriter])
def api_patch_source(context: Context, source_id: ItemId, body: SourcePatch) -> SourceOut:
    """Pause (`enabled: false`) or resume a source."""

    def change(session: Session) -> Source:
        return set_source_enabled(session, url=source_by_id(session, source_id).url, enabled=body.enabled)

    row = _write(context, change)
    articles = next((entry.articles for entry in _overview(context) if entry.source.id == source_id), 0)
    return SourceOut.of(row, articles)


def _overview(context: Context) -> list[Any]:
    with context.session() as session:
        return list(source_overview(session))


@router.delete("/sources/{source_id}", status_code=204, dependencies=[ApiWriter])
def api_remove_source(context: Context, source_id: ItemId) -> Response:
    _write(context, lambda session: remove_source(session, url=source_by_id(session, source_id).url))
    return Response(status_code=204)
