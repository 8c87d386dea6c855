"""docs/architecture.md names real modules: every path and `path.py:Name` on the page exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
# A path of the project (a file or a folder), optionally with a definition in it: `a/b.py:Class.method`.
REFERENCE = re.compile(r"\b((?:monitor|spiders|alerts|baseline|tests)(?:/\w+)*(?:\.py|/))(?::([\w.]+))?")


def _references() -> list[tuple[str, str | None]]:
    return sorted({(match.group(1), match.group(2)) for match in REFERENCE.finditer(PAGE)}, key=str)


def _defines(path: Path, dotted: str) -> bool:
    """Whether `path` defines `dotted` at its top level (`Name`, or `Class.member`)."""
    scope: list[ast.stmt] = ast.parse(path.read_text(encoding="utf-8")).body
    for part in dotted.split("."):
        found = None
        for node in scope:
            names = set()
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                names = {node.name}
            elif isinstance(node, ast.Assign):
                names = {target.id for target in node.targets if isinstance(target, ast.Name)}
            if part in names:
                found = node
        if found is None:
            return False
        scope = found.body if isinstance(found, ast.ClassDef) else []
    return True


def test_the_page_names_the_modules_of_each_step() -> None:
    paths = {path for path, _name in _references()}
    assert len(paths) >= 30
    for step in ("monitor/crawling/runs.py", "monitor/matching/verdict.py", "alerts/outbox.py", "alerts/dispatcher.py"):
        assert step in paths


def test_every_path_on_the_page_exists() -> None:
    missing = [path for path, _name in _references() if not (REPO / path).exists()]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_named_definition_exists() -> None:
    named = [(path, name) for path, name in _references() if name and path.endswith(".py")]
    assert len(named) >= 20
    missing = [f"{path}:{name}" for path, name in named if not _defines(REPO / path, name)]
    assert not missing, f"docs/architecture.md names definitions that do not exist: {missing}"


def test_a_name_that_is_not_defined_is_caught() -> None:
    assert _defines(REPO / "monitor/errors.py", "MonitorError")
    assert not _defines(REPO / "monitor/errors.py", "MonitorError.no_such_member")
    assert not _defines(REPO / "monitor/errors.py", "NoSuchError")
