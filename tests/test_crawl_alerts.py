"""From crawl to delivered alert: the pipeline writes outbox rows with its matches; held without a channel."""

from __future__ import annotations

import pytest
from alert_servers import running_slack
from click.testing import CliRunner
from newssite.database import prepare_crawl_database
from newssite.server import NewsSite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from alerts.outbox import HELD
from monitor.cli import main
from monitor.storage.models import Alert, AlertStatus, Match

pytest_plugins = ["conftest_newssite"]


def test_alerts_are_held_without_a_channel_then_delivered_once_to_the_first_channel(
    sqlite_engine: Engine, news_site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare_crawl_database(sqlite_engine, news_site, keys=("world",))
    database = sqlite_engine.url.render_as_string(hide_password=False)
    runner = CliRunner()

    crawled = runner.invoke(main, ["--db", database, "crawl", "--source", news_site.url("/feeds/world.atom")])
    assert crawled.exit_code == 0, crawled.output
    assert "no alert channel configured" in crawled.stderr
    with Session(sqlite_engine) as session:
        matches = session.exec(select(Match)).all()
        alerts = session.exec(select(Alert)).all()
    assert matches, "the site's world feed carries sentences that speak to the baseline"
    assert sorted(alert.match_id for alert in alerts) == sorted(match.id for match in matches)
    assert {alert.channel for alert in alerts} == {HELD}
    listed = runner.invoke(main, ["--db", database, "alerts", "list", "--status", "pending"])
    assert listed.output.count(HELD) == len(alerts)

    with running_slack() as slack:
        monkeypatch.setenv("MONITOR_SLACK_WEBHOOK_URL", slack.url)
        sent = runner.invoke(main, ["--db", database, "alerts", "send"])
        assert sent.exit_code == 0, sent.output
        assert sent.output.startswith("sent      slack:")
        again = runner.invoke(main, ["--db", database, "alerts", "send"])
        assert "Nothing to send." in again.output
        # One crawl run makes one message per channel, however many matches it found.
        assert len(slack.wait_for(1)) == 1
    with Session(sqlite_engine) as session:
        rows = session.exec(select(Alert)).all()
    assert {(row.channel, row.status) for row in rows} == {("slack", AlertStatus.sent)}
    assert len(rows) == len(matches)
