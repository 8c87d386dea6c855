"""`monitor matches list/show/review` and the CSV export (CLI and the Matches page's download)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner, Result
from factories import baseline_claim, match
from sqlalchemy.engine import Engine
from sqlmodel import select
from web_helpers import make_app, make_client

from monitor.catalog.queries import MATCH_CSV_COLUMNS
from monitor.cli import main
from monitor.storage.engine import session_scope
from monitor.storage.models import Match

LONG = (
    "Belarus has about 9,000 troops near the Ukrainian border, the defence ministry in Minsk said on Tuesday, "
    "adding that the figure had fallen since the spring and that no new units would be sent north this year."
)
EVIDENCE = {"changed": [["12,000-15,000", "9,000"]], "confidence": "likely", "shared_terms": ["troops"]}


@pytest.fixture
def stored(engine: Engine) -> tuple[Engine, int]:
    with session_scope(engine) as session:
        base = baseline_claim(session, text="Belarus has 12,000-15,000 troops near the border.")
        row = match(session, baseline=base, claim_text=LONG, evidence=EVIDENCE, title='=HYPERLINK("x")')
        match(session, baseline=base, claim_text='A "quoted", comma sentence\nover two lines.', verdict="repeated")
        assert row.id is not None
        return engine, row.id


def _run(engine: Engine, *args: str) -> Result:
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(main, [*args, "--db", url], catch_exceptions=False)


def test_list_shows_full_sentences_and_the_evidence_in_words(stored: tuple[Engine, int]) -> None:
    engine, _ = stored
    result = _run(engine, "matches", "list")
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert LONG in flat  # wrapped, not cut at 50 characters
    assert "figure changed: 12,000-15,000 -> 9,000" in flat and "likely match:" in flat


def test_csv_export_parses_with_the_csv_module(stored: tuple[Engine, int]) -> None:
    engine, match_id = stored
    result = _run(engine, "matches", "list", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output, newline="")))
    assert list(rows[0]) == list(MATCH_CSV_COLUMNS) and len(rows) == 2
    first = next(row for row in rows if row["id"] == str(match_id))
    assert first["claim"] == LONG and first["verdict"] == "updated" and first["confidence"] == "likely"
    assert "figure changed: 12,000-15,000 -> 9,000" in first["evidence"]
    assert first["article_title"].startswith("'=")  # a formula stays text in a spreadsheet
    assert any(row["claim"] == 'A "quoted", comma sentence\nover two lines.' for row in rows)


def test_json_format_is_the_documented_object(stored: tuple[Engine, int]) -> None:
    engine, _ = stored
    lines = _run(engine, "matches", "list", "--format", "json").output.splitlines()
    assert lines == _run(engine, "matches", "list", "--json").output.splitlines()
    assert json.loads(lines[0])["evidence"] == EVIDENCE


def test_show_and_review(stored: tuple[Engine, int]) -> None:
    engine, match_id = stored
    shown = _run(engine, "matches", "show", str(match_id))
    assert shown.exit_code == 0 and "https://news.example/" in shown.output and "[unreviewed]" in shown.output
    reviewed = _run(engine, "matches", "review", str(match_id), "--dismiss", "--note", "an old figure")
    assert reviewed.exit_code == 0 and "dismissed (an old figure)" in reviewed.output
    with session_scope(engine) as session:
        row = session.get(Match, match_id)
        assert row is not None and row.review_status == "dismissed" and row.review_note == "an old figure"
    again = _run(engine, "matches", "show", str(match_id))
    assert "[dismissed]" in again.output and "note:     an old figure" in again.output


def test_show_or_review_of_an_unknown_match_is_one_line(stored: tuple[Engine, int]) -> None:
    engine, _ = stored
    for args in (["matches", "show", "999"], ["matches", "review", "999", "--confirm"]):
        result = _run(engine, *args)
        assert result.exit_code == 1 and "no match with id 999" in result.stderr
    assert _run(engine, "matches", "review", "1").exit_code == 2  # says neither --confirm nor --dismiss


def test_the_matches_page_offers_the_same_csv(stored: tuple[Engine, int]) -> None:
    engine, match_id = stored
    client = make_client(make_app(engine))
    assert 'href="/matches.csv?verdict=updated"' in client.get("/matches?verdict=updated").text
    response = client.get("/matches.csv?verdict=updated")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert [row["id"] for row in rows] == [str(match_id)]
    assert client.get("/matches.csv?verdict=nonsense").status_code == 400


def test_baseline_remove_keeping_or_deleting_its_matches(engine: Engine) -> None:
    from monitor.catalog.baseline_store import baseline_refs
    from monitor.storage.models import BaselineClaim

    with session_scope(engine) as session:
        keep_claim = baseline_claim(session, text="Belarus has 12,000 troops.", title="Kept-matches article")
        gone_claim = baseline_claim(session, text="Minsk denies it.", title="Deleted-matches article")
        kept = match(session, baseline=keep_claim)
        match(session, baseline=gone_claim)
        keep_article, gone_article = keep_claim.article_id, gone_claim.article_id
        kept_id = kept.id
    assert _run(engine, "baseline", "remove", str(keep_article)).exit_code == 2  # must say what becomes of matches
    assert _run(engine, "baseline", "remove", str(keep_article), "--keep-matches").exit_code == 2  # no --yes, no tty
    result = _run(engine, "baseline", "remove", str(keep_article), "--keep-matches", "--yes")
    assert result.output == "Removed 'Kept-matches article': 1 claims no longer matched; 1 matches kept.\n"
    result = _run(engine, "baseline", "remove", str(gone_article), "--remove-matches", "--yes")
    assert result.output == "Removed 'Deleted-matches article': 1 claims no longer matched; 1 matches deleted.\n"
    assert (
        "no baseline article" in _run(engine, "baseline", "remove", str(gone_article), "--keep-matches", "--yes").stderr
    )
    listing = _run(engine, "baseline", "list").output
    assert "Kept-matches article" not in listing and "Deleted-matches article" not in listing
    with session_scope(engine) as session:
        assert baseline_refs(session) == []  # neither is matched any more
        assert [row.id for row in session.exec(select(Match))] == [kept_id]  # the kept match still names its claim
        assert session.get(BaselineClaim, keep_claim.id) is not None
    assert "Belarus has 9,000 troops" in _run(engine, "matches", "list").output


def test_baseline_remove_on_the_web_asks_first(engine: Engine) -> None:
    from web_helpers import csrf_token

    with session_scope(engine) as session:
        claim = baseline_claim(session, text="Belarus has 12,000 troops.", title="To remove")
        match(session, baseline=claim)
        article_id = claim.article_id
    client = make_client(make_app(engine))
    assert f'href="/baseline/articles/{article_id}/remove"' in client.get("/baseline").text
    asking = client.get(f"/baseline/articles/{article_id}/remove").text
    assert "It has 1 match." in asking and 'value="keep" checked' in asking
    token = csrf_token(client, f"/baseline/articles/{article_id}/remove")
    assert client.post(f"/baseline/articles/{article_id}/remove", data={"csrf_token": token}).status_code == 400
    done = client.post(f"/baseline/articles/{article_id}/remove", data={"csrf_token": token, "matches": "remove"})
    assert done.status_code == 303 and done.headers["location"] == "/baseline?removed=1"
    assert "To remove" not in client.get("/baseline").text
    assert client.get(f"/baseline/articles/{article_id}/remove").status_code == 404
    with session_scope(engine) as session:
        assert list(session.exec(select(Match))) == []
