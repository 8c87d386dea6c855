"""Optional semantic similarity: static word embeddings, IDF-weighted and averaged per claim.

The vectors are WordLlama's `l2_supercat` 256-dimension token embeddings, which the `wordllama` package
ships inside its wheel (no download, no PyTorch). We read its files directly with `tokenizers` and
`safetensors` rather than import `wordllama` (whose import configures the root logger and whose loader
would try the network for a missing file). Without those packages `load_embeddings()` returns None and
the matcher scores lexically only.

Each claim's vector is the IDF-weighted mean of its content words' vectors: the words that carry a claim
count for more than "said" or "country", which plain mean pooling over-weights.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

LOG = logging.getLogger(__name__)
_WEIGHTS = Path("weights") / "l2_supercat_256.safetensors"
_TOKENIZER = Path("tokenizers") / "l2_supercat_tokenizer_config.json"
DIMENSIONS = 256

Vector = npt.NDArray[np.float32]


class StaticEmbeddings:
    """Word vectors from a token-embedding matrix and its tokenizer; words are cached once embedded."""

    def __init__(self, matrix: npt.NDArray[np.float32], tokenizer: Any) -> None:
        self._matrix = matrix
        self._tokenizer = tokenizer
        self._cache: dict[str, Vector] = {}
        self._zero = np.zeros(matrix.shape[1], dtype=np.float32)

    @property
    def dimensions(self) -> int:
        return int(self._matrix.shape[1])

    def word_vector(self, word: str) -> Vector:
        """The unit vector of a word or phrase (mean of its tokens), zero when it has none."""
        vector = self._cache.get(word)
        if vector is None:
            ids = self._tokenizer.encode(" " + word, add_special_tokens=False).ids
            if ids:
                mean = self._matrix[ids].mean(axis=0)
                vector = (mean / (np.linalg.norm(mean) + 1e-9)).astype(np.float32)
            else:
                vector = self._zero
            if len(self._cache) < 500_000:
                self._cache[word] = vector
        return vector

    def embed(self, weighted_words: Iterable[tuple[str, float]]) -> Vector:
        """The unit vector of a claim from its (word, weight) pairs; zero for a claim with none."""
        total = np.zeros(self.dimensions, dtype=np.float32)
        for word, weight in weighted_words:
            total += weight * self.word_vector(word)
        norm = float(np.linalg.norm(total))
        return total / norm if norm > 0 else total


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def load_embeddings() -> StaticEmbeddings | None:
    """The packaged embeddings, loaded once per process; None when the optional packages are missing."""
    try:
        from safetensors import safe_open
        from tokenizers import Tokenizer
    except ImportError:
        return None
    root = _package_dir("wordllama")
    if root is None or not (root / _WEIGHTS).is_file() or not (root / _TOKENIZER).is_file():
        return None
    try:
        tokenizer = Tokenizer.from_file(str(root / _TOKENIZER))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        with safe_open(str(root / _WEIGHTS), framework="np") as weights:
            matrix = np.ascontiguousarray(weights.get_tensor("embedding.weight"), dtype=np.float32)
    except Exception as exc:  # a broken optional install must not stop matching
        LOG.warning("semantic similarity disabled: cannot load the packaged embeddings: %s", exc)
        return None
    return StaticEmbeddings(matrix, tokenizer)
