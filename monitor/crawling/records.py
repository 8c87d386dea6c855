"""Recording a crawl run's end: its `CrawlRun` row and each of its sources' crawl state.

Used by whoever sees a run end: the parent of a one-shot crawl (`monitor.crawling.runs`), and a crawler
that stays up, for each source pass it finishes (`spiders.run`, `spiders.redis_scheduler`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Engine

from monitor.crawling.job import CrawlReport, SourceOutcome, SourceSpec
from monitor.storage.engine import session_scope
from monitor.storage.models import CrawlRun, CrawlStatus, Source, utcnow

__all__ = ["BACKOFF_AFTER", "backoff_factor", "record_run"]

# A source that failed this many passes in a row is tried less often: every 2nd interval, then every 4th...
BACKOFF_AFTER = 3
MAX_BACKOFF_FACTOR = 16


def backoff_factor(consecutive_failures: int) -> int:
    """Every how many of its intervals a source that keeps failing is tried (1: every interval)."""
    if consecutive_failures < BACKOFF_AFTER:
        return 1
    return int(min(MAX_BACKOFF_FACTOR, 2 ** (consecutive_failures - BACKOFF_AFTER + 1)))


def _failed(source: Source, reason: str) -> None:
    source.last_status = "failed"
    source.consecutive_failures += 1
    factor = backoff_factor(source.consecutive_failures)
    if factor > 1:
        reason = (
            f"{reason} (failed {source.consecutive_failures} times in a row: backing off, tried every "
            f"{factor} intervals until it answers)"
        )
    source.last_error = reason


def record_run(
    engine: Engine,
    crawl_run_id: int,
    sources: Sequence[SourceSpec],
    report: CrawlReport,
    failure: str | None,
    *,
    only_if_running: bool = False,
) -> tuple[str, str | None]:
    """Record a run's end: its row (status, statistics, errors) and every source's crawl state.

    `failure` set: the run failed (its report holds what was counted before). `only_if_running`: leave
    a run that something else closed already (a crawler that stays up finishing a pass the scheduler
    gave up on). Returns (status, error).
    """
    status = CrawlStatus.finished if failure is None else CrawlStatus.failed
    now = utcnow()
    with session_scope(engine) as session:
        run = session.get(CrawlRun, crawl_run_id)
        if run is None or (only_if_running and run.status != CrawlStatus.running):
            return (run.status, run.error) if run is not None else (CrawlStatus.failed, "the run was deleted")
        run.status = status
        run.finished_at = now
        stats = report.stats()
        if failure is not None:
            stats.update(partial=True, partial_reason=f"the crawl failed: {failure}")
        run.stats = stats
        run.errors = list(report.errors)
        run.error = failure
        session.add(run)
        for spec in sources:
            source = session.get(Source, spec.id)
            if source is not None:
                _update_source(source, report, failure, now)
                session.add(source)
    return status, failure


def _update_source(source: Source, report: CrawlReport, failure: str | None, now: datetime) -> None:
    """Record one source's crawl state. Validators are saved only after a complete, clean fetch of it."""
    outcome = report.sources.get(source.id or -1)
    if failure is not None or outcome is None:
        _failed(source, failure or "the crawl ended before this source was fetched")
        return
    if outcome.status == "failed":
        _failed(source, outcome.error or "failed")
        return
    source.consecutive_failures = 0
    complete = report.finish_reason == "finished" and outcome.transient_errors == 0
    if complete:
        # Also the `since` of sitemap `lastmod` filtering, so it only moves on after a complete crawl.
        source.last_crawled_at = now
    if outcome.status != "not_modified":
        # After a transient failure the next run must see the items again, not a 304.
        source.etag = _limit(outcome.etag, 500) if complete else None
        source.last_modified = _limit(outcome.last_modified, 100) if complete else None
    source.last_status = "partial" if outcome.article_errors else outcome.status
    source.last_error = _article_errors_note(outcome)


def _article_errors_note(outcome: SourceOutcome) -> str | None:
    if not outcome.article_errors:
        return None
    plural = "s" if outcome.article_errors != 1 else ""
    return f"{outcome.article_errors} problem{plural} with its pages or items (see the crawl run's errors)"


def _limit(value: str | None, length: int) -> str | None:
    return value[:length] if value else None
