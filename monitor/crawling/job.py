"""The plain data passed between a crawl's parent process and its Scrapy child.

No Scrapy imports here: `monitor.crawling.runs` builds a `CrawlJob`, the child (`spiders.run`) runs it, and what
comes back is a `CrawlReport`. Everything is picklable, because the child is started with `spawn`.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from monitor.config import DEFAULT_CRAWL_MAX_ITEMS, Settings
from monitor.ingest.model import MatchHook


@dataclass(frozen=True)
class SourceSpec:
    """One source to crawl, with what the last crawl learned for conditional GET and `lastmod` filtering."""

    id: int
    url: str
    kind: str
    outlet: str | None = None
    language: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # Sitemap entries last modified before this were seen by an earlier run and are skipped.
    since: datetime | None = None
    # The source's interval (seconds): how long an unreachable host of it is remembered by the crawler.
    every_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (for the Redis feed of scale-out)."""
        values = asdict(self)
        values["since"] = self.since.isoformat() if self.since else None
        return values

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> SourceSpec:
        since = values.get("since")
        return cls(**{**values, "since": datetime.fromisoformat(since) if since else None})


@dataclass(frozen=True)
class Assignment:
    """One source's pass handed to a running crawler: the `CrawlRun` it is recorded in, and the source."""

    crawl_run_id: int
    source: SourceSpec

    def to_json(self) -> dict[str, Any]:
        return {"crawl_run_id": self.crawl_run_id, "source": self.source.to_json()}

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> Assignment:
        return cls(crawl_run_id=int(values["crawl_run_id"]), source=SourceSpec.from_json(values["source"]))


# Each analyzer holds its own baseline index and, when installed, the sentence encoder: a few hundred MB.
MAX_DEFAULT_INGEST_WORKERS = 4


def default_ingest_workers() -> int:
    """One analyzer process per core this process may run on, at least one, at most the cap above.

    The crawl process and the writer need a fraction of a core each: at the matching cost per article the
    analyzers are what limits throughput, so even a 2-core machine runs two."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_INGEST_WORKERS))


@dataclass(frozen=True)
class CrawlLimits:
    """How hard and how long a crawl may work; the defaults are the polite production values."""

    time_limit: float | None = None  # seconds; the spider closes gracefully when it is reached
    download_timeout: float = 30.0
    retry_times: int = 2
    backoff_base: float = 2.0  # seconds before the first retry; doubles on each retry
    backoff_max: float = 60.0
    retry_after_max: float = 120.0  # a longer Retry-After gives up on the page for this run
    max_page_bytes: int = 10 * 1024 * 1024
    concurrent_per_domain: int = 4
    autothrottle_start_delay: float = 1.0
    progress_every: int = 50  # pages between progress lines
    # Analyzer processes (extraction, claims, matching: CPU work), plus one writer process for storage;
    # 0 runs everything in the crawl process. Default: one per core, up to `MAX_DEFAULT_INGEST_WORKERS`.
    ingest_workers: int = field(default_factory=default_ingest_workers)
    # Internal networks (CIDRs) that may be fetched on purpose; every other internal address is refused.
    allowed_networks: tuple[str, ...] = ()
    # Article links taken from one source per run, newest first; the rest wait for the next runs.
    max_items_per_source: int = DEFAULT_CRAWL_MAX_ITEMS
    # The score (0-100) below which the crawl's matcher reports no match (`MONITOR_MATCH_THRESHOLD`);
    # None: the calibrated default of the signals installed.
    match_threshold: float | None = None
    extra_settings: dict[str, Any] = field(default_factory=dict)  # raw Scrapy settings, applied last

    @classmethod
    def from_settings(cls, settings: Settings, **limits: Any) -> CrawlLimits:
        """The limits with the settings' crawl-safety and per-source cap, and `limits` as given."""
        return cls(
            allowed_networks=tuple(settings.crawl_allowed_networks),
            max_items_per_source=settings.crawl_max_items,
            match_threshold=settings.match_threshold,
            **limits,
        )


@dataclass(frozen=True)
class CrawlJob:
    """Everything the child process needs; `database_url` carries credentials and is never logged.

    A one-shot job crawls `sources` as the run `crawl_run_id` and ends. A crawler that stays up
    (`feed` set) starts with no sources and is handed `Assignment`s: `"pipe"` over its connection from the
    process that started it (the embedded service), or `"redis"` from the scheduler through Redis
    (`monitor crawler`, scale-out); it records each source's run itself and runs until it is stopped.
    """

    database_url: str
    crawl_run_id: int | None
    sources: tuple[SourceSpec, ...]
    limits: CrawlLimits = CrawlLimits()
    on_matches: MatchHook | None = None
    feed: str | None = None  # None (one-shot), "pipe" or "redis"
    redis_url: str | None = None
    redis_prefix: str | None = None


@dataclass
class SourceOutcome:
    """What one source's crawl learned: `status` is ok, not_modified or failed."""

    status: str = "ok"
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # Errors a later run would cure (5xx, timeouts): the feed's validators are not saved, so the next run
    # sees the items again instead of a 304.
    transient_errors: int = 0
    article_errors: int = 0
    articles_found: int = 0
    # New links over the per-source cap (`CrawlLimits.max_items_per_source`), left for the next runs.
    left_for_later: int = 0
    # Pages fetched for this source and articles it added: for per-source progress and summaries.
    pages: int = 0
    new_articles: int = 0


@dataclass
class CrawlReport:
    """The statistics of one crawl run, as the child reports them and `CrawlRun.stats` stores them."""

    pages_fetched: int = 0
    articles: Counter[str] = field(default_factory=Counter)  # by IngestOutcome, plus "skipped_known"
    claims: int = 0
    matches: Counter[str] = field(default_factory=Counter)  # by verdict
    errors: list[dict[str, str]] = field(default_factory=list)  # {source, url, reason}
    sources: dict[int, SourceOutcome] = field(default_factory=dict)
    finish_reason: str = "finished"
    # What a run that closed early had not done: article pages requested but unanswered, sources unread.
    left_articles: int = 0
    left_sources: int = 0
    time_limit: float | None = None

    @property
    def partial(self) -> bool:
        """Whether the run was cut short (its time limit, a shutdown): some of its work was never done."""
        return self.finish_reason != "finished"

    @property
    def partial_reason(self) -> str | None:
        """Why and how much was left, in words; None for a complete run."""
        if not self.partial:
            return None
        if self.finish_reason == "closespider_timeout":
            why = f"time limit of {self.time_limit:g} s reached" if self.time_limit else "time limit reached"
        elif self.finish_reason == "shutdown":
            why = "stopped before the end (shutdown)"
        else:
            why = f"ended early ({self.finish_reason})"
        return f"{why}; left for the next run: {self.left_summary()}"

    def left_summary(self) -> str:
        pages = f"{self.left_articles} article page{'s' if self.left_articles != 1 else ''}"
        sources = f"{self.left_sources} source{'s' if self.left_sources != 1 else ''} not read"
        return f"{pages}, {sources}"

    @property
    def left_for_later(self) -> int:
        """New links over the per-source cap, summed over the sources."""
        return sum(outcome.left_for_later for outcome in self.sources.values())

    def stats(self) -> dict[str, Any]:
        """JSON-able statistics for `CrawlRun.stats`."""
        return {
            "pages_fetched": self.pages_fetched,
            "articles": {
                name: self.articles.get(name, 0)
                for name in ("new", "already_seen", "not_on_topic", "duplicate", "skipped_known")
            },
            "claims": self.claims,
            "matches": {verdict: self.matches.get(verdict, 0) for verdict in ("repeated", "updated", "contradicted")},
            "errors": len(self.errors),
            "finish_reason": self.finish_reason,
            "partial": self.partial,
            "partial_reason": self.partial_reason,
            "left": {"articles": self.left_articles, "sources": self.left_sources},
            "left_for_later": self.left_for_later,
        }

    def to_message(self) -> dict[str, Any]:
        """A plain dict (for the pipe between the processes)."""
        return {
            "pages_fetched": self.pages_fetched,
            "articles": dict(self.articles),
            "claims": self.claims,
            "matches": dict(self.matches),
            "errors": list(self.errors),
            "sources": {source_id: asdict(outcome) for source_id, outcome in self.sources.items()},
            "finish_reason": self.finish_reason,
            "left_articles": self.left_articles,
            "left_sources": self.left_sources,
            "time_limit": self.time_limit,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> CrawlReport:
        return cls(
            pages_fetched=int(message.get("pages_fetched", 0)),
            articles=Counter(message.get("articles", {})),
            claims=int(message.get("claims", 0)),
            matches=Counter(message.get("matches", {})),
            errors=list(message.get("errors", [])),
            sources={int(k): SourceOutcome(**v) for k, v in message.get("sources", {}).items()},
            finish_reason=str(message.get("finish_reason", "finished")),
            left_articles=int(message.get("left_articles", 0)),
            left_sources=int(message.get("left_sources", 0)),
            time_limit=message.get("time_limit"),
        )
