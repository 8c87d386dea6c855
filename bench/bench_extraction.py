"""Article extraction quality on the Zyte article-extraction benchmark (181 real pages with gold text).

The metric is the benchmark's own: precision, recall and F1 over word 4-gram shingles of the extracted
body against `articleBody`, each page's counts normalised to sum 1, precision and recall averaged over
pages, F1 from the averages. Pages go through the crawler's own path: bytes -> `decode_html` ->
`extract_article`. Run: `.venv/bin/python bench/bench_extraction.py`.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from _common import Figures, shared_dir

from monitor.text.decode import decode_html
from spiders.extraction import extract_article

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)
Shingle = tuple[str, ...]


def _shingles(text: str, size: int = 4) -> Counter[Shingle]:
    tokens = _TOKEN_RE.findall(text or "")
    return Counter(tuple(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1)) if tokens[i : i + size])


def shingle_counts(true: str, predicted: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over 4-gram shingles, normalised so each page weighs the same."""
    expected, found = _shingles(true), _shingles(predicted)
    tp = fp = fn = 0.0
    for key in expected.keys() | found.keys():
        want, got = expected.get(key, 0), found.get(key, 0)
        tp += min(want, got)
        fp += max(0, got - want)
        fn += max(0, want - got)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def evaluate(folder: Path) -> tuple[float, float, float, float]:
    """(precision, recall, f1, seconds per page) of `extract_article` over the benchmark in `folder`."""
    gold = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    counts: list[tuple[float, float, float]] = []
    elapsed = 0.0
    for key, expected in gold.items():
        body = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
        started = time.perf_counter()
        page = extract_article(decode_html(body, "text/html"), expected.get("url") or f"https://example.org/{key}")
        elapsed += time.perf_counter() - started
        counts.append(shingle_counts(expected.get("articleBody", ""), page.text if page else ""))
    precision = statistics.mean(_precision(*c) for c in counts if c[0] + c[1] > 0)
    recall = statistics.mean(_recall(*c) for c in counts if c[0] + c[2] > 0)
    f1 = 2 * precision * recall / (precision + recall)
    return precision, recall, f1, elapsed / len(gold)


def main() -> int:
    folder = shared_dir() / "benchmarks" / "article-extraction"
    if not (folder / "ground-truth.json").is_file():
        print(f"bench_extraction: no benchmark at {folder} (set MONITOR_SHARED_DIR)", file=sys.stderr)
        return 1
    precision, recall, f1, seconds = evaluate(folder)
    figures = Figures()
    figures.add("extraction.f1", f1)
    figures.add("extraction.precision", precision)
    figures.add("extraction.recall", recall)
    figures.add("extraction.ms_per_page", seconds * 1000, "ms", digits=1)
    figures.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
