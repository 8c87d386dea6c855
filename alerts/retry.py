"""When to try a failed delivery again: exponential backoff with jitter, bounded attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff after the n-th failed attempt is `base * 2**(n-1)`, capped at `cap`, then jittered.

    Jitter draws the delay uniformly from [50 %, 100 %] of that value, so dispatchers that failed together
    do not retry together, while the delay still grows. After `max_attempts` attempts an alert is failed.
    """

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("backoff needs 0 < base <= cap")

    def backoff(self, attempt: int, rng: random.Random) -> timedelta:
        """The delay before the attempt after failed attempt number `attempt` (1-based)."""
        exponent = min(max(attempt, 1) - 1, 32)  # 2**32 * base is past any cap; avoids huge numbers
        ceiling = min(self.cap, self.base * (2**exponent))
        return ceiling * rng.uniform(0.5, 1.0)

    def delay(self, attempt: int, rng: random.Random, *, retry_after: float | None = None) -> timedelta:
        """The backoff, or the channel's own `Retry-After` when it asked for a longer wait."""
        backoff = self.backoff(attempt, rng)
        if retry_after is None:
            return backoff
        # Honour the server's wait, but never hammer it with a shorter one than our own backoff would be
        # when it said "0".
        return max(timedelta(seconds=retry_after), timedelta(0)) if retry_after > 0 else backoff

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
