"""`monitor demo` end to end in a fresh folder: alerts arrive by email and Slack, the digest is written."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from monitor.demo.articles import DEMO_FEEDS
from monitor.demo.sinks import free_port
from monitor.storage.engine import make_engine
from monitor.storage.models import Alert, AlertStatus, Article, Match, Source


def _printed(output: str, label: str) -> list[str]:
    (line,) = [line for line in output.splitlines() if line.startswith(label)]
    return shlex.split(line.removeprefix(label).split("   then open")[0])


def _environment_without(folder: Path) -> dict[str, str]:
    """This environment with `folder` left out of PATH, as a shell where the venv is not activated."""
    path = os.pathsep.join(part for part in os.environ.get("PATH", "").split(os.pathsep) if Path(part) != folder)
    return {**os.environ, "PATH": path}


@pytest.mark.slow
def test_monitor_demo_delivers_alerts_and_the_digest_locally(tmp_path: Path) -> None:
    # Run as `make demo` runs it: the console script of a venv that is not on PATH.
    script = Path(sys.executable).parent / "monitor"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "monitor"]
    environment = _environment_without(script.parent)
    result = subprocess.run(
        [*command, "demo"], cwd=tmp_path, capture_output=True, text=True, timeout=90, env=environment
    )
    assert result.returncode == 0, result.stderr + result.stdout
    output = result.stdout

    data = tmp_path / "data"
    emails = sorted((data / "demo-mail").glob("*.eml"))
    subjects = [str(message_from_bytes(path.read_bytes(), policy=policy.default)["Subject"]) for path in emails]
    # One alert message per crawl run (one per feed) and the digest, on each channel.
    assert len(emails) == len(DEMO_FEEDS) + 1, result.stdout + result.stderr
    assert sum("digest" in subject for subject in subjects) == 1
    assert f"{len(emails)} message(s), saved as .eml files" in output
    assert f"Slack, local webhook receiver: {len(emails)} message(s)" in output
    for subject in subjects:
        assert subject.strip() in output

    digest = (data / "demo-digest.html").read_text(encoding="utf-8")
    assert "<html" in digest.lower() and "contradicted" in digest
    assert "saved as .json files in data/demo-slack/" in output
    assert len(list((data / "demo-slack").glob("*.json"))) == len(emails)
    assert "The first email, as text:" in output and "The first Slack message, as text:" in output

    # The printed commands run as printed, from another folder too, with `monitor` not on PATH.
    listing = subprocess.run(
        _printed(output, "Matches: "), cwd=tmp_path.parent, capture_output=True, text=True, timeout=60, env=environment
    )
    assert listing.returncode == 0, listing.stderr
    assert "CONTRADICTED" in listing.stdout
    port = free_port()
    with subprocess.Popen(
        _printed(output, "Web UI: "),
        cwd=tmp_path.parent,
        stderr=subprocess.PIPE,
        text=True,
        env={**environment, "MONITOR_WEB_PORT": str(port)},
    ) as server:
        try:
            assert server.stderr is not None
            for line in server.stderr:  # uvicorn says when it listens; a failure ends the stream
                if "Uvicorn running on" in line:
                    break
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
            assert "contradicted" in httpx.get(f"http://127.0.0.1:{port}/matches", timeout=10).text
        finally:
            server.terminate()

    engine = make_engine(f"sqlite:///{data / 'demo.db'}")
    with Session(engine) as session:
        verdicts = {match.verdict for match in session.exec(select(Match))}
        articles = session.exec(select(Article)).all()
        alerts = session.exec(select(Alert)).all()
        sources = session.exec(select(Source)).all()
    engine.dispose()
    # The demo coverage repeats, updates and contradicts the baseline, and nothing is left undelivered.
    assert verdicts == {"repeated", "updated", "contradicted"}
    assert len(articles) == sum(len(articles) for _outlet, articles in DEMO_FEEDS.values())
    assert alerts and {alert.status for alert in alerts} == {AlertStatus.sent}
    # Only the local site is a source: the real default feeds were never installed.
    assert all(source.url.startswith("http://127.0.0.1:") for source in sources)


def test_monitor_demo_starts_afresh_each_time(tmp_path: Path) -> None:
    from monitor.demo.run import fresh_demo_folder

    data = tmp_path / "data"
    (data / "demo-mail").mkdir(parents=True)
    (data / "demo-mail" / "001.eml").write_text("old")
    (data / "demo-slack").mkdir(parents=True)
    (data / "demo-slack" / "001.json").write_text("{}")
    for name in ("demo.db", "demo.db-wal", "demo-digest.html", "monitor.db"):
        (data / name).write_text("old")
    fresh_demo_folder(data)
    assert sorted(path.name for path in data.iterdir()) == ["monitor.db"]
