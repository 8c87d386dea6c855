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

from monitor.ingest.pipeline import MatchHook


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
    extra_settings: dict[str, Any] = field(default_factory=dict)  # raw Scrapy settings, applied last


@dataclass(frozen=True)
class CrawlJob:
    """Everything the child process needs; `database_url` carries credentials and is never logged."""

    database_url: str
    crawl_run_id: int | None
    sources: tuple[SourceSpec, ...]
    limits: CrawlLimits = CrawlLimits()
    on_matches: MatchHook | None = None


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
        )
