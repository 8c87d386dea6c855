"""`monitor check` through click's CliRunner, with a stand-in group that provides the baseline."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from monitor.cli.check import check
from monitor.matching import BaselineClaimRef

BASELINE = [
    BaselineClaimRef(1, "Belarus has about 6,000 soldiers stationed near the Ukrainian border at Brest.", "Brief"),
    BaselineClaimRef(
        2, "Minsk will hand over two Su-25 attack aircraft to the Russian air force next spring.", "Brief"
    ),
    BaselineClaimRef(
        3, "Lukashenko said that Belarus would never send its army into Ukraine.", "Brief", external_id="x-3"
    ),
]


@dataclass
class StandInContext:
    refs: list[BaselineClaimRef] = field(default_factory=lambda: list(BASELINE))

    def load_baseline_refs(self) -> list[BaselineClaimRef]:
        return self.refs


def make_cli(refs: list[BaselineClaimRef] | None = None) -> click.Group:
    @click.group()
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        ctx.obj = StandInContext(list(BASELINE) if refs is None else refs)

    cli.add_command(check)
    return cli


def run(args: list[str], stdin: str | bytes, refs: list[BaselineClaimRef] | None = None) -> click.testing.Result:
    return CliRunner().invoke(make_cli(refs), ["check", *args], input=stdin)


def test_one_claim_a_line_as_json_in_input_order() -> None:
    stdin = "Belarus now has around 9,500 soldiers near the Ukrainian border.\n\n  \nArgentina raised rates.\n"
    result = run(["--json"], stdin)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["text"] for line in lines] == [
        "Belarus now has around 9,500 soldiers near the Ukrainian border.",
        "Argentina raised rates.",
    ]
    assert lines[0]["verdict"] == "updated" and lines[0]["baseline"]["claim_id"] == 1
    assert lines[0]["evidence"]["changed"] == [["about 6,000", "around 9,500"]]
    assert lines[1]["verdict"] == "none" and lines[1]["baseline"] is None
    assert "candidates" not in lines[0]


def test_top_k_adds_candidates() -> None:
    result = run(["--json", "--top", "2"], "Lukashenko has sent the Belarusian army into Ukraine.\n")
    (line,) = [json.loads(text) for text in result.output.splitlines()]
    assert line["verdict"] == "contradicted"
    assert len(line["candidates"]) == 2
    assert line["candidates"][0] == {
        "claim_id": 3,
        "external_id": "x-3",
        "claim": BASELINE[2].text,
        "score": line["score"],
    }


def test_table_without_json() -> None:
    result = run([], "Minsk has handed over two Su-25 attack aircraft to the Russian air force.\n")
    assert result.exit_code == 0
    assert "UPDATED" in result.output and "status moved" in result.output and "[[" in result.output


def test_article_in_plain_text_is_split_into_claims() -> None:
    article = (
        "Belarus now has around 9,500 soldiers stationed near the Ukrainian border, officials said.\n\n"
        "Lukashenko has sent the Belarusian army into Ukraine, according to the opposition.\n"
    )
    result = run(["--article", "--json"], article)
    assert result.exit_code == 0, result.output
    verdicts = [json.loads(line)["verdict"] for line in result.output.splitlines()]
    assert "updated" in verdicts and "contradicted" in verdicts


def test_article_in_html() -> None:
    paragraphs = "".join(
        f"<p>{text}</p>"
        for text in [
            "Belarus now has around 9,500 soldiers stationed near the Ukrainian border, officials said on Monday.",
            "Lukashenko has sent the Belarusian army into Ukraine, according to the exiled opposition in Vilnius.",
            "Minsk has handed over two Su-25 attack aircraft to the Russian air force, a defence source said.",
        ]
    )
    html = f"<!doctype html><html><head><title>News</title></head><body><article>{paragraphs}</article></body></html>"
    result = run(["--article", "--json"], html)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines and all("<" not in line["text"] for line in lines)


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("", "no input"),
        ("  \n\n", "no input"),
        (b"Belarus\x00has soldiers\n", "binary"),
        (b"\xff\xfe\xfa\xfb\n", "not UTF-8"),
        ("x" * 5_000_000 + "\n", "longer than 1 MB"),
    ],
)
def test_bad_input_is_one_clear_line_and_status_1(stdin: str | bytes, message: str) -> None:
    result = run([], stdin)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_article_with_a_huge_line_is_refused() -> None:
    result = run(["--article"], "word " * 1_100_000)
    assert result.exit_code == 1 and "longer than 1 MB" in result.output


def test_empty_baseline_says_what_to_do() -> None:
    result = run([], "Belarus has soldiers near the border.\n", refs=[])
    assert result.exit_code == 1 and "monitor init" in result.output


def test_negative_top_is_a_usage_error() -> None:
    result = run(["--top", "-1"], "Belarus has soldiers.\n")
    assert result.exit_code == 2


def test_top_k_lists_the_candidates_in_the_table_too() -> None:
    result = run(["--top", "3"], "Lukashenko has sent the Belarusian army into Ukraine.\n")
    assert result.exit_code == 0, result.output
    assert "   best 2:" in result.output  # only two baseline claims share a word with it
    assert f"     1. 100.0  #3  {BASELINE[2].text}" in result.output
    assert f"  #1  {BASELINE[0].text}" in result.output
    assert "best" not in run([], "Lukashenko has sent the Belarusian army into Ukraine.\n").output


def test_on_a_terminal_it_says_what_it_waits_for(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    missing = tmp_path / "none.db"
    with subprocess.Popen(
        [sys.executable, "-m", "monitor", "check", "--db", f"sqlite:///{missing}"],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        os.close(follower)
        assert process.stderr is not None
        prompt = process.stderr.readline()  # printed before stdin is read
        os.write(leader, b"Belarus has troops.\n\x04")
        _out, rest = process.communicate(timeout=60)
    os.close(leader)
    assert prompt == "Type or paste claims, one a line; end with Ctrl-D.\n"
    assert f"no database at {missing}" in rest
