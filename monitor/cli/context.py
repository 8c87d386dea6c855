"""What every CLI verb shares: the settings, one engine built on first use, and the baseline as the matcher sees it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session

from monitor.config import Settings
from monitor.errors import InputError
from monitor.matching import BaselineClaimRef
from monitor.storage.engine import check_connection, make_engine, migrate, session_scope


def missing_sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names when it does not exist yet (None for other databases, or in memory)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # make_engine says what is wrong with it
    database = parsed.database or ""
    if not parsed.drivername.startswith("sqlite") or database in ("", ":memory:") or database.startswith("file:"):
        return None
    path = Path(database)
    return None if path.exists() else path.absolute()


@dataclass
class CliContext:
    """`may_create`: whether this verb may create a database that does not exist (only `init`, `run`
    and `demo` do; any other verb on a missing SQLite file says which file it looked for)."""

    settings: Settings
    may_create: bool = False
    _engine: Engine | None = field(default=None, init=False)

    @property
    def engine(self) -> Engine:
        """The engine, with the schema migrated to head. Raises InputError for a SQLite file that does not
        exist unless `may_create`: a typo or another folder must not silently make an empty database."""
        if self._engine is None:
            missing = None if self.may_create else missing_sqlite_file(self.settings.database_url)
            if missing is not None:
                raise InputError(
                    f"no database at {missing}: run `monitor init` to create it, "
                    "or give the right one with --db or MONITOR_DATABASE_URL"
                )
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
