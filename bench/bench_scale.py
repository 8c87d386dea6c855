"""Matching at scale: 100,000 baseline claims, 10,000 new claims (synthetic, from real sentences).

    .venv/bin/python bench/bench_scale.py [--quick]

Baseline claims are real claim sentences (CheckThat! 2020 verified claims and the bundled corpus)
recombined deterministically: figures re-drawn, names swapped, a clause of another claim appended, an
attribution added. New claims are perturbed copies of baseline claims (a figure changed, a word dropped,
a negation added, the attribution moved) and unrelated sentences (claims held out of the baseline).

Prints the one-off encoding of the baseline (its sentence vectors, computed once when a baseline is added,
as `monitor baseline add` does: here into a fresh vector store, so nothing kept by an earlier run counts),
index build time (reading those vectors back), claims matched per second and the seconds the new claims
take, peak RSS, recall@1 of the indexed path against an exhaustive scan with the same final scorer (on a
sample). (One 2,000-word article against the 3-article baseline: `bench_article.py`.) `--quick` uses a
tenth of the sizes; `--lexical` leaves out the optional dense stages (the sentence encoder is used up to
`index.DENSE_MAX_CLAIMS` baseline claims, the static vectors where it is not installed).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import sys
import tempfile
import time
from collections.abc import Sequence

import numpy as np
from _common import Figures
from bench_checkthat import load_split
from bench_matching import corpus_refs

from monitor.matching import BaselineClaimRef, BaselineIndex, ClaimMatcher, analyze_claim
from monitor.matching.index import encode_baseline, installed_encoders
from monitor.matching.scoring import exhaustive_scores, overlap_scores, unknown_weight

SEED = 20_221_221
NAMES = [
    "Belarus",
    "Russia",
    "Ukraine",
    "Poland",
    "Lithuania",
    "Latvia",
    "Moscow",
    "Minsk",
    "Kyiv",
    "Warsaw",
    "Lukashenko",
    "Putin",
    "Zelensky",
    "Shoigu",
    "Khrenin",
    "the Kremlin",
    "NATO",
    "the Pentagon",
]
ATTRIBUTIONS = [
    "According to Ukrainian intelligence, ",
    "Officials said that ",
    "Reports suggest that ",
    "Analysts believe that ",
    "The ministry claimed that ",
    "Local media reported that ",
]
_NAME = re.compile(r"\b(" + "|".join(re.escape(name) for name in NAMES) + r")\b")
_NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")


def _clause(rng: random.Random, sentence: str) -> str:
    words = sentence.rstrip(".!?").split()
    start = rng.randrange(0, max(1, len(words) - 8))
    return " ".join(words[start : start + rng.randint(6, 12)])


def _vary(rng: random.Random, sentence: str, pool: Sequence[str]) -> str:
    text = sentence
    if rng.random() < 0.5:
        text = _NUMBER.sub(lambda _: f"{rng.randint(2, 150) * 100:,}", text)
    if rng.random() < 0.5:
        text = _NAME.sub(lambda _: rng.choice(NAMES), text)
    if rng.random() < 0.3:
        text = f"{text.rstrip('.!?')}, while {_clause(rng, rng.choice(pool))}."
    if rng.random() < 0.2:
        text = rng.choice(ATTRIBUTIONS) + text[:1].lower() + text[1:]
    return text


def _perturb(rng: random.Random, sentence: str) -> str:
    words = sentence.split()
    choice = rng.random()
    if choice < 0.25 and _NUMBER.search(sentence):
        return _NUMBER.sub(lambda m: f"{rng.randint(2, 150) * 100:,}", sentence, count=1)
    if choice < 0.5 and len(words) > 6:
        del words[rng.randrange(len(words))]
        return " ".join(words)
    if choice < 0.65:
        for index, word in enumerate(words):
            if word in ("is", "are", "was", "were", "has", "have", "will"):
                words.insert(index + 1, "not")
                return " ".join(words)
    if choice < 0.8:
        return f"{sentence.rstrip('.!?')}, {rng.choice(['officials said', 'the report said', 'he added'])}."
    return sentence.replace(",", "").replace("  ", " ")


def make_data(sizes: tuple[int, int]) -> tuple[list[BaselineClaimRef], list[str], list[str]]:
    """(baseline refs, new claims, the 3-article corpus sentences), deterministic for a given size."""
    baseline_size, new_size = sizes
    rng = random.Random(SEED)
    checkthat, _, _ = load_split("dev")
    corpus = [ref.text for ref in corpus_refs()]
    sentences = [ref.text for ref in checkthat] + corpus
    rng.shuffle(sentences)
    held_out, pool = sentences[:1500], sentences[1500:]
    baseline = [
        BaselineClaimRef(number, _vary(rng, rng.choice(pool), pool), "synthetic")
        for number in range(1, baseline_size + 1)
    ]
    related = [_perturb(rng, rng.choice(baseline).text) for _ in range(int(new_size * 0.7))]
    unrelated = [_vary(rng, rng.choice(held_out), held_out) for _ in range(new_size - len(related))]
    new = related + unrelated
    rng.shuffle(new)
    return baseline, new, corpus


def recall_at_1(matcher: ClaimMatcher, queries: Sequence[str]) -> float:
    """Share of queries whose indexed best claim scores as high as the exhaustive scan's best.

    Where every claim has its sentence vector (or there is none), the exhaustive scan applies the same
    final score to every claim. Where sentence vectors are computed lazily (a large baseline), the dense
    stage only re-orders the candidates retrieval found, so retrieval is measured on the lexical score:
    the best lexical score among the candidates against the best over every claim."""
    index = matcher.index
    hits = 0
    for text in queries:
        analysis = analyze_claim(text, index.lexicon)
        ranked = matcher.rank(analysis)
        query = index.query_terms(analysis)
        _, _, shared = index.accumulate(query)
        units = np.arange(index.unit_count, dtype=np.int32)
        overlap = overlap_scores(index, query, shared.astype(np.float32), units, unknown_weight(index, query))
        static = index.similarities(index.claim_vector(analysis))
        if index.has_encoder and not index.fully_encoded:
            full = exhaustive_scores(index, " ".join(analysis.terms), overlap, None, None)
            got = max((100 * candidate.lexical for candidate in ranked), default=0.0)
        else:
            dense = index.dense_similarities(index.encode_queries([text])[0])
            full = exhaustive_scores(
                index, " ".join(analysis.terms), overlap, dense.get("english"), static, dense.get("multilingual")
            )
            got = ranked[0].score if ranked else 0.0
        best = float(full.max()) if len(full) else 0.0
        hits += bool(ranked) and got >= best - 1e-3
    return hits / max(len(queries), 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10,000 baseline claims, 1,000 new claims")
    parser.add_argument("--lexical", action="store_true", help="without the optional dense stages")
    parser.add_argument(
        "--cache-dir",
        help="the cache directory to keep the baseline's vectors in (default: a fresh one, so the one-off "
        "encoding is measured whole); an earlier, interrupted run's directory resumes its encoding",
    )
    args = parser.parse_args(argv)
    sizes = (10_000, 1_000) if args.quick else (100_000, 10_000)
    samples = 100 if args.quick else 500
    prefix = ("scale.quick" if args.quick else "scale") + (".lexical" if args.lexical else "")
    figures = Figures()
    baseline, new, _ = make_data(sizes)
    figures.add(f"{prefix}.baseline_claims", len(baseline), "claims")
    figures.add(f"{prefix}.new_claims", len(new), "claims")

    if not args.lexical:
        # The one-off cost of a new baseline (or model): every claim's sentence vectors, into a vector
        # store of this run's own, as `monitor baseline add` computes them.
        os.environ["XDG_CACHE_HOME"] = args.cache_dir or tempfile.mkdtemp(prefix="bench-scale-cache-")
        started = time.perf_counter()
        encoded = encode_baseline([ref.text for ref in baseline], installed_encoders(len(baseline)))
        figures.add(f"{prefix}.baseline_encoding", time.perf_counter() - started, "s", digits=1)
        figures.add(f"{prefix}.baseline_encoded_claims", sum(encoded.values()), "claims")
    started = time.perf_counter()
    index = BaselineIndex.build(baseline) if args.lexical else BaselineIndex.build_with_installed(baseline)
    figures.add(f"{prefix}.index_build", time.perf_counter() - started, "s", digits=2)
    matcher = ClaimMatcher(index)

    started = time.perf_counter()
    results = matcher.match_many(new)
    elapsed = time.perf_counter() - started
    figures.add(f"{prefix}.match_seconds", elapsed, "s", digits=1)
    figures.add(f"{prefix}.claims_per_second", len(new) / elapsed, "claims/s", digits=1)
    figures.add(f"{prefix}.matched_share", sum(r.verdict != "none" for r in results) / len(results), digits=2)

    rng = random.Random(SEED + 1)
    sample = rng.sample(new, min(samples, len(new)))
    started = time.perf_counter()
    figures.add(f"{prefix}.recall_at_1_vs_exhaustive", recall_at_1(matcher, sample), digits=3)
    figures.add(f"{prefix}.exhaustive_seconds_per_query", (time.perf_counter() - started) / len(sample), "s")
    figures.add(f"{prefix}.peak_rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MB", digits=0)

    figures.add(f"{prefix}.vectors", int(index.vectors is not None), "semantic")
    figures.add(f"{prefix}.sentence_encoder", int(index.has_encoder), "semantic")
    figures.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
