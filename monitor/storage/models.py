"""SQLModel tables. DESIGN.md's storage invariants live here as database constraints, not only in code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class SourceKind(StrEnum):
    feed = "feed"
    sitemap = "sitemap"
    page = "page"


class Verdict(StrEnum):
    repeated = "repeated"
    updated = "updated"
    contradicted = "contradicted"


class ReviewStatus(StrEnum):
    unreviewed = "unreviewed"
    confirmed = "confirmed"
    dismissed = "dismissed"


class AlertStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    # A reviewer dismissed the match before it was delivered.
    cancelled = "cancelled"


class CrawlStatus(StrEnum):
    running = "running"
    finished = "finished"
    failed = "failed"


class MetaEntry(SQLModel, table=True):
    """Facts about this database itself, such as whether the default sources were ever installed."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Source(SQLModel, table=True):
    """A feed, sitemap or section page that the scheduler crawls on its own interval."""

    __tablename__ = "sources"
    __table_args__ = (CheckConstraint("kind in ('feed', 'sitemap', 'page')", name="source_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    kind: str = Field(default=SourceKind.feed, max_length=16)
    outlet: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=16)
    enabled: bool = Field(default=True)
    every_seconds: int | None = Field(default=None, description="Own interval; None means MONITOR_CRAWL_EVERY")
    notes: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    # What the last crawl learned, for conditional GET and for crawl health.
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    last_crawled_at: datetime | None = None
    last_status: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_failures: int = Field(default=0)


class WatchTerm(SQLModel, table=True):
    """A term (with its aliases in any script) that makes coverage worth keeping."""

    __tablename__ = "watch_terms"

    id: int | None = Field(default=None, primary_key=True)
    term: str = Field(max_length=200)
    # Case- and diacritic-folded form of `term`, so "Minsk" and "MINSK" cannot both exist.
    term_key: str = Field(max_length=200, unique=True, index=True)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    enabled: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


class BaselineArticle(SQLModel, table=True):
    """A reference article (or an imported list of known claims) whose claims new coverage is matched to."""

    __tablename__ = "baseline_articles"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True, index=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    outlet: str | None = Field(default=None, max_length=200)
    published: date | None = None
    url: str | None = Field(default=None, sa_column=Column(Text))
    kind: str = Field(default="article", max_length=16)
    body: str | None = Field(default=None, sa_column=Column(Text))
    content_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    # Removed by a user: its claims are no longer matched or listed; matches kept with it still name them.
    removed_at: datetime | None = None


class BaselineClaim(SQLModel, table=True):
    __tablename__ = "baseline_claims"
    __table_args__ = (
        UniqueConstraint("article_id", "position", name="uq_baseline_claim_position"),
        UniqueConstraint("article_id", "external_id", name="uq_baseline_claim_external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="baseline_articles.id", index=True, ondelete="CASCADE")
    position: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    external_id: str | None = Field(default=None, max_length=200)
    published: date | None = None
    source: str | None = Field(default=None, sa_column=Column(Text))


class CrawlRun(SQLModel, table=True):
    """One crawl of one or many sources, with its statistics and errors."""

    __tablename__ = "crawl_runs"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    status: str = Field(default=CrawlStatus.running, max_length=16)
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))
    # The crawl's process, so that a run whose process is gone without recording it can be closed.
    host: str | None = Field(default=None, max_length=255)
    pid: int | None = None


class Article(SQLModel, table=True):
    """A crawled article, stored once per canonical URL."""

    __tablename__ = "articles"

    id: int | None = Field(default=None, primary_key=True)
    canonical_url: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    url: str = Field(sa_column=Column(Text, nullable=False))
    title: str | None = Field(default=None, sa_column=Column(Text))
    outlet: str | None = Field(default=None, max_length=200)
    author: str | None = Field(default=None, max_length=500)
    published: datetime | None = Field(default=None, index=True)
    language: str | None = Field(default=None, max_length=16)
    text: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str = Field(max_length=64, index=True)
    # A near-identical syndicated copy points at the first copy and is not matched again.
    duplicate_of_id: int | None = Field(default=None, foreign_key="articles.id", ondelete="SET NULL")
    watch_terms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source_id: int | None = Field(default=None, foreign_key="sources.id", ondelete="SET NULL")
    crawl_run_id: int | None = Field(default=None, foreign_key="crawl_runs.id", ondelete="SET NULL")
    fetched_at: datetime = Field(default_factory=utcnow, index=True)


class FetchedUrl(SQLModel, table=True):
    """An article address the crawler fetched and read, kept or not, so that later runs skip it.

    Keyed by the SHA-256 of the address: addresses can be longer than an index entry may be.
    """

    __tablename__ = "fetched_urls"

    url_hash: str = Field(primary_key=True, max_length=64)
    url: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str = Field(max_length=32)
    fetched_at: datetime = Field(default_factory=utcnow, index=True)


class Claim(SQLModel, table=True):
    """A claim taken from a crawled article."""

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("article_id", "position", name="uq_claim_position"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", index=True, ondelete="CASCADE")
    position: int
    text: str = Field(sa_column=Column(Text, nullable=False))


class Match(SQLModel, table=True):
    """A new claim paired with the baseline claim it speaks to; at most one per pair."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("claim_id", "baseline_claim_id", name="uq_match_pair"),
        CheckConstraint("verdict in ('repeated', 'updated', 'contradicted')", name="match_verdict"),
        CheckConstraint("score >= 0 and score <= 100", name="match_score_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claims.id", index=True, ondelete="CASCADE")
    baseline_claim_id: int = Field(foreign_key="baseline_claims.id", index=True, ondelete="CASCADE")
    verdict: str = Field(max_length=16, index=True)
    score: float
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    review_status: str = Field(default=ReviewStatus.unreviewed, max_length=16)
    review_note: str | None = Field(default=None, sa_column=Column(Text))
    reviewed_at: datetime | None = None


class Digest(SQLModel, table=True):
    """The day's coverage, built once per day in the digest's time zone."""

    __tablename__ = "digests"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(unique=True, index=True)
    built_at: datetime = Field(default_factory=utcnow)
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Alert(SQLModel, table=True):
    """One delivery of one match (or one digest) to one channel: a row of the durable outbox."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("channel", "match_id", name="uq_alert_channel_match"),
        UniqueConstraint("channel", "digest_id", name="uq_alert_channel_digest"),
        CheckConstraint("(match_id IS NULL) <> (digest_id IS NULL)", name="alert_carries_match_or_digest"),
        Index("ix_alerts_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    match_id: int | None = Field(default=None, foreign_key="matches.id", ondelete="CASCADE")
    digest_id: int | None = Field(default=None, foreign_key="digests.id", ondelete="CASCADE")
    crawl_run_id: int | None = Field(default=None, foreign_key="crawl_runs.id", ondelete="SET NULL")
    status: str = Field(default=AlertStatus.pending, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
