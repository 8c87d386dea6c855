"""Deduplication: a text's fingerprint (hash of its folded words, bottom-k sketch of its shingles) and
the index that finds a stored near-identical copy (syndication) quickly."""

from __future__ import annotations

import hashlib
import heapq
import re
import zlib
from collections import Counter
from dataclasses import dataclass

from monitor.text.fold import fold

# Two texts sharing this share of their word 5-gram shingles are copies of one article (syndication
# rewrites a headline or a credit line, not the body).
DUPLICATE_THRESHOLD = 0.9


SHINGLE_WORDS = 5


SKETCH_SIZE = 128


_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(fold(text))


def content_hash(text: str) -> str:
    """SHA-256 of the text's folded words: equal for texts differing only in case, accents or spacing."""
    return hashlib.sha256(" ".join(_words(text)).encode("utf-8")).hexdigest()


def _shingle_hashes(text: str) -> set[int]:
    return _word_shingle_hashes(_words(text))


def _word_shingle_hashes(words: list[str]) -> set[int]:
    if len(words) < SHINGLE_WORDS:
        return {zlib.crc32(" ".join(words).encode("utf-8"))} if words else set()
    return {
        zlib.crc32(" ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8"))
        for i in range(len(words) - SHINGLE_WORDS + 1)
    }


def shingle_similarity(first: str, second: str) -> float:
    """Exact Jaccard similarity of the two texts' word 5-gram shingle sets (0 for two empty texts)."""
    a, b = _shingle_hashes(first), _shingle_hashes(second)
    return len(a & b) / len(a | b) if a or b else 0.0


def text_sketch(text: str, size: int = SKETCH_SIZE) -> frozenset[int]:
    """The bottom-`size` sketch of the text's shingle hashes, as `NearDuplicateIndex` keeps them."""
    return frozenset(heapq.nsmallest(size, _shingle_hashes(text)))


@dataclass(frozen=True)
class TextFingerprint:
    """What deduplication needs of a text: its `content_hash` and its sketch (the words folded once)."""

    digest: str
    sketch: frozenset[int]

    @classmethod
    def of(cls, text: str) -> TextFingerprint:
        words = _words(text)
        digest = hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()
        return cls(digest, frozenset(heapq.nsmallest(SKETCH_SIZE, _word_shingle_hashes(words))))


class NearDuplicateIndex:
    """Bottom-k sketches of recent articles' shingles, to find a stored copy of a text quickly.

    `candidates` returns article ids whose estimated similarity reaches the threshold; the caller confirms
    with `shingle_similarity` on the stored text, so an estimate never links two different articles.
    """

    def __init__(self, *, threshold: float = DUPLICATE_THRESHOLD, sketch_size: int = SKETCH_SIZE) -> None:
        self.threshold = threshold
        self.sketch_size = sketch_size
        self._sketches: dict[int, frozenset[int]] = {}
        self._postings: dict[int, set[int]] = {}

    def __len__(self) -> int:
        return len(self._sketches)

    def _sketch(self, text: str, known: frozenset[int] | None) -> frozenset[int]:
        # A sketch made elsewhere (`TextFingerprint`, in an analyzer process) saves folding the text again.
        return known if known is not None and self.sketch_size == SKETCH_SIZE else text_sketch(text, self.sketch_size)

    def add(self, article_id: int, text: str, *, sketch: frozenset[int] | None = None) -> None:
        """Index a text; `sketch`: its `TextFingerprint.sketch`, when known."""
        sketch = self._sketch(text, sketch)
        self._sketches[article_id] = sketch
        for value in sketch:
            self._postings.setdefault(value, set()).add(article_id)

    def candidates(self, text: str, *, sketch: frozenset[int] | None = None) -> list[int]:
        """Ids of indexed articles that are probably near-identical to `text`, most similar first."""
        sketch = self._sketch(text, sketch)
        if not sketch:
            return []
        shared: Counter[int] = Counter()
        for value in sketch:
            shared.update(self._postings.get(value, ()))
        # Margin below the threshold: the estimate's error is about 0.03 at 0.9 with 128 values.
        floor = self.threshold - 0.1
        # Texts that similar share most of their sketches; the rest only share common phrases.
        least_shared = floor * len(sketch) / 2
        scored = []
        for article_id, count in shared.most_common():
            if count < least_shared:
                break
            estimate = self._estimate(sketch, self._sketches[article_id])
            if estimate >= floor:
                scored.append((estimate, article_id))
        return [article_id for _estimate, article_id in sorted(scored, reverse=True)]

    def _estimate(self, first: frozenset[int], second: frozenset[int]) -> float:
        union_smallest = heapq.nsmallest(self.sketch_size, first | second)
        both = sum(1 for value in union_smallest if value in first and value in second)
        return both / len(union_smallest) if union_smallest else 0.0
