"""Engine factory and schema migrations. Built per call, never at import time, so each test has its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from monitor.errors import MonitorError, error_line

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseError(MonitorError):
    """The database cannot be opened or migrated; the message says which and why, without the password."""


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web app read while a crawl writes; busy_timeout rides out short write locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`: SQLite gets WAL and foreign keys (and its folder created), PostgreSQL psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"database URL {url!r} is not valid: {exc}") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite"):
        database = parsed.database or ""
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the folder for {database}: {exc.strerror}") from None
        # NullPool: each unit of work opens its own connection, which keeps SQLite's locks short and lets
        # forked crawl processes start clean.
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 10}, poolclass=NullPool)
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def migrate(engine: Engine) -> bool:
    """Bring the schema to the newest migration; return True when anything was applied."""
    try:
        before = current_revision(engine)
        if before == head_revision():
            return False
        command.upgrade(_alembic_config(engine), "head")
    except OperationalError as exc:
        raise DatabaseError(f"cannot open database {safe_url(str(engine.url))}: {error_line(exc.orig)}") from None
    return True


def check_connection(engine: Engine) -> None:
    """Raise DatabaseError with a one-line reason when the database cannot be reached."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        raise DatabaseError(f"cannot open database {safe_url(str(engine.url))}: {error_line(exc.orig)}") from None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error, so nothing is half-written."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
