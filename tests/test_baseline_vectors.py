"""A baseline's sentence vectors are computed once, when it is added (or the model changes), and matching
never encodes a baseline claim: it encodes the new claims only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_encoder import CONFIG, tiny_tokenizer, tiny_weights

import monitor.matching.index as index_module
from monitor.matching import BaselineClaimRef, BaselineIndex, ClaimMatcher, Encoders
from monitor.matching.encoder import SentenceEncoder
from monitor.matching.encoder_cache import VectorStore
from monitor.matching.index import encode_baseline

BASELINE = [
    "Russia has deployed about 9,000 troops to Belarus for joint exercises.",
    "Lukashenko said Belarus would not send its army into Ukraine.",
    "Belarusian railways are carrying Russian tanks towards the Gomel region.",
    "Minsk hosted talks between Russian and Ukrainian delegations in March.",
    "Iskander missiles were fired from Belarusian territory at Ukrainian cities.",
    "Belarus has started forming people's militias near the southern border.",
]
NEW = [
    "Trains in Belarus are moving Russian armour south to Gomel.",
    "Russia has sent some 12,000 soldiers to Belarus for drills.",
    "Quarterly revenue of the bakery chain grew slightly.",
]


class CountingEncoder(SentenceEncoder):
    """The tiny test model (a real forward pass) that records every text it runs the forward pass on."""

    def __init__(self, store: VectorStore) -> None:
        super().__init__(tiny_weights(), CONFIG, tiny_tokenizer())
        self.keep_vectors_in(store)
        self.forward_texts: list[str] = []

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        self.forward_texts.extend(texts)
        return super()._encode_uncached(texts)


def _refs() -> list[BaselineClaimRef]:
    return [BaselineClaimRef(number, text, "baseline") for number, text in enumerate(BASELINE, start=1)]


@pytest.mark.parametrize("scan_limit", [500, 0], ids=["small baseline (dense scan)", "large baseline (re-scoring)"])
def test_matching_never_encodes_a_baseline_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scan_limit: int
) -> None:
    monkeypatch.setattr(index_module, "EAGER_ENCODE_LIMIT", scan_limit)
    store = VectorStore("tiny", 8, tmp_path / "vectors.sqlite3")
    adding = CountingEncoder(store)
    assert encode_baseline(BASELINE, Encoders(english=adding)) == {adding.name: len(BASELINE)}
    assert sorted(adding.forward_texts) == sorted(BASELINE)
    # Added again (or another process starting): every vector is kept, nothing is encoded.
    assert encode_baseline(BASELINE, Encoders(english=adding)) == {adding.name: 0}

    matching = CountingEncoder(store)  # a fresh process: only the vector store is shared
    index = BaselineIndex.build(_refs(), encoders=Encoders(english=matching))
    assert index.has_encoder and index.fully_encoded == (scan_limit > 0)
    assert matching.forward_texts == []
    results = ClaimMatcher(index).match_many(NEW)
    assert len(results) == len(NEW)
    assert matching.forward_texts, "the new claims that needed the encoder were encoded"
    assert not set(matching.forward_texts) & set(BASELINE)
    assert set(matching.forward_texts) <= set(NEW)


def test_a_baseline_built_before_its_vectors_were_kept_encodes_them_once(tmp_path: Path) -> None:
    """A new model version (or a cleared cache) has no kept vectors: the first index encodes and keeps
    them, the next reads them, and both hold the same matrix."""
    store = VectorStore("tiny-v2", 8, tmp_path / "vectors.sqlite3")
    first = CountingEncoder(store)
    before = BaselineIndex.build(_refs(), encoders=Encoders(english=first))
    assert sorted(first.forward_texts) == sorted(BASELINE)
    second = CountingEncoder(store)
    after = BaselineIndex.build(_refs(), encoders=Encoders(english=second))
    assert second.forward_texts == []
    assert np.array_equal(before.dense["english"].matrix, after.dense["english"].matrix)


def test_progress_is_reported_as_the_baseline_is_encoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.matching.encoders as encoders_module

    monkeypatch.setattr(encoders_module, "KEPT_CHUNK", 4)
    encoder = CountingEncoder(VectorStore("tiny", 8, tmp_path / "vectors.sqlite3"))
    seen: list[tuple[str, int, int]] = []
    encode_baseline(BASELINE, Encoders(english=encoder), progress=lambda *step: seen.append(step))
    assert seen == [(encoder.name, 4, 6), (encoder.name, 6, 6)]


def test_baseline_add_computes_the_vectors_then(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import main

    installed = Encoders.installed()
    if not installed.present:
        pytest.skip("no sentence encoder is installed")
    claims = tmp_path / "claims.txt"
    added = [
        "The Zyabrovka airfield near Gomel hosted twelve Russian helicopters in February.",
        "Belarus closed two border crossings with Lithuania for freight in October.",
    ]
    claims.write_text("\n".join(added) + "\n", encoding="utf-8")
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(main, ["--db", db, "init"], catch_exceptions=False).exit_code == 0
    result = runner.invoke(main, ["--db", db, "baseline", "add", "--claims", str(claims)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for encoder in (installed.multilingual, installed.english):
        if encoder is not None:
            assert encoder.missing_kept(added) == 0, encoder.name


def test_a_large_baseline_loads_only_the_encoder_its_index_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond EAGER_ENCODE_LIMIT claims only MiniLM re-scores candidates: e5 (its tokenizer and weights,
    about 120 MB) is not loaded in the processes that match."""
    import monitor.matching.encoder as encoder_module
    import monitor.matching.multilingual as multilingual_module

    english = SentenceEncoder(tiny_weights(), CONFIG, tiny_tokenizer())
    monkeypatch.setattr(encoder_module, "load_encoder", lambda: english)

    def no_e5() -> None:
        raise AssertionError("e5 was loaded for a baseline that does not use it")

    monkeypatch.setattr(multilingual_module, "load_multilingual_encoder", no_e5)
    used = index_module.installed_encoders(index_module.EAGER_ENCODE_LIMIT + 1)
    assert used.english is english and used.multilingual is None
    assert not index_module.installed_encoders(index_module.DENSE_MAX_CLAIMS + 1).present


def test_a_very_large_baseline_keeps_its_vectors_in_half_the_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond COMPACT_VECTORS_ABOVE claims the vectors are float16; matching reads them as float32, and
    its scores stay within float16's rounding of the full-precision ones."""
    encoder = CountingEncoder(VectorStore("tiny", 8, tmp_path / "vectors.sqlite3"))
    monkeypatch.setattr(index_module, "EAGER_ENCODE_LIMIT", 0)
    full = BaselineIndex.build(_refs(), encoders=Encoders(english=encoder))
    monkeypatch.setattr(index_module, "COMPACT_VECTORS_ABOVE", 2)
    monkeypatch.setattr(index_module, "SCAN_CHUNK", 4)  # the scan of every claim goes chunk by chunk
    compact = BaselineIndex.build(_refs(), encoders=Encoders(english=encoder))
    assert compact.dense["english"].matrix.dtype == np.float16
    query = compact.encode_queries(NEW[:1])[0]
    everything = compact.dense_similarities(query)["english"]
    some = compact.dense_similarities(query, np.array([4, 1], dtype=np.int32))["english"]
    assert everything.dtype == some.dtype == np.float32
    assert np.allclose(everything, full.dense_similarities(query)["english"], atol=2e-3)
    assert np.array_equal(some, everything[[4, 1]])
    for text in NEW:
        assert ClaimMatcher(compact).match(text).verdict == ClaimMatcher(full).match(text).verdict


def test_baseline_add_says_how_many_claims_copy_an_earlier_one(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import main

    claims = tmp_path / "claims.txt"
    claims.write_text(
        'Khrenin said the "territorial defence" force would have 150,000 volunteers.\n'
        "KHRENIN said the 'territorial defence' force would have 150,000 volunteers\n"
        "Belarus closed two border crossings with Lithuania for freight in October.\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(main, ["--db", db, "init"], catch_exceptions=False).exit_code == 0
    result = runner.invoke(main, ["--db", db, "baseline", "add", "--claims", str(claims)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 baseline claim is worded as an earlier one" in result.output
