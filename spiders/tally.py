"""The running count of one crawl run, shared by the spider and the item pipeline, with progress reporting.

`CrawlTally` counts in this process. A crawler that stays up keeps one per source pass it was handed;
scale-out workers count a pass together in Redis (`spiders.redis_scheduler.RedisTally`, the same methods),
because any worker may fetch any of its pages. Besides the counts, a tally knows how much of its pass is
still outstanding (requests not answered, articles not yet through the pipeline): when that reaches 0 the
pass is over and is recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from monitor.crawling.job import CrawlReport, SourceOutcome
from monitor.ingest.model import IngestResult

ProgressCallback = Callable[[dict[str, Any]], None]

# Reasons are shown to people and stored; an exception message from a page can be anything, so it is cut.
MAX_REASON_LENGTH = 300


def short_reason(reason: str) -> str:
    return " ".join(reason.split())[:MAX_REASON_LENGTH]


class Tally(Protocol):
    """What the spider and the pipeline count into, for one run."""

    def source_started(self, source_id: int) -> None: ...

    def page_fetched(self, source_id: int | None = None) -> None: ...

    def source_answered(
        self, source_id: int, *, status: str | None, etag: str | None, last_modified: str | None
    ) -> None: ...

    def found(self, source_id: int, count: int) -> None: ...

    def skipped_known(self, count: int) -> None: ...

    def left_for_later(self, source_id: int, count: int) -> None: ...

    def article(self, result: IngestResult, source_id: int | None = None) -> None: ...

    def error(
        self,
        *,
        source_id: int | None,
        source_url: str,
        url: str,
        reason: str,
        transient: bool = False,
        source_failed: bool = False,
    ) -> None: ...

    def started(self, count: int = 1) -> None: ...

    def ended(self) -> bool: ...


class CrawlTally:
    """Counts pages, articles, claims, matches and errors, and calls `progress` every `progress_every` pages."""

    def __init__(self, *, progress: ProgressCallback | None = None, progress_every: int = 50) -> None:
        self.report = CrawlReport()
        self._progress = progress
        self._progress_every = max(1, progress_every)
        self._started = time.monotonic()
        self.outstanding = 0

    def source(self, source_id: int) -> SourceOutcome:
        return self.report.sources.setdefault(source_id, SourceOutcome())

    def source_started(self, source_id: int) -> None:
        self.source(source_id)

    def page_fetched(self, source_id: int | None = None) -> None:
        self.report.pages_fetched += 1
        if source_id is not None:
            self.source(source_id).pages += 1
        if self.report.pages_fetched % self._progress_every == 0:
            self.emit_progress()

    def source_answered(
        self, source_id: int, *, status: str | None, etag: str | None, last_modified: str | None
    ) -> None:
        """The source's own document arrived: `status` not_modified for a 304, else None (kept as is)."""
        outcome = self.source(source_id)
        if status is not None:
            outcome.status = status
        outcome.etag, outcome.last_modified = etag, last_modified

    def found(self, source_id: int, count: int) -> None:
        self.source(source_id).articles_found += count

    def emit_progress(self) -> None:
        if self._progress is not None:
            self._progress(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        report = self.report
        return {
            "pages_fetched": report.pages_fetched,
            "articles_new": report.articles.get("new", 0),
            "errors": len(report.errors),
            "elapsed": round(time.monotonic() - self._started, 1),
            "sources": {
                source_id: {"status": outcome.status, "pages": outcome.pages, "new": outcome.new_articles}
                for source_id, outcome in report.sources.items()
            },
        }

    def skipped_known(self, count: int) -> None:
        self.report.articles["skipped_known"] += count

    def left_for_later(self, source_id: int, count: int) -> None:
        """`count` new links of a source over its share of this run: the next runs take them."""
        self.source(source_id).left_for_later += count

    def left_undone(self, *, articles: int, sources: int) -> None:
        """What the run had not finished when it closed (requested pages unanswered, sources unread)."""
        self.report.left_articles = articles
        self.report.left_sources = sources

    def article(self, result: IngestResult, source_id: int | None = None) -> None:
        self.report.articles[result.outcome.value] += 1
        self.report.claims += result.claims
        self.report.matches.update(result.verdicts)
        if source_id is not None and result.outcome.value == "new":
            self.source(source_id).new_articles += 1

    def error(
        self,
        *,
        source_id: int | None,
        source_url: str,
        url: str,
        reason: str,
        transient: bool = False,
        source_failed: bool = False,
    ) -> None:
        """Record an error; `source_failed` when the source's own document (feed, sitemap, page) failed."""
        reason = short_reason(reason)
        self.report.errors.append({"source": source_url, "url": url, "reason": reason})
        if source_id is None:
            return
        outcome = self.source(source_id)
        if source_failed:
            outcome.status = "failed"
            outcome.error = reason
        else:
            outcome.article_errors += 1
        if transient:
            outcome.transient_errors += 1
        if source_failed and outcome.pages == 0:
            # A source that failed unread (unreachable) is news for per-source progress; one whose document
            # arrived was in the page's progress already (its failure shows in the next one, or the summary).
            self.emit_progress()

    def started(self, count: int = 1) -> None:
        """`count` more requests or articles of this run are under way."""
        self.outstanding += count

    def ended(self) -> bool:
        """One of them ended; True when it was the last (the run is over)."""
        self.outstanding -= 1
        return self.outstanding <= 0
