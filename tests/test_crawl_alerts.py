"""From crawl to delivered alert: the pipeline writes outbox rows with its matches; held without a channel."""

from __future__ import annotations

import json

import pytest
from alert_servers import running_slack, running_smtp
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


def test_one_crawl_makes_one_email_and_one_slack_message_listing_exactly_its_matches(
    sqlite_engine: Engine, news_site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare_crawl_database(sqlite_engine, news_site, keys=("world",))
    database = sqlite_engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    with running_smtp() as smtp, running_slack() as slack:
        for name, value in {
            "MONITOR_SMTP_HOST": "127.0.0.1",
            "MONITOR_SMTP_PORT": str(smtp.port),
            "MONITOR_SMTP_STARTTLS": "false",
            "MONITOR_EMAIL_FROM": "monitor@example.org",
            "MONITOR_EMAIL_TO": "analyst@example.org",
            "MONITOR_SLACK_WEBHOOK_URL": slack.url,
        }.items():
            monkeypatch.setenv(name, value)
        crawled = runner.invoke(main, ["--db", database, "crawl", "--quiet"])
        assert crawled.exit_code == 0, crawled.output
        sent = runner.invoke(main, ["--db", database, "alerts", "send"])
        assert sent.exit_code == 0, sent.output
        [email] = smtp.handler.wait_for(1)
        [posted] = slack.wait_for(1)
        digest = runner.invoke(main, ["--db", database, "digest", "--format", "json"])

    with Session(sqlite_engine) as session:
        matches = session.exec(select(Match)).all()
    verdicts = {match.verdict for match in matches}
    assert {"repeated", "updated", "contradicted"} <= verdicts, "the site plants all three kinds"
    match_ids = sorted(match.id for match in matches if match.id is not None)
    assert sorted(int(part) for part in str(email["X-Claim-Monitor-Matches"]).split(",")) == match_ids
    assert f"{len(match_ids)} new match" in str(posted["text"])
    assert digest.exit_code == 0, digest.output
    listed = json.loads(digest.output)
    assert sorted(_digest_match_ids(listed)) == match_ids


def _digest_match_ids(digest: object) -> list[int]:
    """Every `match_id` in the digest's JSON, wherever the grouping puts it."""
    found: list[int] = []
    if isinstance(digest, dict):
        for key, value in digest.items():
            if key == "match_id" and isinstance(value, int):
                found.append(value)
            else:
                found.extend(_digest_match_ids(value))
    elif isinstance(digest, list):
        for item in digest:
            found.extend(_digest_match_ids(item))
    return found
