"""Verified-claim retrieval on CLEF CheckThat! 2020 task 2 (English), `dev` split by default.

    .venv/bin/python bench/bench_checkthat.py [--split dev|train]

The 10,375 verified claims are the baseline (as `monitor baseline add --claims` would import them:
the claim text, with the fact-check's title as its source, indexed as the claim's context); each tweet
is a new claim, ranked with `ClaimMatcher` (top 5 candidates).
Prints MAP@1/3/5, P@1, index build time and queries per second. With the sentence encoder installed,
every verified claim is encoded when the index is built (most of the build time); `--lexical` measures
the matcher without the optional dense stages.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from _common import Figures, shared_dir

from monitor.matching import BaselineClaimRef, BaselineIndex, ClaimMatcher

csv.field_size_limit(10_000_000)


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def load_split(split: str) -> tuple[list[BaselineClaimRef], dict[str, str], dict[str, set[str]]]:
    """(verified claims as baseline refs, tweets by id, gold vclaim ids by tweet id)."""
    root = shared_dir() / "benchmarks" / "checkthat2020"
    refs = [
        BaselineClaimRef(claim_id=number, text=row["vclaim"], article=row["title"], external_id=row[""].strip())
        for number, row in enumerate(read_tsv(root / "verified_claims.docs.tsv"), start=1)
    ]
    tweets = {row[""].strip(): row["tweet_content"] for row in read_tsv(root / split / "tweets.queries.tsv")}
    gold: dict[str, set[str]] = {}
    for line in (root / split / "tweet-vclaim-pairs.qrels").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == "1":
            gold.setdefault(parts[0], set()).add(parts[2])
    return refs, tweets, gold


def average_precision(ranked: Sequence[str], relevant: set[str], depth: int) -> float:
    hits = 0
    total = 0.0
    for rank, item in enumerate(ranked[:depth], start=1):
        if item in relevant:
            hits += 1
            total += hits / rank
    return total / min(len(relevant), depth) if relevant else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--split", default="dev", choices=["dev", "train"])
    parser.add_argument("--lexical", action="store_true", help="without the optional dense stages")
    args = parser.parse_args(argv)
    refs, tweets, gold = load_split(args.split)
    figures = Figures()
    started = time.perf_counter()
    # The fact-check's title restates the claim in other words: index it with the claim.
    if args.lexical:
        index = BaselineIndex.build(refs, context=lambda ref: ref.article)
    else:
        index = BaselineIndex.build_with_installed(refs, context=lambda ref: ref.article)
    build_name = "checkthat.index_build" + (".lexical" if args.lexical else "")
    figures.add(build_name, time.perf_counter() - started, "s", digits=2)
    matcher = ClaimMatcher(index)
    queries = [(tweet_id, text) for tweet_id, text in tweets.items() if tweet_id in gold]
    started = time.perf_counter()
    results = matcher.match_many([text for _, text in queries], top_k=5)
    elapsed = time.perf_counter() - started
    scores = {depth: 0.0 for depth in (1, 3, 5)}
    precision_at_1 = 0.0
    for (tweet_id, _), result in zip(queries, results, strict=True):
        ranked = [candidate.ref.external_id or "" for candidate in result.candidates]
        for depth in scores:
            scores[depth] += average_precision(ranked, gold[tweet_id], depth)
        precision_at_1 += bool(ranked) and ranked[0] in gold[tweet_id]
    count = max(len(queries), 1)
    prefix = f"checkthat.{args.split}" + (".lexical" if args.lexical else "")
    for depth, total in scores.items():
        figures.add(f"{prefix}.map@{depth}", total / count)
    figures.add(f"{prefix}.p@1", precision_at_1 / count)
    figures.add(f"{prefix}.queries", len(queries), "queries")
    figures.add(f"{prefix}.queries_per_second", len(queries) / max(elapsed, 1e-9), "queries/s", digits=1)
    figures.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
