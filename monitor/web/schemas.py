"""The JSON API's request and response bodies; they are also what /docs and /openapi.json describe."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from alerts.render import text_fragment_link
from monitor.catalog.queries import BaselineClaimStats, DigestDay, ListedMatch, MatchSummary, match_json
from monitor.storage.models import Article, Source, WatchTerm

Item = TypeVar("Item")


class MatchOut(MatchSummary):
    """A match: `MatchSummary`'s fields (those of `monitor matches list --json`), then the web's."""

    link: str = Field(description="The article address with a text fragment that highlights the claim.")
    article_id: int
    article_title: str | None
    outlet: str | None
    published: datetime | None
    created_at: datetime
    review_status: str
    review_note: str | None
    reviewed_at: datetime | None

    @classmethod
    def of(cls, item: ListedMatch) -> Self:
        match, claim, article = item.match, item.claim, item.article
        assert article.id is not None
        return cls(
            **match_json(item),
            link=text_fragment_link(article.url, claim.text),
            article_id=article.id,
            article_title=article.title,
            outlet=article.outlet,
            published=article.published,
            created_at=match.created_at,
            review_status=match.review_status,
            review_note=match.review_note,
            reviewed_at=match.reviewed_at,
        )


class Page(BaseModel, Generic[Item]):
    """One page of a longer list: `items`, and `total` passing the filters."""

    items: list[Item]
    total: int
    limit: int
    offset: int


class ArticleOut(BaseModel):
    """An article; the first seven fields are those of `monitor articles list --json`."""

    id: int
    url: str
    title: str | None
    outlet: str | None
    published: datetime | None
    language: str | None
    watch_terms: list[str]
    fetched_at: datetime
    duplicate_of_id: int | None

    @classmethod
    def of(cls, article: Article) -> ArticleOut:
        assert article.id is not None
        return cls(
            id=article.id,
            url=article.url,
            title=article.title,
            outlet=article.outlet,
            published=article.published,
            language=article.language,
            watch_terms=[str(term) for term in article.watch_terms or []],
            fetched_at=article.fetched_at,
            duplicate_of_id=article.duplicate_of_id,
        )


class ClaimOut(BaseModel):
    """A baseline claim (as `monitor baseline claims --json`) with how often coverage spoke to it."""

    claim_id: int
    claim: str
    article: str
    published: date | None
    external_id: str | None
    repeated: int
    updated: int
    contradicted: int

    @classmethod
    def of(cls, stats: BaselineClaimStats) -> ClaimOut:
        assert stats.claim.id is not None
        return cls(
            claim_id=stats.claim.id,
            claim=stats.claim.text,
            article=stats.article.title,
            published=stats.published,
            external_id=stats.claim.external_id,
            repeated=stats.counts.get("repeated", 0),
            updated=stats.counts.get("updated", 0),
            contradicted=stats.counts.get("contradicted", 0),
        )


class DigestDayOut(BaseModel):
    day: date
    matches: int
    articles: int
    built_at: datetime | None = Field(description="When the digest of this day was last built and stored.")
    url: str

    @classmethod
    def of(cls, entry: DigestDay) -> DigestDayOut:
        return cls(
            day=entry.day,
            matches=entry.matches,
            articles=entry.articles,
            built_at=entry.built_at,
            url=f"/api/digests/{entry.day.isoformat()}",
        )


class WatchTermIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    term: str = Field(max_length=1000, examples=["Lukashenko"])
    aliases: list[str] = Field(default_factory=list, max_length=200, examples=[["Лукашенко", "Łukaszenka"]])


class WatchTermPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aliases: list[str] | None = Field(default=None, max_length=200)
    enabled: bool | None = None


class WatchTermOut(BaseModel):
    id: int
    term: str
    aliases: list[str]
    enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, row: WatchTerm) -> WatchTermOut:
        assert row.id is not None
        return cls(id=row.id, term=row.term, aliases=list(row.aliases), enabled=row.enabled, created_at=row.created_at)


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=4000, examples=["https://news.example/rss"])
    kind: Literal["feed", "sitemap", "page"] = "feed"
    every: str | None = Field(default=None, description="Own crawl interval such as 30m or 2h.", examples=["1h"])
    outlet: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=16)


class SourcePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class SourceOut(BaseModel):
    id: int
    url: str
    kind: str
    outlet: str | None
    language: str | None
    enabled: bool
    every_seconds: int | None
    last_crawled_at: datetime | None
    last_status: str | None
    last_error: str | None
    consecutive_failures: int
    articles: int

    @classmethod
    def of(cls, row: Source, articles: int) -> SourceOut:
        assert row.id is not None
        return cls(
            id=row.id,
            url=row.url,
            kind=row.kind,
            outlet=row.outlet,
            language=row.language,
            enabled=row.enabled,
            every_seconds=row.every_seconds,
            last_crawled_at=row.last_crawled_at,
            last_status=row.last_status,
            last_error=row.last_error,
            consecutive_failures=row.consecutive_failures,
            articles=articles,
        )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["confirmed", "dismissed", "unreviewed"]
    note: str | None = Field(default=None, max_length=2000)


class ErrorOut(BaseModel):
    detail: str
