"""`monitor run` as a user runs it, in a subprocess: it serves /healthz, picks up a source added while it runs,
and SIGTERM stops it cleanly (exit 0, the crawl in progress recorded, never left `running`)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from alert_servers import WAIT, free_port
from sqlalchemy.engine import Engine
from sqlmodel import Session, delete, select

from monitor.catalog.first_run import initialise
from monitor.demo.articles import BORDER_DESK
from monitor.demo.site import LocalNewsSite
from monitor.storage.engine import session_scope
from monitor.storage.models import CrawlRun, CrawlStatus, Source

READY = "Claim Monitor is running"
STOP_WAIT = 90.0  # a clean stop lets a running crawl finish (20 s) and is then bounded


class ServiceProcess:
    """A service in a subprocess whose output (stdout and stderr) is collected line by line as it comes."""

    def __init__(self, args: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            list(args),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<end of output>")
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = 60.0) -> bool:
        """Wait until a line containing `text` was printed (False on timeout or when the process ended)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: any(text in line for line in self.lines) or "<end of output>" in self.lines, timeout
            ) and any(text in line for line in self.lines)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = STOP_WAIT) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout)

    def kill_tree(self) -> None:
        """SIGKILL the service and every process under it at once, as a crashed machine or container would."""
        pids = [self.process.pid, *descendants(self.process.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(WAIT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill_tree()


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc (the crawl children run in process groups of their own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def prepare_service_database(engine: Engine) -> None:
    """An initialised database (baseline, watch terms) without the real default sources: tests stay offline."""
    with session_scope(engine) as session:
        initialise(session)
        session.exec(delete(Source))


@pytest.fixture
def site() -> Iterator[LocalNewsSite]:
    news = LocalNewsSite()
    for article in BORDER_DESK:
        news.publish("border-desk", "Border Desk", article)
    news.start()
    yield news
    news.stop()


def monitor_command(database_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--db", database_url, *args]


@pytest.mark.slow
def test_monitor_run_serves_picks_up_a_new_source_and_stops_cleanly_on_sigterm(
    sqlite_engine: Engine, site: LocalNewsSite, tmp_path: Path
) -> None:
    prepare_service_database(sqlite_engine)
    database = sqlite_engine.url.render_as_string(hide_password=False)
    feed_fetched = threading.Event()
    site.on_request = lambda path: feed_fetched.set() if path.startswith("/feeds/") else None
    port = free_port()

    service = ServiceProcess(monitor_command(database, "run", "--port", str(port)), cwd=tmp_path)
    try:
        assert service.wait_for_line(READY), service.output
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"

        added = subprocess.run(
            monitor_command(database, "sources", "add", site.feed_url("border-desk"), "--outlet", "Border Desk"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        assert feed_fetched.wait(30), "the new source was crawled without a restart\n" + service.output

        assert service.stop(signal.SIGTERM) == 0, service.output
    finally:
        service.close()
    output = service.output
    assert output.count("no alert channel configured") == 1, "said once at start-up"
    assert "Stopped cleanly." in output
    with Session(sqlite_engine) as session:
        runs = session.exec(select(CrawlRun)).all()
    assert [run.sources for run in runs] == [[site.feed_url("border-desk")]]
    assert all(run.status != CrawlStatus.running and run.finished_at for run in runs), "recorded by the clean stop"


def test_monitor_run_refuses_a_port_in_use_with_one_line(sqlite_engine: Engine, tmp_path: Path) -> None:
    prepare_service_database(sqlite_engine)
    database = sqlite_engine.url.render_as_string(hide_password=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            monitor_command(database, "run", "--port", str(port)),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr == f"Error: port {port} is in use; set MONITOR_WEB_PORT or --port\n"
    assert result.stdout == ""


def test_monitor_run_refuses_to_listen_beyond_loopback_without_a_token(sqlite_engine: Engine, tmp_path: Path) -> None:
    database = sqlite_engine.url.render_as_string(hide_password=False)
    result = subprocess.run(
        monitor_command(database, "run", "--host", "0.0.0.0"), cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "refusing to listen on 0.0.0.0 without MONITOR_WEB_TOKEN" in result.stderr
