"""Shared fixtures: isolated settings, fresh SQLite and PostgreSQL databases, the shared/ folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from monitor.demo.site import LOCAL_SITE_NETWORK
from monitor.storage.engine import make_engine, migrate

# One BLAS thread per process: pytest-xdist runs a worker per core and every crawl starts processes of its
# own, so a second math thread per process only waits for a core, and OpenBLAS waits by spinning on it.
# Set before numpy is first imported (by the test modules), and inherited by every child process.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

REPO = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "MONITOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def services_required() -> bool:
    return os.environ.get("MONITOR_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip where a service is absent, but fail under MONITOR_REQUIRE_SERVICES=1 (CI)."""
    if services_required():
        pytest.fail(f"{reason} (MONITOR_REQUIRE_SERVICES=1, so this fails instead of skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def private_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The suite's own cache directory (unpacked encoder weights, kept sentence vectors): nothing kept by an
    earlier run or by the developer's service answers for the code under test. Child processes inherit it.

    Under pytest-xdist the workers of one run share it (the cache is safe across processes), so the
    weights are unpacked and the baseline encoded once per run, not once per worker.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        path = tmp_path_factory.mktemp("cache-home")
    else:
        path = tmp_path_factory.getbasetemp().parent / "cache-home"
        path.mkdir(exist_ok=True)
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No MONITOR_* from the developer's shell and no monitor.toml from the checkout leak into a test; the
    crawler may fetch from the tests' local sites."""
    for name in list(os.environ):
        if name.startswith("MONITOR_") and name not in ("MONITOR_REQUIRE_SERVICES", "MONITOR_SHARED_DIR"):
            monkeypatch.delenv(name)
    # The local sites the tests crawl listen here, and nothing else internal may be fetched (CLI runs and
    # service subprocesses inherit it).
    monkeypatch.setenv("MONITOR_CRAWL_ALLOWED_NETWORKS", LOCAL_SITE_NETWORK)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = Path(os.environ.get("MONITOR_SHARED_DIR", REPO.parent / "shared"))
    if not path.is_dir():
        skip_or_fail(f"the shared folder is absent at {path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session; dropped at the end."""
    admin = make_engine(POSTGRES_ADMIN_URL)
    name = f"claim_monitor_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to reach the server means "absent" here
        admin.dispose()
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: each test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    url: str = request.getfixturevalue("postgres_database")
    _reset_postgres(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on a fresh database (both backends)."""
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    migrate(engine)
    yield engine
    engine.dispose()
