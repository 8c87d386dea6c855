"""What the crawl already knows of article addresses: stored as articles, or fetched and read by a run.

`KnownUrlLookup` answers the spider before any article is requested; `FetchedUrlRecorder` collects the
addresses this run fetched and read, and writes them in batches (a killed run loses at most one batch,
whose pages the next run fetches again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.catalog.queries import stored_urls
from monitor.crawling.fetch_log import fetched_urls, remember_fetched
from monitor.errors import error_line
from monitor.storage.engine import session_scope
from monitor.storage.models import utcnow

logger = logging.getLogger(__name__)

# Pages between writes of the fetched addresses: one short transaction per this many pages.
RECORD_BATCH = 100


class KnownUrlLookup:
    """Which of some URLs are known already: stored (as an article's address or canonical URL), or fetched."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, urls: Sequence[str]) -> set[str]:
        with session_scope(self.engine) as session:
            known = stored_urls(session, urls)
            return known | fetched_urls(session, [url for url in urls if url not in known])


class FetchedUrlRecorder:
    """Remembers the article addresses this run fetched and read (`monitor.crawling.fetch_log`), in batches."""

    def __init__(self, engine: Engine, *, batch: int = RECORD_BATCH, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.batch = batch
        self.clock = clock
        self._pending: list[tuple[str, str]] = []

    def remember(self, url: str, outcome: str) -> None:
        self._pending.append((url, outcome))
        if len(self._pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Write what is pending; a database error is logged and the pages are simply fetched next time."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            with session_scope(self.engine) as session:
                remember_fetched(session, pending, now=self.clock())
        except SQLAlchemyError as exc:
            logger.warning("could not remember %d fetched addresses: %s", len(pending), error_line(exc))
