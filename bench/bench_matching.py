"""Matching quality on `shared/eval/dev.jsonl`, computed by the evaluation's own `score.py`.

    .venv/bin/python bench/bench_matching.py

The baseline is the bundled corpus (`baseline.loader.load_corpus()`, claim ids 1..N in corpus order);
the inputs are score.py's `--print-sentences` sentences; each result goes through `result_to_json(...,
top_k=3)`, exactly what `monitor check --json --top 3` prints.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from _common import Figures, load_score_module, shared_dir

from baseline.loader import load_corpus
from monitor.cli.check_output import result_to_json
from monitor.matching import BaselineClaimRef, BaselineIndex, ClaimMatcher


def corpus_refs() -> list[BaselineClaimRef]:
    refs: list[BaselineClaimRef] = []
    for article in load_corpus():
        for text in article.claims:
            refs.append(BaselineClaimRef(len(refs) + 1, text, article.title, article.published))
    return refs


def evaluate(matcher: ClaimMatcher | None = None) -> dict[str, Any]:
    """score.py's figures for the matcher (default: the bundled corpus with default settings, i.e. with
    the optional dense stages that are installed)."""
    score = load_score_module()
    pairs_path = shared_dir() / "eval" / "dev.jsonl"
    pairs = [json.loads(line) for line in pairs_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = score.sentences(pairs)
    matcher = matcher or ClaimMatcher(BaselineIndex.build(corpus_refs()))
    outputs = [result_to_json(result, top_k=3) for result in matcher.match_many(sentences, top_k=3)]
    return dict(score.score(pairs, sentences, outputs))


def evaluate_lexical() -> dict[str, Any]:
    """score.py's figures for the matcher without any optional dense stage (what a bare install gets)."""
    return evaluate(ClaimMatcher(BaselineIndex.build(corpus_refs(), semantic=False)))


def _add(figures: Figures, prefix: str, result: dict[str, Any], elapsed: float) -> None:
    figures.add(f"{prefix}.top1", result["top1"], digits=2)
    figures.add(f"{prefix}.top3", result["top3"], digits=2)
    figures.add(f"{prefix}.detection_precision", result["detection_precision"], digits=2)
    figures.add(f"{prefix}.detection_recall", result["detection_recall"], digits=2)
    figures.add(f"{prefix}.detection_f1", result["detection_f1"], digits=2)
    for label, value in result["verdict_f1"].items():
        figures.add(f"{prefix}.verdict_f1.{label}", value, digits=2)
    figures.add(f"{prefix}.verdict_macro_f1", result["verdict_macro_f1"], digits=2)
    figures.add(f"{prefix}.sentences", result["sentences"], "sentences")
    figures.add(f"{prefix}.seconds", elapsed, "s", digits=2)


def main() -> int:
    figures = Figures()
    started = time.perf_counter()
    result = evaluate()
    _add(figures, "matching.dev", result, time.perf_counter() - started)
    # The figures without the optional dense stages too: what the floors' [dev_lexical] section pins.
    started = time.perf_counter()
    result = evaluate_lexical()
    _add(figures, "matching.dev_lexical", result, time.perf_counter() - started)
    figures.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
