"""The pipeline's plain data: an article as extraction produced it, and what became of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from monitor.storage.models import Match

MatchHook = Callable[[Session, Sequence[Match], "int | None"], None]
"""Called with (session, the new Match rows just flushed, crawl_run_id) inside the writing transaction."""


@dataclass(frozen=True)
class IncomingArticle:
    """An article as extraction produced it, before the pipeline decides what to do with it."""

    url: str
    canonical_url: str
    text: str
    title: str | None = None
    outlet: str | None = None
    author: str | None = None
    published: datetime | None = None
    language: str | None = None
    source_id: int | None = None


class IngestOutcome(StrEnum):
    new = "new"
    already_seen = "already_seen"
    not_on_topic = "not_on_topic"
    duplicate = "duplicate"


@dataclass(frozen=True)
class IngestResult:
    """What happened to one article; `verdicts` counts the stored matches by verdict."""

    outcome: IngestOutcome
    article_id: int | None = None
    duplicate_of_id: int | None = None
    watch_terms: tuple[str, ...] = ()
    claims: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
