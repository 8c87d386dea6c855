"""What the crawl's analyzers were built from: the watch terms and the baseline claims, as one comparable value.

A crawler that stays up builds its analyzers (watch-term filter, baseline index) once; it compares this
value now and then and rebuilds them when a watch term or the baseline changed, without a restart.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.storage.engine import session_scope
from monitor.storage.models import BaselineClaim, WatchTerm


def catalog_version(engine: Engine) -> str:
    """Changes whenever a watch term is added, edited, paused or removed, or baseline claims change in number."""
    digest = hashlib.sha256()
    with session_scope(engine) as session:
        for row in session.exec(select(WatchTerm).order_by(col(WatchTerm.id))):
            digest.update(repr((row.id, row.term, list(row.aliases), row.enabled)).encode())
        count, highest = session.exec(select(func.count(col(BaselineClaim.id)), func.max(col(BaselineClaim.id)))).one()
        digest.update(repr((count, highest)).encode())
    return digest.hexdigest()
