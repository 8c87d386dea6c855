"""The CLI's verbs cannot vanish, and its errors are the project's own: one line, or a real traceback."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from baseline.loader import BaselineFileError
from monitor.cli import MonitorGroup, main
from monitor.service.run import ServiceError

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _documented_verbs() -> list[tuple[str, ...]]:
    """Every verb of the README's command table: `monitor sources list` / `sources remove URL` -> two."""
    verbs: list[tuple[str, ...]] = []
    for line in README.splitlines():
        if not line.startswith("| `monitor "):
            continue
        for text in re.findall(r"`([^`]+)`", line.split(" | ")[0]):
            words = text.split()
            words = words[1:] if words[0] == "monitor" else words
            verb: list[str] = []
            for word in words:
                if not re.fullmatch(r"[a-z]+", word):
                    break
                verb.append(word)
            if verb and tuple(verb) not in verbs:
                verbs.append(tuple(verb))
    return verbs


def test_the_readme_table_lists_the_verbs() -> None:
    verbs = _documented_verbs()
    assert ("init",) in verbs and ("sources", "disable") in verbs and ("alerts", "retry") in verbs
    assert len(verbs) >= 24


@pytest.mark.parametrize("verb", _documented_verbs(), ids=" ".join)
def test_every_documented_verb_exists_and_shows_its_help(verb: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*verb, "--help"], prog_name="monitor")
    assert result.exit_code == 0, result.output
    assert "Usage: monitor " + " ".join(verb) in result.output


def test_the_verb_table_gives_each_verb_its_own_help() -> None:
    from monitor.cli import VERBS, load_verb

    for name, entry in VERBS.items():
        command = load_verb(entry)
        assert command.name == name and command.get_short_help_str(limit=300) == entry[2], name


def test_help_imports_no_verb_module() -> None:
    script = "import sys; from monitor.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit: pass\n"
    script += "print(sorted(m for m in sys.modules if m.startswith(('monitor.cli.', 'monitor.storage', 'sqlalchemy'))))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


# A verb module that cannot be imported, as after a rename: ModuleNotFoundError naming the module itself is
# the case the old registry took for "a verb still being built" and skipped without a word.
_BROKEN_VERB = """
import importlib.abc, sys

class BrokenVerb(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "monitor.cli.digest":
            raise {error}
        return None

sys.meta_path.insert(0, BrokenVerb())
from monitor.cli import main
main(["--help"], prog_name="monitor")
"""


@pytest.mark.parametrize(
    "error",
    [
        "ModuleNotFoundError(\"No module named 'monitor.cli.digest'\", name='monitor.cli.digest')",
        "ImportError(\"cannot import name 'send_digest' from 'alerts.digest'\")",
    ],
    ids=["module-gone", "import-inside-broken"],
)
def test_a_verb_whose_module_fails_to_import_stops_monitor_at_start_up(error: str) -> None:
    script = textwrap.dedent(_BROKEN_VERB).format(error=error)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, "monitor started without its digest verb"
    assert "Commands:" not in result.stdout
    assert "monitor.cli.digest" in result.stderr or "send_digest" in result.stderr


def _group_raising(error: BaseException) -> MonitorGroup:
    @click.command()
    def fail() -> None:
        raise error

    group = MonitorGroup()
    group.add_command(fail)
    return group


@pytest.mark.parametrize(
    "error",
    [BaselineFileError("page.html: the file is empty"), ServiceError("the web app cannot listen on 127.0.0.1:1")],
    ids=["input", "not-input"],
)
def test_a_project_error_is_its_one_line_and_exit_status_1(error: Exception) -> None:
    result = CliRunner().invoke(_group_raising(error), ["fail"])
    assert result.exit_code == 1
    assert result.output == f"Error: {error}\n"


def test_an_error_that_is_not_the_projects_is_not_turned_into_a_message() -> None:
    # A ValueError from a library is a bug to report with its traceback, not a user's mistake to print.
    result = CliRunner().invoke(_group_raising(ValueError("math domain error")), ["fail"])
    assert isinstance(result.exception, ValueError)
    assert "Error: math domain error" not in result.output
