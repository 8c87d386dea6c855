"""What every CLI verb shares: the settings, one engine built on first use, and the baseline as the matcher sees it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.config import Settings
from monitor.matching import BaselineClaimRef
from monitor.storage.engine import check_connection, make_engine, migrate, session_scope


@dataclass
class CliContext:
    settings: Settings
    _engine: Engine | None = field(default=None, init=False)

    @property
    def engine(self) -> Engine:
        """The engine, with the schema migrated to head (so every verb works on a fresh database)."""
        if self._engine is None:
            engine = make_engine(self.settings.database_url)
            check_connection(engine)
            migrate(engine)
            self._engine = engine
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    def load_baseline_refs(self) -> list[BaselineClaimRef]:
        from monitor.catalog.baseline_store import baseline_refs

        with self.session() as session:
            return baseline_refs(session)
