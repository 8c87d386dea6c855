"""The one exception tree of `alerts`.

`DeliveryError` is what a channel raises when a message was not accepted: `TemporaryDeliveryError` means
"try again later" (optionally not before `retry_after` seconds), `PermanentDeliveryError` means "retrying
cannot help" (a refused address, a rejected payload, bad credentials). Messages never carry secrets.
"""

from __future__ import annotations

from monitor.errors import InputError, MonitorError, NotFoundError


class AlertError(MonitorError):
    """Base of every error raised by `alerts`."""


class DeliveryError(AlertError):
    """A channel did not accept a message; `channel` names it (`"email"`, `"slack"`)."""

    def __init__(self, message: str, *, channel: str) -> None:
        super().__init__(message)
        self.channel = channel


class TemporaryDeliveryError(DeliveryError):
    """Delivery may succeed later; `retry_after` (seconds) is the earliest sensible retry when known."""

    def __init__(self, message: str, *, channel: str, retry_after: float | None = None) -> None:
        super().__init__(message, channel=channel)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Delivery will not succeed by retrying the same message; the alert fails at once."""


class AlertNotFoundError(AlertError, NotFoundError):
    """No alert (or no retryable alert) has the given id."""


class AlertStateError(AlertError, InputError):
    """The alert exists but cannot do what was asked in its current state (e.g. retry a sent alert)."""
