"""What the spider hands to the item pipeline: a fetched article page, not yet extracted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class FetchedArticle:
    """An article page as downloaded. `url` is the link as found (tracking stripped), before redirects."""

    url: str
    final_url: str
    body: bytes
    content_type: str | None
    source_id: int | None
    source_url: str
    outlet: str | None = None
    language: str | None = None
    feed_title: str | None = None
    feed_published: datetime | None = None
    # The crawl run (source pass) it belongs to, for a crawler that stays up; None: the crawl's one run.
    crawl_run_id: int | None = None
