"""`monitor demo` end to end in a fresh folder: alerts arrive by email and Slack, the digest is written."""

from __future__ import annotations

import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlmodel import Session, select

from monitor.demo.articles import DEMO_FEEDS
from monitor.storage.engine import make_engine
from monitor.storage.models import Alert, AlertStatus, Article, Match, Source


@pytest.mark.slow
def test_monitor_demo_delivers_alerts_and_the_digest_locally(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    output = result.stdout

    data = tmp_path / "data"
    emails = sorted((data / "demo-mail").glob("*.eml"))
    subjects = [str(message_from_bytes(path.read_bytes(), policy=policy.default)["Subject"]) for path in emails]
    # One alert message per crawl run (one per feed) and the digest, on each channel.
    assert len(emails) == len(DEMO_FEEDS) + 1
    assert sum("digest" in subject for subject in subjects) == 1
    assert f"{len(emails)} message(s), saved as .eml files" in output
    assert f"Slack, local webhook receiver: {len(emails)} message(s)" in output
    for subject in subjects:
        assert subject.strip() in output

    digest = (data / "demo-digest.html").read_text(encoding="utf-8")
    assert "<html" in digest.lower() and "contradicted" in digest
    assert "monitor serve --db sqlite:///data/demo.db" in output

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
    for name in ("demo.db", "demo.db-wal", "demo-digest.html", "monitor.db"):
        (data / name).write_text("old")
    fresh_demo_folder(data)
    assert sorted(path.name for path in data.iterdir()) == ["monitor.db"]
