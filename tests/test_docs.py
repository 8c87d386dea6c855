"""The README documents every setting and every CLI verb (a test, as datasette does it)."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli import main
from monitor.config import setting_names

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _verbs(group: click.Group, prefix: str = "monitor") -> list[str]:
    verbs = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        verbs.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            verbs.extend(_verbs(command, f"{prefix} {name}"))
    return verbs


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [name for name in setting_names() if f"`{name}`" not in README]
    assert not missing, f"README's configuration table lacks {missing}"


def test_every_cli_verb_is_documented() -> None:
    missing = []
    for verb in _verbs(main):
        words = verb.split()
        # A sub-verb may be listed after its group, as in "`monitor sources list` / `sources remove URL`".
        if verb not in README and " ".join(words[1:]) not in README:
            missing.append(verb)
    assert not missing, f"README does not document {missing}"


def test_readme_gives_the_two_setup_commands() -> None:
    assert "make run" in README
    assert "make test" in README
