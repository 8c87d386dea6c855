"""Stopping a long-running process cleanly: a signal sets an Event that the process's loop watches."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

logger = logging.getLogger(__name__)


@contextmanager
def stop_on_signals(
    stop: threading.Event,
    signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
    *,
    then: str = "stopping",
) -> Iterator[None]:
    """Set `stop` on any of `signals` while the body runs; the previous handlers come back afterwards.

    The first signal is logged as "SIGTERM received: <then>". Only the main thread can take signals:
    elsewhere nothing is installed, and whoever started the thread sets `stop`.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if not stop.is_set():
            logger.info("%s received: %s", signal.Signals(signum).name, then)
        stop.set()

    previous = {signum: signal.signal(signum, request_stop) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
