"""One exception tree: every exception class of the project is a `MonitorError`, drawn in monitor/errors.py."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import pytest

import monitor.errors
from monitor.errors import MonitorError, error_line

PACKAGES = ("monitor", "alerts", "baseline", "spiders")
# Alembic's environment runs migrations when imported, and `python -m monitor` runs the CLI.
NOT_IMPORTED = ("monitor.storage.migrations", "monitor.__main__")


def _project_modules() -> list[ModuleType]:
    modules = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        modules.append(package)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if not info.name.startswith(NOT_IMPORTED):
                modules.append(importlib.import_module(info.name))
    return modules


def _project_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module in _project_modules():
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = value
    return found


def test_the_project_defines_exceptions_in_several_packages() -> None:
    packages = {name.split(".")[0] for name in _project_exceptions()}
    assert {"monitor", "alerts", "baseline"} <= packages


def test_every_project_exception_is_a_monitor_error() -> None:
    outside = sorted(name for name, cls in _project_exceptions().items() if not issubclass(cls, MonitorError))
    assert not outside, f"not under MonitorError, so the CLI would show a traceback: {outside}"


def test_the_tree_in_monitor_errors_names_every_exception() -> None:
    drawing = monitor.errors.__doc__ or ""
    # A node of the tree: the name at the start of an indented line or after a branch ("├── InputError").
    drawn = set(re.findall(r"(?m)(?:^ {4}|── )([A-Z]\w+)", drawing))
    missing = sorted(name for name, cls in _project_exceptions().items() if cls.__name__ not in drawn)
    assert not missing, f"monitor/errors.py's tree does not show {missing}"


@pytest.mark.parametrize(
    ("error", "options", "line"),
    [
        (OSError("connection refused\nat host db:5432"), {}, "connection refused"),
        (TimeoutError(), {}, "TimeoutError"),
        (ValueError("  bad value  "), {"with_type": True}, "ValueError: bad value"),
        (RuntimeError("x" * 50), {"with_type": True, "limit": 10}, "RuntimeError: " + "x" * 10),
        (KeyError(), {"with_type": True}, "KeyError"),
    ],
)
def test_error_line_is_the_first_line(error: BaseException, options: dict[str, object], line: str) -> None:
    assert error_line(error, **options) == line  # type: ignore[arg-type]
