from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from monitor.config import ConfigError, load_settings, parse_interval, setting_names


def test_defaults_are_an_embedded_sqlite_service_on_loopback() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///./data/monitor.db"
    assert settings.web_host == "127.0.0.1"
    assert settings.crawl_interval == timedelta(minutes=30)
    assert settings.digest_time == time(7, 0)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MONITOR_CRAWL_EVERY", "soon", "MONITOR_CRAWL_EVERY: 'soon' is not an interval like 30m, 2h or 1d"),
        ("MONITOR_SMTP_PORT", "70000", "MONITOR_SMTP_PORT:"),
        ("MONITOR_TIMEZONE", "Mars/Olympus", "MONITOR_TIMEZONE: 'Mars/Olympus' is not a known time zone"),
        ("MONITOR_DATABASE_URL", "mysql://x", "MONITOR_DATABASE_URL: must start with"),
        ("MONITOR_DIGEST_TIME", "25:99", "MONITOR_DIGEST_TIME:"),
        ("MONITOR_EMAIL_TO", "alice@example.org, bob", "MONITOR_EMAIL_TO: 'bob' is not an email address"),
        (
            "MONITOR_SLACK_WEBHOOK_URL",
            "hooks.slack.com/x",
            "MONITOR_SLACK_WEBHOOK_URL: must be an http(s) URL",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_monitor_toml_is_read_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "monitor.toml").write_text('crawl_every = "2h"\ntimezone = "Europe/Kyiv"\n')
    monkeypatch.setenv("MONITOR_TIMEZONE", "UTC")
    settings = load_settings()
    assert settings.crawl_every == "2h"
    assert settings.timezone == "UTC"


def test_recipients_split_on_commas_and_secrets_stay_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_EMAIL_TO", "a@example.org, b@example.org")
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "hunter2")
    settings = load_settings()
    assert settings.email_to == ["a@example.org", "b@example.org"]
    assert "hunter2" not in repr(settings)


def test_intervals() -> None:
    assert parse_interval("90s") == timedelta(seconds=90)
    assert parse_interval("1d") == timedelta(days=1)
    with pytest.raises(ValueError, match="shorter than 1m"):
        parse_interval("5s")
    assert parse_interval("0m", minimum=timedelta(0)) == timedelta(0)


def test_alert_cooldown(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().cooldown == timedelta(hours=1)
    monkeypatch.setenv("MONITOR_ALERT_COOLDOWN", "0m")
    assert load_settings().cooldown == timedelta(0)
    monkeypatch.setenv("MONITOR_ALERT_COOLDOWN", "a while")
    with pytest.raises(ConfigError, match="MONITOR_ALERT_COOLDOWN"):
        load_settings()


def test_every_design_setting_exists() -> None:
    design = [
        "DATABASE_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_STARTTLS", "EMAIL_FROM",
        "EMAIL_TO", "SLACK_WEBHOOK_URL", "CRAWL_EVERY", "DIGEST_TIME", "TIMEZONE", "WEB_HOST", "WEB_PORT",
        "WEB_TOKEN", "REDIS_URL",
    ]  # fmt: skip
    assert {f"MONITOR_{name}" for name in design} <= set(setting_names())
