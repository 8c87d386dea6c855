"""The folders show the architecture: few loose modules, no import cycle, one door from monitor into spiders."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("monitor", "alerts", "baseline", "spiders")
# The crawl's child process is started from here, with the one function `monitor` may import of `spiders`.
DOOR = ("monitor.crawling.runs", "spiders.run")
MAX_LOOSE_MODULES = 5


def _modules() -> dict[str, Path]:
    """Every module of the project by dotted name (migration scripts are data for Alembic, not modules)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(modules: dict[str, Path], *, at_import_time: bool = False) -> dict[str, set[str]]:
    """module -> the project modules it imports anywhere in its code (at the top or inside a function), or
    with `at_import_time` only those its top-level statements import (what runs when it is imported)."""

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = _top_level(tree) if at_import_time else ast.walk(tree)
        for node in nodes:
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        found = {owner(target) for target in targets} - {None, name}
        # A package's own __init__ runs before its modules anyway: importing it from inside is no arrow.
        graph[name] = {target for target in found if target is not None and not name.startswith(f"{target}.")}
    return graph


def _top_level(tree: ast.Module) -> list[ast.AST]:
    """The statements Python runs when it imports the module: the top level, into `if`/`try` blocks but
    not into functions, classes' methods or `if TYPE_CHECKING:`."""
    found: list[ast.AST] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, ast.If) and not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            pending.extend([*node.body, *node.orelse])
        elif isinstance(node, ast.Try):
            pending.extend([*node.body, *node.orelse, *node.finalbody])
            for handler in node.handlers:
                pending.extend(handler.body)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_monitor_keeps_few_loose_modules() -> None:
    loose = sorted(path.name for path in (REPO / "monitor").glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, f"monitor/ holds {len(loose)} loose modules: {loose}"


# Loops that close only through an import inside a function (so Python never meets them while importing),
# each left to its part's owner: the matcher's encoder registry imports the encoders it builds on demand,
# and they import the registry's base class. Any other loop, import-time or not, fails the test.
KNOWN_LAZY_LOOPS = [["monitor.matching.encoder", "monitor.matching.encoders", "monitor.matching.multilingual"]]


def test_no_import_cycle() -> None:
    graph = _imports(_modules())
    assert len(graph) > 100, "the project's modules were not found"
    unexpected = [cycle for cycle in _cycles(graph) if cycle not in KNOWN_LAZY_LOOPS]
    assert unexpected == []


def test_no_import_cycle_when_python_imports_the_modules() -> None:
    assert _cycles(_imports(_modules(), at_import_time=True)) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_monitor_reaches_spiders_through_one_door() -> None:
    graph = _imports(_modules())
    crossings = sorted(
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if module.split(".")[0] == "monitor" and target.split(".")[0] == "spiders"
    )
    assert crossings == [DOOR]
    door = ast.parse(_modules()[DOOR[0]].read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(door)
        if isinstance(node, ast.ImportFrom) and node.module == DOOR[1]
        for alias in node.names
    ]
    assert imported == ["run_crawl_job"]
