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


# Each floors section: the configuration it pins (see bench_matching.CONFIGURATIONS) and the file.
SECTIONS = {
    "dev": ("dev", "dev"),
    "dev_e5": ("dev_e5", "dev"),
    "dev_static": ("dev_static", "dev"),
    "dev_lexical": ("dev_lexical", "dev"),
    "cyrillic": ("dev", "cyrillic"),
}


def _evaluate(section: str) -> dict[str, Any]:
    """The figures of the matcher configuration a floors section pins: [dev] the default matcher with
    both sentence encoders, [dev_e5] the multilingual one alone, [dev_static] no encoder but the static
    vectors, [dev_lexical] no optional dense stage; [cyrillic] the default on dev-cyrillic.jsonl."""
    configuration, which = SECTIONS[section]
    result = _bench_matching().evaluate_configuration(configuration, which)
    if result is None:
        pytest.skip(f"the packages of the {configuration} configuration are not installed")
    return dict(result)


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


def _pinned() -> list[tuple[str, str]]:
    """Every (section, figure) bench/floors.toml pins, for the sections this gate knows."""
    data = tomllib.loads(FLOORS.read_text(encoding="utf-8"))
    return [(section, name) for section in SECTIONS for name in data.get(section, {})]


@pytest.mark.parametrize(("section", "name"), _pinned())
def test_dev_figure_stays_within_its_floor(section: str, name: str) -> None:
    bound = _floors(section)[name]
    figures = _figures(section)
    if name == "negatives_alerting_max":
        assert figures["negatives_alerting"] <= bound, (
            f"{figures['negatives_alerting']} of {figures['negatives']} negatives raise an alert in [{section}], "
            f"above the ceiling {bound:g} ({FLOORS.name})"
        )
        return
    # A verdict's own F1 is pinned as verdict_f1_<label> (issue 12 asks updated and contradicted >= 0.55).
    label = name.removeprefix("verdict_f1_")
    value = float(figures["verdict_f1"][label] if label != name else figures[name])
    assert value >= bound, (
        f"matching.{section}.{name} fell to {value:.3f}, below its floor {bound:.2f} ([{section}] in {FLOORS.name})"
    )
