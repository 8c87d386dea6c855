"""Storage invariants as database constraints, on SQLite and PostgreSQL alike (the `engine` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from monitor.storage.engine import current_revision, head_revision, migrate, session_scope
from monitor.storage.models import (
    Alert,
    Article,
    BaselineArticle,
    BaselineClaim,
    Claim,
    Digest,
    Match,
    Source,
    WatchTerm,
)


def _article(session: Session, url: str = "https://example.org/a") -> Article:
    article = Article(canonical_url=url, url=url, text="Body.", content_hash="h" * 64)
    session.add(article)
    session.flush()
    return article


def _match(session: Session) -> Match:
    baseline = BaselineArticle(key="k", title="T", content_hash="b" * 64)
    session.add(baseline)
    session.flush()
    assert baseline.id is not None
    baseline_claim = BaselineClaim(article_id=baseline.id, position=0, text="Minsk has 12,000 troops.")
    article = _article(session)
    assert article.id is not None
    claim = Claim(article_id=article.id, position=0, text="Minsk has 9,000 troops.")
    session.add_all([baseline_claim, claim])
    session.flush()
    assert claim.id is not None and baseline_claim.id is not None
    match = Match(claim_id=claim.id, baseline_claim_id=baseline_claim.id, verdict="updated", score=91.0)
    session.add(match)
    session.flush()
    return match


def test_migrations_create_every_table_and_run_once(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {
        "sources",
        "watch_terms",
        "baseline_articles",
        "baseline_claims",
        "articles",
        "claims",
        "matches",
        "alerts",
        "digests",
        "crawl_runs",
    } <= tables
    assert current_revision(engine) == head_revision()
    assert migrate(engine) is False


def test_article_is_stored_once_per_canonical_url(engine: Engine) -> None:
    with session_scope(engine) as session:
        _article(session)
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        _article(session)
    with Session(engine) as session:
        assert len(session.exec(select(Article)).all()) == 1


def test_claim_is_matched_to_a_baseline_claim_at_most_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        match = _match(session)
        pair = (match.claim_id, match.baseline_claim_id)
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Match(claim_id=pair[0], baseline_claim_id=pair[1], verdict="repeated", score=80))


def test_alert_is_unique_per_channel_and_match(engine: Engine) -> None:
    with session_scope(engine) as session:
        match_id = _match(session).id
        session.add(Alert(channel="email", match_id=match_id))
        session.add(Alert(channel="slack", match_id=match_id))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Alert(channel="email", match_id=match_id))
    with Session(engine) as session:
        assert len(session.exec(select(Alert)).all()) == 2


def test_alert_is_unique_per_channel_and_digest(engine: Engine) -> None:
    from datetime import date

    with session_scope(engine) as session:
        digest = Digest(day=date(2026, 11, 21))
        session.add(digest)
        session.flush()
        session.add(Alert(channel="email", digest_id=digest.id))
        digest_id = digest.id
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Alert(channel="email", digest_id=digest_id))


def test_alert_carries_exactly_one_of_match_or_digest(engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Alert(channel="email"))


def test_match_verdict_and_score_are_checked(engine: Engine) -> None:
    with session_scope(engine) as session:
        match = _match(session)
        ids = (match.claim_id, match.baseline_claim_id)
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        row = session.exec(select(Match).where(Match.claim_id == ids[0])).one()
        row.verdict = "maybe"
        session.add(row)


def test_deleting_an_article_removes_its_claims_and_matches(engine: Engine) -> None:
    with session_scope(engine) as session:
        _match(session)
    with session_scope(engine) as session:
        session.delete(session.exec(select(Article)).one())
    with Session(engine) as session:
        assert session.exec(select(Claim)).all() == []
        assert session.exec(select(Match)).all() == []


def test_source_url_and_watch_term_key_are_unique(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Source(url="https://example.org/feed"))
        session.add(WatchTerm(term="Minsk", term_key="minsk"))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Source(url="https://example.org/feed"))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(WatchTerm(term="MINSK", term_key="minsk"))


def test_json_columns_round_trip_unicode(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(WatchTerm(term="Belarus", term_key="belarus", aliases=["Беларусь", "Білорусь"]))
    with Session(engine) as session:
        assert session.exec(select(WatchTerm)).one().aliases == ["Беларусь", "Білорусь"]


def test_the_migrations_create_what_the_models_describe(engine: Engine) -> None:
    """Migration 0002 (fetched addresses, crawl processes) and the models agree, on both backends."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    columns = {column["name"] for column in inspect(engine).get_columns("crawl_runs")}
    assert {"host", "pid"} <= columns and "fetched_urls" in inspect(engine).get_table_names()


def test_fetched_addresses_are_remembered_once_with_their_latest_time(engine: Engine) -> None:
    from datetime import UTC, datetime, timedelta

    from monitor.crawling.fetch_log import fetched_urls, remember_fetched
    from monitor.storage.models import FetchedUrl

    first = datetime(2024, 5, 14, 9, 0, tzinfo=UTC)
    long_url = "https://news.example/" + "x" * 5000  # longer than an index entry may be: keyed by its hash
    with session_scope(engine) as session:
        remember_fetched(session, [("https://news.example/a", "not_on_topic"), (long_url, "new")], now=first)
    with session_scope(engine) as session:
        remember_fetched(session, [("https://news.example/a", "already_seen")], now=first + timedelta(days=1))
        urls = ["https://news.example/a", long_url, "https://news.example/never"]
        assert fetched_urls(session, urls) == {"https://news.example/a", long_url}
        rows = {row.url: row for row in session.exec(select(FetchedUrl))}
    assert len(rows) == 2
    assert rows["https://news.example/a"].outcome == "already_seen"
    assert rows["https://news.example/a"].fetched_at == first + timedelta(days=1)
