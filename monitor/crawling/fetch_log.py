"""The article addresses the crawler has fetched and read, kept or not, so that no later run fetches them again.

A stored article's address is known from the articles table; this remembers the others too (off topic,
already seen under another address, copies), with when. A page that failed (an error, no article text)
is not remembered: the next run tries it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from monitor.storage.models import FetchedUrl

__all__ = ["fetched_urls", "remember_fetched", "url_hash"]

# SQL `IN` lists are kept short enough for every backend's parameter limit.
_IN_BATCH = 500


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def fetched_urls(session: Session, urls: Sequence[str]) -> set[str]:
    """The given addresses that an earlier crawl fetched and read."""
    found: set[str] = set()
    for start in range(0, len(urls), _IN_BATCH):
        by_hash = {url_hash(url): url for url in urls[start : start + _IN_BATCH]}
        rows = session.exec(select(FetchedUrl.url_hash).where(col(FetchedUrl.url_hash).in_(list(by_hash))))
        found.update(by_hash[digest] for digest in rows)
    return found


def remember_fetched(session: Session, entries: Iterable[tuple[str, str]], *, now: datetime) -> int:
    """Record (address, outcome) pairs as fetched at `now` (an address fetched again gets the new time)."""
    rows = {url_hash(url): {"url_hash": url_hash(url), "url": url, "outcome": outcome[:32], "fetched_at": now}
            for url, outcome in entries}  # fmt: skip
    if not rows:
        return 0
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = list(rows.values())
    for start in range(0, len(values), _IN_BATCH):
        statement = insert(FetchedUrl).values(values[start : start + _IN_BATCH])
        statement = statement.on_conflict_do_update(
            index_elements=[col(FetchedUrl.url_hash)],
            set_={"outcome": statement.excluded.outcome, "fetched_at": statement.excluded.fetched_at},
        )
        session.execute(statement)
    return len(values)
