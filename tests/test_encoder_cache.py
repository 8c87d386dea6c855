"""The encoders' on-disk caches: prepared weights and kept sentence vectors. Both must speed up a second
process and never change an answer: a damaged or unwritable cache is skipped."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_encoder import CONFIG, tiny_archive, tiny_tokenizer, tiny_weights

from monitor.matching import encoder_cache
from monitor.matching.encoder import SentenceEncoder, load_from_archive
from monitor.matching.encoder_cache import VectorStore, cache_root


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "claim-monitor"


def _archive(tmp_path: Path, payload: bytes) -> Path:
    path = tmp_path / "model.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.safetensors", payload)
    return path


def test_cache_root_follows_xdg(private_cache: Path) -> None:
    assert cache_root() == private_cache


def _arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {"word": rng.standard_normal((5, 3)).astype(np.float32), "bias": np.arange(7, dtype=np.float32)}


def test_prepared_weights_are_built_once_then_mapped_read_only(private_cache: Path) -> None:
    built = []

    def build() -> dict[str, np.ndarray]:
        built.append(1)
        return _arrays()

    first = encoder_cache.mapped_arrays("m1", build)
    second = encoder_cache.mapped_arrays("m1", build)
    assert len(built) == 1
    for name, array in _arrays().items():
        assert np.array_equal(first[name], array) and np.array_equal(second[name], array)
        assert not second[name].flags.writeable  # mapped from the file, shared by every process mapping it


def test_damaged_prepared_weights_are_rebuilt(private_cache: Path) -> None:
    encoder_cache.mapped_arrays("m1", _arrays)
    (path,) = private_cache.glob("m1*.weights")
    path.write_bytes(path.read_bytes()[:-9])  # cut short
    assert np.array_equal(encoder_cache.mapped_arrays("m1", _arrays)["word"], _arrays()["word"])
    path.write_bytes(b"junk")
    assert np.array_equal(encoder_cache.mapped_arrays("m1", _arrays)["bias"], _arrays()["bias"])


def test_unwritable_cache_still_gives_the_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert np.array_equal(encoder_cache.mapped_arrays("m1", _arrays)["word"], _arrays()["word"])


def test_vector_store_round_trip_is_per_model(tmp_path: Path) -> None:
    store = VectorStore("model-a", 4, tmp_path / "v.sqlite3")
    vector = np.array([0.5, 0.5, 0.5, 0.5], dtype=np.float32)
    store.put_many([("Belarus hosts 9,000 Russian troops.", vector)])
    found = store.get_many(["Belarus hosts 9,000 Russian troops.", "something else"])
    assert list(found) == ["Belarus hosts 9,000 Russian troops."]
    assert np.array_equal(found["Belarus hosts 9,000 Russian troops."], vector)
    assert VectorStore("model-b", 4, tmp_path / "v.sqlite3").get_many(["Belarus hosts 9,000 Russian troops."]) == {}
    assert VectorStore("model-a", 8, tmp_path / "v.sqlite3").get_many(["Belarus hosts 9,000 Russian troops."]) == {}


def test_vector_store_many_texts(tmp_path: Path) -> None:
    store = VectorStore("m", 2, tmp_path / "v.sqlite3")
    texts = [f"claim {n}" for n in range(1200)]
    store.put_many((text, np.array([n, 1], dtype=np.float32)) for n, text in enumerate(texts))
    found = store.get_many(texts)
    assert len(found) == 1200 and found["claim 1199"][0] == 1199


def test_unusable_vector_store_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = VectorStore("m", 2, blocker / "v.sqlite3")
    assert not store.usable
    store.put_many([("a", np.zeros(2, dtype=np.float32))])
    assert store.get_many(["a"]) == {}


def test_kept_vectors_are_reused_by_another_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_path = tmp_path / "v.sqlite3"
    first = SentenceEncoder(tiny_weights(), CONFIG, tiny_tokenizer())
    first.keep_vectors_in(VectorStore("tiny", 8, store_path))
    kept = first.encode(["belarus troops", "minsk talks"], keep=True)
    second = SentenceEncoder(tiny_weights(), CONFIG, tiny_tokenizer())
    second.keep_vectors_in(VectorStore("tiny", 8, store_path))

    def no_forward(texts: list[str]) -> np.ndarray:
        raise AssertionError(f"encoded again: {texts}")

    monkeypatch.setattr(second, "_encode_uncached", no_forward)
    assert np.array_equal(second.encode(["minsk talks", "belarus troops"], keep=True), kept[::-1])


def test_queries_are_not_kept(tmp_path: Path) -> None:
    store = VectorStore("tiny", 8, tmp_path / "v.sqlite3")
    encoder = SentenceEncoder(tiny_weights(), CONFIG, tiny_tokenizer())
    encoder.keep_vectors_in(store)
    encoder.encode(["belarus border"])
    assert store.get_many(["belarus border"]) == {}


def test_archive_encoder_keeps_vectors_under_the_cache_root(tmp_path: Path, private_cache: Path) -> None:
    encoder = load_from_archive(tiny_archive(tmp_path / "model.zip"))
    encoder.encode(["belarus border"], keep=True)
    assert (private_cache / "vectors.sqlite3").is_file()
    assert any(name.endswith(".weights") for name in os.listdir(private_cache))
    assert encoder_cache.cache_root() == private_cache
