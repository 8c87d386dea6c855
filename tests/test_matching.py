"""The matcher on sentences written for these tests: retrieval, each verdict with its evidence, output."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from monitor.matching import (
    BaselineClaimRef,
    BaselineIndex,
    ClaimMatcher,
    MatchResult,
    render_table,
    result_to_json,
)
from monitor.matching.claims_file import ClaimsFileError, read_claims_file

BASELINE = [
    "Belarus has about 6,000 soldiers stationed near the Ukrainian border at Brest.",
    "Minsk will hand over two Su-25 attack aircraft to the Russian air force next spring.",
    "Belarusian railways are carrying Russian tanks towards the Gomel region.",
    "Lukashenko said that Belarus would never send its army into Ukraine.",
    "The number of Russian fighter jets at Machulishchy airfield increased last month.",
    "Polish officials confirmed that the border crossing at Terespol reopened on 3 March.",
    "Belarusian volunteers are fighting for Ukraine in the Kalinouski regiment.",
    "The Kremlin is pressuring Minsk to recognise the annexation of Crimea.",
]


def refs(texts: list[str] = BASELINE) -> list[BaselineClaimRef]:
    return [
        BaselineClaimRef(number, text, "Test article", datetime.date(2022, 6, 30))
        for number, text in enumerate(texts, start=1)
    ]


@pytest.fixture(scope="module")
def matcher() -> ClaimMatcher:
    return ClaimMatcher(BaselineIndex.build(refs()))


def best_id(result: MatchResult) -> int | None:
    return result.baseline.claim_id if result.baseline else None


def test_retrieval_picks_the_claim_among_distractors(matcher: ClaimMatcher) -> None:
    result = matcher.match("Russian tanks are being moved by Belarusian railways towards Gomel.")
    assert best_id(result) == 3
    assert result.verdict == "repeated"
    assert result.candidates[0].ref.claim_id == 3
    assert [c.score for c in result.candidates] == sorted((c.score for c in result.candidates), reverse=True)


def test_repeated_with_name_variants_and_shared_words(matcher: ClaimMatcher) -> None:
    result = matcher.match("Lukashenka insisted Belarus will never send its army to Ukraine.")
    assert (best_id(result), result.verdict) == (4, "repeated")
    assert "never" not in result.evidence.get("negated", "")
    assert "army" in result.evidence["shared_terms"]


def test_updated_when_a_figure_changes(matcher: ClaimMatcher) -> None:
    result = matcher.match("Belarus now has around 9,500 soldiers stationed near the Ukrainian border.")
    assert (best_id(result), result.verdict) == (1, "updated")
    assert result.evidence["changed"] == [["about 6,000", "around 9,500"]]


def test_updated_when_a_date_changes(matcher: ClaimMatcher) -> None:
    result = matcher.match("Polish officials confirmed that the Terespol border crossing reopened on March 5.")
    assert (best_id(result), result.verdict) == (6, "updated")
    assert result.evidence["changed"] == [["March 3", "March 5"]]


def test_same_figure_in_other_words_is_repeated(matcher: ClaimMatcher) -> None:
    result = matcher.match("Some six thousand Belarusian soldiers are stationed near the border with Ukraine at Brest.")
    assert (best_id(result), result.verdict) == (1, "repeated")


def test_updated_when_the_status_moves_on(matcher: ClaimMatcher) -> None:
    result = matcher.match("Minsk has handed over two Su-25 attack aircraft to the Russian air force.")
    assert (best_id(result), result.verdict) == (2, "updated")
    old, new = result.evidence["status"]
    assert old.startswith("will") and new.startswith("has")


def test_contradicted_by_negation_in_the_new_claim(matcher: ClaimMatcher) -> None:
    result = matcher.match("The Kremlin is not pressuring Minsk to recognise the annexation of Crimea.")
    assert (best_id(result), result.verdict) == (8, "contradicted")
    assert result.evidence["negated"] == "not"
    assert result.evidence["negated_in"] == "new"


def test_contradicted_when_the_baseline_was_the_negative_one(matcher: ClaimMatcher) -> None:
    result = matcher.match("Lukashenko has sent the Belarusian army into Ukraine.")
    assert (best_id(result), result.verdict) == (4, "contradicted")
    assert result.evidence["negated_in"] == "baseline"


def test_contradicted_by_an_antonym(matcher: ClaimMatcher) -> None:
    result = matcher.match("The number of Russian fighter jets at Machulishchy airfield decreased last month.")
    assert (best_id(result), result.verdict) == (5, "contradicted")
    assert result.evidence["antonym"] == ["increased", "decreased"]


def test_negation_outside_the_matched_proposition_does_not_contradict(matcher: ClaimMatcher) -> None:
    result = matcher.match(
        "Belarusian volunteers are fighting for Ukraine in the Kalinouski regiment, which is not a secret."
    )
    assert (best_id(result), result.verdict) == (7, "repeated")


def test_a_false_flag_is_no_refutation() -> None:
    matcher = ClaimMatcher(BaselineIndex.build(refs(["Russia could stage a false flag attack at the Mozyr refinery."])))
    result = matcher.match("Russia is preparing a false flag attack on the Mazyr oil refinery.")
    assert result.verdict == "repeated"


def test_unrelated_claim_is_none(matcher: ClaimMatcher) -> None:
    result = matcher.match("The central bank raised interest rates to fight inflation in Argentina.")
    assert result.verdict == "none"
    assert result.baseline is None
    assert "reason" in result.evidence


def test_works_without_the_semantic_stage() -> None:
    matcher = ClaimMatcher(BaselineIndex.build(refs(), semantic=False))
    assert matcher.index.vectors is None
    result = matcher.match("Belarus now has around 9,500 soldiers stationed near the Ukrainian border.")
    assert (best_id(result), result.verdict) == (1, "updated")


def test_empty_baseline_matches_nothing() -> None:
    matcher = ClaimMatcher(BaselineIndex.build([]))
    assert len(matcher.index) == 0
    result = matcher.match("Belarus has about 6,000 soldiers near the border.")
    assert (result.verdict, result.baseline, result.candidates) == ("none", None, ())


def test_match_many_keeps_the_input_order(matcher: ClaimMatcher) -> None:
    texts = ["Russian tanks move through Belarusian railways to Gomel.", "Argentina raised interest rates."]
    assert [r.text for r in matcher.match_many(texts)] == texts


def test_result_to_json_has_designs_shape(matcher: ClaimMatcher) -> None:
    result = matcher.match("Belarus now has around 9,500 soldiers stationed near the Ukrainian border.", top_k=2)
    data = result_to_json(result, top_k=2)
    assert set(data) == {"text", "verdict", "score", "baseline", "evidence", "candidates"}
    assert data["baseline"] == {
        "claim_id": 1,
        "claim": BASELINE[0],
        "article": "Test article",
        "published": "2022-06-30",
        "external_id": None,
    }
    assert 0 <= data["score"] <= 100
    assert len(data["candidates"]) == 2
    assert set(data["candidates"][0]) == {"claim_id", "external_id", "claim", "score"}
    json.dumps(data)  # serialisable as it is
    assert "candidates" not in result_to_json(result)


def test_render_table_marks_what_changed(matcher: ClaimMatcher) -> None:
    results = [matcher.match("Belarus now has around 9,500 soldiers stationed near the Ukrainian border.")]
    plain = render_table(results, color=False)
    assert "UPDATED" in plain and "[[around 9,500]]" in plain and "[[about 6,000]]" in plain
    assert "figure changed: about 6,000 -> around 9,500" in plain
    coloured = render_table(results, color=True)
    assert "\x1b[" in coloured and "[[" not in coloured


def test_read_claims_file_plain_and_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "claims.txt"
    path.write_text(
        "Belarus has 6,000 soldiers near Brest.\n\n"
        '{"claim": "Minsk will hand over two Su-25s.", "id": "fc-12", "source": "Snopes", "published": "2022-05-01"}\n',
        encoding="utf-8",
    )
    first, second = read_claims_file(path)
    assert first.text == "Belarus has 6,000 soldiers near Brest." and first.external_id is None
    assert (second.external_id, second.source, second.published) == ("fc-12", "Snopes", datetime.date(2022, 5, 1))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"claim": ""}\n', "line 1: `claim` is missing"),
        (b"ok claim\n{not json\n", "line 2: not valid JSON"),
        (b'{"claim": "x", "published": "June"}\n', "line 1: `published` must be a date"),
        (b"\x00\x01binary", "binary"),
        (b"\xff\xfe\xfa", "not UTF-8"),
    ],
)
def test_read_claims_file_names_file_and_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(ClaimsFileError, match=r"bad\.jsonl") as error:
        read_claims_file(path)
    assert message in str(error.value)
    assert isinstance(error.value, ValueError)
