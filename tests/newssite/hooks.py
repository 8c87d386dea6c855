"""An `on_matches` hook for crawl tests. It runs in the crawl's worker process, so it lives in an importable
module (the child is spawned and receives it by reference)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from monitor.storage.models import Match, MetaEntry


def record_matches_in_meta(session: Session, matches: Sequence[Match], crawl_run_id: int | None) -> None:
    """Write one `meta` row per match in the caller's transaction, as an alerts outbox would."""
    for match in matches:
        session.add(MetaEntry(key=f"hook:{crawl_run_id}:{match.id}", value=match.verdict))
