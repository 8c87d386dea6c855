"""The running count of one crawl, shared by the spider and the item pipeline, with progress reporting."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from monitor.crawling.job import CrawlReport, SourceOutcome
from monitor.ingest.model import IngestResult

ProgressCallback = Callable[[dict[str, Any]], None]

# Reasons are shown to people and stored; an exception message from a page can be anything, so it is cut.
MAX_REASON_LENGTH = 300


class CrawlTally:
    """Counts pages, articles, claims, matches and errors, and calls `progress` every `progress_every` pages."""

    def __init__(self, *, progress: ProgressCallback | None = None, progress_every: int = 50) -> None:
        self.report = CrawlReport()
        self._progress = progress
        self._progress_every = max(1, progress_every)
        self._started = time.monotonic()

    def source(self, source_id: int) -> SourceOutcome:
        return self.report.sources.setdefault(source_id, SourceOutcome())

    def page_fetched(self) -> None:
        self.report.pages_fetched += 1
        if self.report.pages_fetched % self._progress_every == 0:
            self.emit_progress()

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

    def article(self, result: IngestResult) -> None:
        self.report.articles[result.outcome.value] += 1
        self.report.claims += result.claims
        self.report.matches.update(result.verdicts)

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
        reason = " ".join(reason.split())[:MAX_REASON_LENGTH]
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
