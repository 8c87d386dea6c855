"""The evaluation gate: matching quality on shared/eval/dev.jsonl must not fall below bench/floors.toml.

Floors are raised when the matcher improves and never quietly lowered. Skips when the shared data is
absent, unless MONITOR_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FLOORS = REPO / "bench" / "floors.toml"


def _shared_dir() -> Path:
    return Path(os.environ.get("MONITOR_SHARED_DIR") or REPO.parent / "shared")


def _bench_matching() -> ModuleType:
    bench = str(REPO / "bench")
    if bench not in sys.path:
        sys.path.insert(0, bench)
    spec = importlib.util.spec_from_file_location("bench_matching", REPO / "bench" / "bench_matching.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dev_figures() -> dict[str, Any]:
    shared = _shared_dir()
    if not (shared / "eval" / "dev.jsonl").is_file() or not (shared / "eval" / "score.py").is_file():
        reason = f"no evaluation data at {shared / 'eval'} (set MONITOR_SHARED_DIR)"
        if os.environ.get("MONITOR_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    figures: dict[str, Any] = _bench_matching().evaluate()
    return figures


def _section() -> str:
    """Floors for the matcher as installed: with the optional semantic stage, or lexical only."""
    from monitor.matching.semantic import load_embeddings

    return "dev" if load_embeddings() is not None else "dev_lexical"


def _floors() -> dict[str, float]:
    data = tomllib.loads(FLOORS.read_text(encoding="utf-8"))
    return {name: float(value) for name, value in data[_section()].items()}


@pytest.mark.parametrize("name", ["top1", "top3", "detection_f1", "verdict_macro_f1"])
def test_dev_figure_stays_above_its_floor(dev_figures: dict[str, Any], name: str) -> None:
    floor = _floors()[name]
    value = float(dev_figures[name])
    assert value >= floor, (
        f"matching.dev.{name} fell to {value:.3f}, below its floor {floor:.2f} ([{_section()}] in {FLOORS.name})"
    )
