"""`monitor.matching.evidence`: the typed evidence, its JSON round trip, and one wording in every renderer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from factories import baseline_claim, match
from sqlalchemy.engine import Engine

from alerts.digest import build_digest
from alerts.digest_render import digest_html, digest_text
from alerts.render import escape_mrkdwn, render_match_batch
from monitor.catalog.queries import MatchView
from monitor.cli.check_output import explain, render_table
from monitor.matching import BaselineClaimRef, MatchResult
from monitor.matching.evidence import FIGURE, FLIP, Evidence
from monitor.storage.engine import session_scope
from monitor.web.highlight import evidence_lines

# Every key the matcher writes today (verdict.decide and ClaimMatcher._decide), and one it may add later.
STORED = {
    "shared_terms": ["troops", "border"],
    "carried_by": [["войска", "troops"]],
    "changed": [["12,000-15,000", "9,000"]],
    "status": ["will transfer", "has transferred"],
    "antonym": ["join", "stay out"],
    "negated": "not",
    "negated_in": "new",
    "rule": "the new claim reports a later state ('until recently')",
    "conflicts": ["names another country (Poland)"],
    "matched_clause": "Belarus has 12,000-15,000 troops",
    "context": "The ministry spoke on Monday.",
    "confidence": "likely",
    "reason": "match score 40 is below the threshold 53",
    "hedged_by": ["reportedly"],
}


def test_every_key_round_trips() -> None:
    evidence = Evidence.from_json(STORED)
    assert evidence.changed == (("12,000-15,000", "9,000"),)
    assert evidence.negated_in == "new" and evidence.confidence == "likely"
    assert dict(evidence.extra) == {"hedged_by": ["reportedly"]}
    assert evidence.to_json() == STORED
    assert Evidence.from_json(evidence.to_json()) == evidence


@pytest.mark.parametrize(
    "stored",
    [None, {}, {"changed": "12 -> 9"}, {"changed": [[1]]}, {"antonym": "join"}, {"negated": 5}, {"status": None}],
)
def test_old_or_malformed_rows_read_without_error(stored: dict[str, object] | None) -> None:
    evidence = Evidence.from_json(stored)
    assert evidence.marks() == ([], []) or evidence.negated == "5"
    evidence.lines()  # never raises


def test_older_spellings_are_read_as_todays() -> None:
    evidence = Evidence.from_json({"negation": "never", "antonyms": ["confirm", "deny"], "refutation": "false"})
    assert (evidence.negated, evidence.antonym, evidence.refuted) == ("never", ("confirm", "deny"), "false")
    assert not evidence.extra


def test_marks_put_each_phrase_on_its_side() -> None:
    new, baseline = Evidence.from_json(STORED).marks()
    assert ("9,000", FIGURE) in new and ("12,000-15,000", FIGURE) in baseline
    assert ("not", FLIP) in new and ("join", FLIP) in baseline


def test_lines_say_what_the_confidence_means_and_show_unknown_keys() -> None:
    lines = Evidence.from_json(STORED).lines()
    assert lines[0].startswith("likely match: ")
    assert "hedged by: reportedly" in lines
    assert lines[-1] == "words in common: troops, border"


def _view(evidence: Evidence) -> MatchView:
    return MatchView(
        match_id=7,
        verdict="updated",
        score=91.0,
        evidence=evidence,
        claim_text="Belarus has 9,000 troops near the border.",
        article_url="https://news.example/a",
        article_title="Troops",
        outlet="Example News",
        published=datetime(2024, 5, 2, 9, tzinfo=UTC),
        fetched_at=datetime(2024, 5, 2, 9, tzinfo=UTC),
        baseline_claim_id=3,
        baseline_claim_text="Belarus has 12,000-15,000 troops near the border.",
        baseline_title="Baseline",
        baseline_outlet=None,
        baseline_published=date(2022, 6, 30),
        baseline_url=None,
    )


def test_email_slack_cli_web_and_digest_show_the_same_words(engine: Engine) -> None:
    evidence = Evidence.from_json(STORED)
    words = evidence.lines()
    message = render_match_batch([_view(evidence)], key="k")
    slack = json.dumps(message.slack_blocks, ensure_ascii=False)
    ref = BaselineClaimRef(3, "Belarus has 12,000-15,000 troops near the border.", "Baseline", date(2022, 6, 30))
    result = MatchResult("Belarus has 9,000 troops near the border.", "updated", 91.0, ref, STORED, ())
    assert evidence_lines(evidence) == words
    assert explain(result) == "; ".join(words)
    with session_scope(engine) as session:
        stored = match(
            session, baseline=baseline_claim(session), evidence=STORED, created_at=datetime(2024, 5, 2, 9, tzinfo=UTC)
        )
        assert stored.id is not None
        digest = build_digest(session, day=date(2024, 5, 2), zone=ZoneInfo("UTC"))
    (digest_match,) = [m for section in digest.verdicts for group in section.groups for m in group.matches]
    assert digest_match.evidence == words
    for line in words:
        assert line in message.text
        assert _html(line) in message.html
        assert escape_mrkdwn(line) in slack
        assert line in render_table([result], color=False)
        assert line in digest_text(digest)
        assert _html(line) in digest_html(digest)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")


def test_alerts_link_back_to_the_match_and_say_what_the_score_means() -> None:
    view = _view(Evidence.from_json({"confidence": "possible"}))
    message = render_match_batch([view], key="k", web_base_url="https://monitor.example.org")
    link = "https://monitor.example.org/matches?claim=3#match-7"
    slack = json.dumps(message.slack_blocks, ensure_ascii=False)
    assert f"Confirm or dismiss: {link}" in message.text
    assert f'href="{link}"' in message.html
    assert f"<{link}|Confirm or dismiss in Claim Monitor>" in slack
    for rendered in (message.text, message.html, slack):
        assert "possible match: above the alert threshold" in rendered
        assert "The score (0-100) is how sure the matcher is" in rendered
    assert "Confirm or dismiss" not in render_match_batch([view], key="k").text


def test_public_url_is_checked_and_used_for_links(monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.config import ConfigError, load_settings

    assert load_settings(public_url="https://m.example.org/cm/").web_base_url() == "https://m.example.org/cm"
    assert load_settings(web_port=8123).web_base_url() == "http://127.0.0.1:8123"
    monkeypatch.setenv("MONITOR_PUBLIC_URL", "javascript:alert(1)")
    with pytest.raises(ConfigError, match="MONITOR_PUBLIC_URL"):
        load_settings()
