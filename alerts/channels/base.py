"""The interface every alert channel implements, so the dispatcher and the contract tests treat them alike."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from alerts.render import RenderedMessage


@runtime_checkable
class AlertChannel(Protocol):
    """Delivers a rendered message, or raises an `alerts.errors.DeliveryError`.

    Returning normally means the far end accepted the message (SMTP 250 after DATA, Slack HTTP 200 `ok`);
    only then may the dispatcher mark the alert sent.
    """

    name: str

    def send(self, message: RenderedMessage) -> None: ...
