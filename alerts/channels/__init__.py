"""Alert channels (email over SMTP, Slack incoming webhooks) and how to build them from Settings."""

from __future__ import annotations

import httpx

from alerts.channels.base import AlertChannel
from alerts.channels.email import EmailChannel, SmtpConfig
from alerts.channels.slack import SlackChannel
from monitor.config import Settings

__all__ = ["AlertChannel", "EmailChannel", "SlackChannel", "SmtpConfig", "build_channels"]


def build_channels(settings: Settings, *, http_client: httpx.Client | None = None) -> dict[str, AlertChannel]:
    """The channels `settings` configure, by name; Slack uses `http_client` (or a new one with timeouts)."""
    channels: dict[str, AlertChannel] = {}
    smtp = SmtpConfig.from_settings(settings)
    if smtp is not None:
        channels["email"] = EmailChannel(smtp)
    if settings.slack_webhook_url is not None:
        client = http_client or httpx.Client(timeout=httpx.Timeout(10.0), follow_redirects=False)
        channels["slack"] = SlackChannel(settings.slack_webhook_url, client=client)
    return channels
