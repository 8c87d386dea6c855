"""The CLI end to end through click's runner: set-up, baseline, watch terms, sources and every bad-input case."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import main
from monitor.storage.engine import make_engine, migrate

ARTICLE_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Belarus moves air defence units north | Example News</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Belarus moves air defence units north</h1>
<p>Belarus moved two S-400 battalions to the Mozyr area on 3 March 2023, the defence ministry in Minsk said.</p>
<p>The ministry said the deployment was part of joint drills with Russia that will last until the end of March.</p>
<p>Ukrainian officials said they had seen no sign of Belarusian troops massing near the border.</p>
</article><footer>Subscribe to our newsletter!</footer></body></html>"""


def empty_database(url: str) -> str:
    """`url` with the schema and nothing else (every verb but `init` and `run` refuses a missing file)."""
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture
def db(tmp_path: Path) -> str:
    return empty_database(f"sqlite:///{tmp_path / 'cli.db'}")


Invoke = Callable[..., Result]


@pytest.fixture
def run(db: str) -> Iterator[Invoke]:
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(main, ["--db", db, *args], input=input, catch_exceptions=False)

    yield invoke


def _claims(run: Invoke) -> list[dict[str, object]]:
    result = run("baseline", "claims", "--json")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def _assert_one_line_error(result: Result, *fragments: str, status: int = 1) -> None:
    assert result.exit_code == status, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_init_twice_gives_the_same_baseline(run: Invoke) -> None:
    first = run("init")
    assert first.exit_code == 0, first.output
    assert "Baseline: 3 articles" in first.output
    claims = _claims(run)
    second = run("init")
    assert second.exit_code == 0
    assert "nothing to change" in second.output
    assert _claims(run) == claims
    assert len(claims) > 40
    assert {"claim_id", "claim", "article", "published"} <= set(claims[0])


def test_baseline_list_shows_the_three_reference_articles(run: Invoke) -> None:
    run("init")
    result = run("baseline", "list")
    assert result.exit_code == 0
    for title in (
        "Will Belarus Deploy Troops To Ukraine?",
        "Will Belarus Join Forces With Russia In Ukraine?",
        "Will Belarus Really Join Russia’s War In Ukraine In 2023?",
    ):
        assert title in result.output
    assert "CDMedia" in result.output


def test_baseline_add_a_text_file(run: Invoke, tmp_path: Path) -> None:
    run("init")
    before = len(_claims(run))
    path = tmp_path / "note.txt"
    path.write_text(
        "Belarus has started building a new air base near Mozyr, officials said on Monday.\n\n"
        "The base will host 12 Su-30SM fighters by the end of 2023.\n"
    )
    result = run("baseline", "add", str(path), "--title", "Air base note", "--published", "2023-01-09")
    assert result.exit_code == 0, result.output
    claims = _claims(run)
    added = [claim for claim in claims if claim["article"] == "Air base note"]
    assert len(claims) == before + len(added) and len(added) == 2
    assert added[0]["published"] == "2023-01-09"
    again = run("baseline", "add", str(path))
    _assert_one_line_error(again, "has this already")


class _ArticleHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/article":
            body = ARTICLE_HTML.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            body = b"gone"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def article_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ArticleHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_baseline_add_a_url(run: Invoke, article_server: str) -> None:
    result = run("baseline", "add", f"{article_server}/article", "--outlet", "Example News")
    assert result.exit_code == 0, result.output
    listing = run("baseline", "list").output
    assert "Belarus moves air defence units north" in listing
    texts = [str(claim["claim"]) for claim in _claims(run)]
    assert any("S-400 battalions" in text for text in texts)
    assert not any("Subscribe" in text or "Home" in text for text in texts)


def test_baseline_add_a_url_that_fails(run: Invoke, article_server: str) -> None:
    result = run("baseline", "add", f"{article_server}/missing")
    _assert_one_line_error(result, "404")
    assert _claims(run) == []


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "empty"), (b"   \n\n  ", "empty"), (b"\x00\x01\x02\xff\xfe" * 200, "binary")],
)
def test_baseline_add_rejects_empty_and_binary_files(
    run: Invoke, tmp_path: Path, content: bytes, fragment: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    result = run("baseline", "add", str(path))
    _assert_one_line_error(result, "bad.txt")
    assert fragment in result.stderr.lower()
    assert _claims(run) == []


def test_baseline_add_rejects_a_url_that_is_not_http(run: Invoke) -> None:
    result = run("baseline", "add", "ftp://example.org/article.txt")
    _assert_one_line_error(result, "not an http(s) URL")
    assert _claims(run) == []


def test_baseline_add_a_missing_file(run: Invoke, tmp_path: Path) -> None:
    _assert_one_line_error(run("baseline", "add", str(tmp_path / "nope.txt")), "no such file")


def test_baseline_add_needs_exactly_one_input(run: Invoke) -> None:
    result = run("baseline", "add")
    assert result.exit_code == 2


def test_watch_terms(run: Invoke) -> None:
    run("init")
    result = run("watch", "add", "Wagner", "--alias", "Вагнер", "--alias", "PMC Wagner")
    assert result.exit_code == 0, result.output
    listing = run("watch", "list").output
    assert "Wagner" in listing and "Вагнер" in listing and "Лукашенко" in listing
    assert run("watch", "remove", "wagner").exit_code == 0
    assert "Wagner" not in run("watch", "list").output
    _assert_one_line_error(run("watch", "remove", "wagner"), "no watch term")


def test_watch_edit_pause_resume_and_the_duplicate_advice_that_works(run: Invoke) -> None:
    assert run("watch", "add", "Wagner", "--alias", "Вагнер").exit_code == 0
    duplicate = run("watch", "add", "wagner")
    _assert_one_line_error(duplicate, "monitor watch edit 'wagner' --add-alias A")
    advice = duplicate.stderr.split("`")[1].replace("'wagner'", "wagner").replace(" A", " PMC").split()[1:]
    assert run(*advice).exit_code == 0  # the advice runs as given
    assert run("watch", "edit", "WAGNER", "--remove-alias", "вагнер").output == "'Wagner': aliases PMC.\n"
    _assert_one_line_error(run("watch", "edit", "Wagner", "--remove-alias", "Vagner"), "has no alias 'Vagner'")
    assert run("watch", "edit", "Wagner").exit_code == 2
    assert run("watch", "pause", "Wagner").exit_code == 0
    assert "paused" in run("watch", "list").output
    assert run("watch", "resume", "wagner").output == "Watching 'Wagner' again.\n"
    assert "paused" not in run("watch", "list").output


@pytest.mark.parametrize(("term", "fragment"), [("", "empty"), ("   ", "empty"), ("x" * 500, "500 characters long")])
def test_watch_add_rejects_bad_terms_and_writes_nothing(run: Invoke, term: str, fragment: str) -> None:
    run("init")
    before = run("watch", "list").output
    _assert_one_line_error(run("watch", "add", term), fragment)
    assert run("watch", "list").output == before


def test_watch_add_rejects_a_bad_alias_and_writes_nothing(run: Invoke) -> None:
    _assert_one_line_error(run("watch", "add", "Wagner", "--alias", ""), "alias")
    assert "Wagner" not in run("watch", "list").output


def test_sources(run: Invoke) -> None:
    run("init")
    result = run("sources", "add", "https://example.org/feed.xml", "--every", "2h", "--outlet", "Example")
    assert result.exit_code == 0, result.output
    assert "every 2h" in result.output
    listing = run("sources", "list").output
    assert "https://example.org/feed.xml" in listing and "Kyiv Independent" in listing
    _assert_one_line_error(run("sources", "add", "https://example.org/feed.xml"), "exists already")
    assert run("sources", "disable", "https://example.org/feed.xml").exit_code == 0
    assert "https://example.org/feed.xml" not in run("sources", "list", "--enabled").output
    assert run("sources", "remove", "https://example.org/feed.xml").exit_code == 0
    assert "https://example.org/feed.xml" not in run("sources", "list").output


def test_sources_add_rejects_bad_input_and_writes_nothing(run: Invoke) -> None:
    _assert_one_line_error(run("sources", "add", "file:///etc/passwd"), "not an http(s) URL")
    _assert_one_line_error(run("sources", "add", "https://example.org/x", "--every", "soon"), "--every")
    assert run("sources", "add", "https://example.org/x", "--kind", "podcast").exit_code == 2
    assert "No sources" in run("sources", "list").output


def test_default_sources_include_disabled_lower_confidence_feeds(run: Invoke) -> None:
    run("init")
    everything = run("sources", "list").output.splitlines()
    enabled = run("sources", "list", "--enabled").output.splitlines()
    assert 15 <= len(enabled) < len(everything)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://root@localhost/x", "--db: must start with"),
        ("sqlite:////proc/claim-monitor/nope/x.db", "no database at /proc/claim-monitor/nope/x.db"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/nothing", "cannot open database"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line(url: str, fragment: str) -> None:
    result = CliRunner().invoke(main, ["--db", url, "baseline", "list"])
    _assert_one_line_error(result, fragment)


def test_init_where_the_file_cannot_be_made_is_one_line() -> None:
    result = CliRunner().invoke(main, ["--db", "sqlite:////proc/claim-monitor/nope/x.db", "init"])
    _assert_one_line_error(result, "cannot")


@pytest.mark.parametrize("verb", [["baseline", "list"], ["watch", "list"], ["matches", "list"], ["check"]])
def test_a_missing_database_file_is_refused_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verb: list[str]
) -> None:
    missing = tmp_path / "nonexist" / "dir" / "x.db"
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{missing}")
    result = CliRunner().invoke(main, verb, input="Belarus has troops.\n")
    _assert_one_line_error(result, f"no database at {missing}", "monitor init")
    assert not missing.parent.exists()


def test_only_init_creates_the_database_and_db_works_after_the_verb(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--db", url]).exit_code == 0
    after = runner.invoke(main, ["baseline", "list", "--db", url])
    before = runner.invoke(main, ["--db", url, "baseline", "list"])
    assert after.exit_code == 0 and after.output == before.output and "articles" not in after.stderr
    assert runner.invoke(main, ["baseline", "list", f"--db={url}"]).output == before.output


def test_db_after_the_verb_keeps_arguments_after_double_dash() -> None:
    from monitor.cli import hoist_db_option

    assert hoist_db_option(["watch", "add", "x", "--db", "U"]) == ["--db", "U", "watch", "add", "x"]
    assert hoist_db_option(["watch", "add", "--", "--db", "U"]) == ["watch", "add", "--", "--db", "U"]


def test_a_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_CRAWL_EVERY", "often")
    result = CliRunner().invoke(main, ["watch", "list"])
    _assert_one_line_error(result, "MONITOR_CRAWL_EVERY")
