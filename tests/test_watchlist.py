from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from monitor.catalog.watch_terms import (
    add_watch_term,
    clean_term,
    install_default_watch_terms,
    list_watch_terms,
    read_default_terms,
)
from monitor.errors import DuplicateError, InputError
from monitor.ingest.screen import WatchTermMatcher
from monitor.storage.engine import session_scope


def _matcher(*terms: tuple[str, list[str]]) -> WatchTermMatcher:
    return WatchTermMatcher(terms)


def test_whole_words_any_alias_case_and_diacritics() -> None:
    matcher = _matcher(("Lukashenko", ["Lukašenka", "Лукашенко"]), ("Minsk", []))
    assert matcher.matches("LUKASENKA met envoys in MINSK.") == ["Lukashenko", "Minsk"]
    assert matcher.matches("Лукашенко заявил") == ["Lukashenko"]
    assert matcher.matches("Minskyi district") == []


def test_prefix_alias_covers_cyrillic_case_endings() -> None:
    matcher = _matcher(("Belarus", ["Беларус*"]))
    assert matcher.matches("войска Беларуси у границы") == ["Belarus"]
    assert matcher.matches("белорусские войска") == []


def test_multiword_and_hyphenated_terms() -> None:
    matcher = _matcher(("S-400", ["С-400"]), ("Union State", []))
    assert matcher.matches("the S-400 systems") == ["S-400"]
    assert matcher.matches("поставки С-400") == ["S-400"]
    assert matcher.matches("of the Union\u00a0State") == ["Union State"]
    assert matcher.matches("S-4000") == []


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 500, "500 characters long"),
        ("a\x00b", "control"),
        ("*", "empty"),
    ],
)
def test_bad_terms_are_rejected(raw: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        clean_term(raw)


def test_defaults_cover_the_beat_in_every_script() -> None:
    terms = {entry.term: entry.aliases for entry in read_default_terms()}
    for term in ["Belarus", "Ukraine", "Lukashenko", "Minsk", "Kyiv", "Iskander", "S-400", "Mozyr"]:
        assert term in terms
    assert {"Belorussia", "Беларусь", "Білорусь"} <= set(terms["Belarus"])
    assert {"Lukashenka", "Лукашенко"} <= set(terms["Lukashenko"])
    assert "Mazyr" in terms["Mozyr"]
    assert "Kiev" in terms["Kyiv"]


def test_install_defaults_and_reject_duplicates(engine: Engine) -> None:
    with session_scope(engine) as session:
        added = install_default_watch_terms(session)
        assert added == len(read_default_terms())
        assert install_default_watch_terms(session) == 0
    with pytest.raises(DuplicateError), session_scope(engine) as session:
        add_watch_term(session, term="minsk")
    with session_scope(engine) as session:
        assert len(list_watch_terms(session)) == added
