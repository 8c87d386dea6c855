"""Sentence encoding on a second core while the matcher's Python work goes on (`ClaimMatcher.match_many`).

Matching a large batch alternates two kinds of work: the sentence encoders (numpy matrix products, which
run in BLAS without Python's GIL, on every core BLAS is given) and the lexical stage, the gate and the
verdicts (Python, one core). Done one after the other, one core idles through the Python part. Done side
by side, a chunk's claims are encoded on a thread of their own while the next chunk is screened and the
one before is judged, and each side has a core:

- BLAS is held to one thread while a batch runs this way, so the encoder does not take the core the
  Python work is on;
- the interpreter's switch interval is lowered from 5 ms to SWITCH_INTERVAL, since the encoder needs the
  GIL back for a moment between its numpy steps (25 or so a layer): at 5 ms it waits behind the Python
  work most of the time.

Measured on `bench/bench_scale.py`'s first 3,000 new claims against 100,000 baseline claims (2 cores):
21.6 s one after the other, 17.1 s side by side, with the same matches, scores and verdicts; with BLAS
left at two threads, 22.2 s; switch interval 0.05 ms 17.4 s, 0.1 ms 17.1 s, 0.2 ms 17.7 s, 0.5 ms
18.1 s, 5 ms 20.2 s.

Both settings are the process's own, so they are taken while any batch runs this way and given back when
the last such batch ends.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

Result = TypeVar("Result")

SWITCH_INTERVAL = 0.0001  # seconds

_lock = threading.Lock()
_holders = 0
_restore: tuple[float, Any] | None = None


def worthwhile(chunks: int) -> bool:
    """Whether encoding beside the Python work can pay: there is a second core, and more than one chunk
    (with one, the encoder would only run on fewer BLAS threads, with nothing beside it)."""
    return chunks > 1 and (os.cpu_count() or 1) > 1


def _take_settings() -> None:
    global _holders, _restore
    with _lock:
        if _holders == 0:
            interval = sys.getswitchinterval()
            limits = threadpool_limits(limits=1, user_api="blas")
            sys.setswitchinterval(SWITCH_INTERVAL)
            _restore = (interval, limits)
        _holders += 1


def _give_back_settings() -> None:
    global _holders, _restore
    with _lock:
        _holders -= 1
        if _holders == 0 and _restore is not None:
            interval, limits = _restore
            sys.setswitchinterval(interval)
            limits.restore_original_limits()
            _restore = None


class BackgroundEncoding:
    """A context in which `submit(encode, texts)` runs `encode(texts)` on one background thread, one call
    after another, with the process's settings for it taken (see module) until the context ends."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None

    def __enter__(self) -> BackgroundEncoding:
        _take_settings()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claim-encoding")
        return self

    def submit(self, encode: Callable[[Sequence[str]], Result], texts: Sequence[str]) -> Future[Result]:
        assert self._executor is not None, "BackgroundEncoding.submit outside its `with` block"
        return self._executor.submit(encode, texts)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None
        finally:
            _give_back_settings()


def done(value: Result) -> Future[Result]:
    """A future that already holds `value`: what an encoding run in place hands on."""
    future: Future[Result] = Future()
    future.set_result(value)
    return future
