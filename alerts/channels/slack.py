"""Slack incoming webhooks over an injected `httpx.Client`.

Slack answers 200 `ok` when it took the message, 429 with `Retry-After` when rate-limited, 4xx with a
reason (`invalid_payload`, `no_service`, …) when the message or the hook is wrong, and 5xx when it is in
trouble. The webhook URL is a secret: it never appears in an error message, and a logging filter masks it
in the records httpx writes about its requests.
"""

from __future__ import annotations

import json
import logging

import httpx
from pydantic import SecretStr

from alerts.errors import PermanentDeliveryError, TemporaryDeliveryError
from alerts.render import RenderedMessage
from monitor.http.fetch import retry_after_seconds

CHANNEL = "slack"
# Loggers through which an HTTP library may print the request URL.
_HTTP_LOGGERS = ("httpx", "httpcore")


class SecretMaskingFilter(logging.Filter):
    """Replaces a secret with `***` in every record that passes through the logger it is attached to."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "***"), None
        return True


def _mask_in_http_logs(secret: str) -> None:
    for name in _HTTP_LOGGERS:
        http_logger = logging.getLogger(name)
        if not any(isinstance(f, SecretMaskingFilter) and f.secret == secret for f in http_logger.filters):
            http_logger.addFilter(SecretMaskingFilter(secret))


class SlackChannel:
    """Posts a message's Block Kit blocks, with its escaped plain text as the notification fallback."""

    name = CHANNEL

    def __init__(self, webhook_url: SecretStr, *, client: httpx.Client) -> None:
        self._webhook_url = webhook_url
        self._client = client
        _mask_in_http_logs(webhook_url.get_secret_value())

    def payload(self, message: RenderedMessage) -> dict[str, object]:
        return {"text": message.slack_text, "blocks": message.slack_blocks, "unfurl_links": False}

    def send(self, message: RenderedMessage) -> None:
        """Post `message`; raise TemporaryDeliveryError (429, 5xx, network) or PermanentDeliveryError (4xx).

        A timeout counts as temporary although Slack may have posted the message before we gave up:
        Slack webhooks take no idempotency key, and losing an alert is worse than a rare repeat.
        """
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        try:
            response = self._client.post(
                self._webhook_url.get_secret_value(),
                content=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except httpx.TimeoutException as exc:
            waited = self._client.timeout.read or self._client.timeout.connect
            after = f" after {waited:g} s" if waited else ""
            raise TemporaryDeliveryError(
                f"Slack webhook timed out{after} ({type(exc).__name__}); Slack may have posted it, "
                "so the retry may repeat it",
                channel=CHANNEL,
            ) from None
        except httpx.InvalidURL:
            raise PermanentDeliveryError("Slack webhook URL is not valid", channel=CHANNEL) from None
        except httpx.TransportError as exc:
            # The exception text may hold the host but never the path, where the webhook's secret lives;
            # still, only its type is reported.
            raise TemporaryDeliveryError(f"Slack webhook unreachable ({type(exc).__name__})", channel=CHANNEL) from None
        self._check(response)

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        reason = self._reason(response)
        if status == 200:
            return
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if status == 429:
            raise TemporaryDeliveryError(
                f"Slack rate-limited the webhook (429, retry after {retry_after or '?'} s)",
                channel=CHANNEL,
                retry_after=retry_after,
            )
        if status >= 500 or status == 408:
            raise TemporaryDeliveryError(
                f"Slack webhook failed with {status} {reason}".rstrip(), channel=CHANNEL, retry_after=retry_after
            )
        raise PermanentDeliveryError(f"Slack webhook refused the message: {status} {reason}".rstrip(), channel=CHANNEL)

    def _reason(self, response: httpx.Response) -> str:
        # Slack's bodies are short codes such as `invalid_payload`; anything long is cut and masked.
        text = " ".join(response.text.split())[:200]
        return text.replace(self._webhook_url.get_secret_value(), "***")
