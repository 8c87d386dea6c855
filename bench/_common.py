"""Shared by the benchmark scripts: where the shared data lives, and printing/merging the figures.

Each figure is printed as `name: value unit` on its own line and merged into `bench/results.json`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_FILE = BENCH_DIR / "results.json"

if str(REPO_DIR) not in sys.path:  # plain scripts: make the project importable without installing it
    sys.path.insert(0, str(REPO_DIR))


def shared_dir() -> Path:
    """`MONITOR_SHARED_DIR`, else `<repo>/../shared`."""
    return Path(os.environ.get("MONITOR_SHARED_DIR") or REPO_DIR.parent / "shared").resolve()


def load_score_module() -> ModuleType:
    """`eval/score.py` from the shared directory, imported as a module (its `score()` is the reference)."""
    path = shared_dir() / "eval" / "score.py"
    spec = importlib.util.spec_from_file_location("claim_monitor_eval_score", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Figures:
    """Collects figures, prints each as it comes, and merges them all into results.json at the end."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, float | str]] = {}

    def add(self, name: str, value: float, unit: str = "", digits: int = 3) -> None:
        shown = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
        print(f"{name}: {shown}{' ' + unit if unit else ''}", flush=True)
        self.values[name] = {"value": round(value, digits) if isinstance(value, float) else value, "unit": unit}

    def save(self, path: Path = RESULTS_FILE) -> None:
        merged: dict[str, object] = {}
        if path.exists():
            try:
                merged = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                merged = {}
        merged.update(self.values)
        path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n", encoding="utf-8")
