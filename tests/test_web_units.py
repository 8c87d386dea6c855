"""The web app's pure parts: highlighting, evidence wording, the chart's geometry, filters, redirects."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.matching.evidence import Evidence
from monitor.web.chart import matches_chart
from monitor.web.deps import local_path
from monitor.web.filters import page_number, parse_match_filters, split_aliases
from monitor.web.highlight import FIGURE, FLIP, PairMarks, Segment, evidence_lines, highlight, pair_marks


def _marks(stored: dict[str, object]) -> PairMarks:
    return pair_marks(Evidence.from_json(stored))


def test_changed_figures_are_marked_on_each_side() -> None:
    marks = _marks({"changed": [["around 12,000-15,000", "around 9,000"]]})
    baseline = highlight("Minsk has around 12,000-15,000 troops.", marks.baseline)
    new = highlight("Minsk has only about 9,000 troops.", marks.new)
    assert Segment("around 12,000-15,000", FIGURE) in baseline
    assert Segment("9,000", FIGURE) in new  # the wording differs: the number alone is marked
    assert "".join(segment.text for segment in new) == "Minsk has only about 9,000 troops."


def test_negation_is_marked_on_the_side_it_sits() -> None:
    in_new = _marks({"negated": "not", "negated_in": "new"})
    assert in_new.new == [("not", FLIP)] and in_new.baseline == []
    in_baseline = _marks({"negated": "no longer", "negated_in": "baseline"})
    assert in_baseline.baseline == [("no longer", FLIP)]
    segments = highlight("Belarus is not a party; nothing changed.", in_new.new)
    assert [s for s in segments if s.kind] == [Segment("not", FLIP)]  # whole words only: not "nothing"


def test_status_and_antonym_pairs_are_marked() -> None:
    marks = _marks({"status": ["will transfer", "has transferred"], "antonym": ["join", "stay out"]})
    assert marks.baseline == [("will transfer", FLIP), ("join", FLIP)]
    assert marks.new == [("has transferred", FLIP), ("stay out", FLIP)]


@pytest.mark.parametrize(
    "evidence",
    [{"changed": "12 -> 9"}, {"changed": [[1]]}, {"antonym": "join"}, {"negated": 5}, {"status": None}, {}],
)
def test_malformed_evidence_marks_nothing_and_never_fails(evidence: dict[str, object]) -> None:
    marks = _marks(evidence)
    assert highlight("Some text.", marks.new) in ([Segment("Some text.")],)


def test_overlapping_phrases_keep_the_longest() -> None:
    segments = highlight("has not been", [("not", FLIP), ("has not been", FLIP)])
    assert segments == [Segment("has not been", FLIP)]


def test_evidence_lines_name_the_side_and_list_shared_words_last() -> None:
    stored = {"shared_terms": ["troops", "minsk"], "negated": "not", "negated_in": "baseline"}
    lines = evidence_lines(Evidence.from_json(stored))
    assert lines == ["negation in the baseline claim: “not”", "words in common: troops, minsk"]
    assert evidence_lines(Evidence.from_json({"changed": [["5", "7"]]})) == ["figure changed: 5 -> 7"]


def test_chart_buckets_by_day_week_or_month() -> None:
    days = matches_chart(
        [(date(2024, 5, 1), "repeated"), (date(2024, 5, 1), "contradicted"), (date(2024, 5, 3), "updated")]
    )
    assert days is not None and days.unit == "day" and days.peak == 2
    assert [bar.verdict for bar in days.bars] == ["repeated", "contradicted", "updated"]
    stacked = [bar for bar in days.bars if bar.label.startswith("day of 2024-05-01")]
    assert stacked[1].y + stacked[1].height == pytest.approx(stacked[0].y)  # contradicted sits on top
    weeks = matches_chart([(date(2024, 1, 1), "repeated"), (date(2024, 6, 1), "repeated")])
    assert weeks is not None and weeks.unit == "week"
    months = matches_chart([(date(2022, 1, 1), "updated"), (date(2024, 6, 1), "updated")])
    assert months is not None and months.unit == "month" and months.first_label == "2022-01"
    assert all(bar.x >= 0 and bar.x + bar.width <= months.width for bar in months.bars)
    assert matches_chart([]) is None


def test_filters_collect_every_error() -> None:
    parsed = parse_match_filters({"verdict": "maybe", "from": "2024-05-03", "to": "2024-05-01", "claim": "x1"})
    assert len(parsed.errors) == 3
    assert parsed.filters.verdict is None and parsed.filters.found_from is None
    good = parse_match_filters({"verdict": "updated", "from": "2024-05-01", "claim": "12", "outlet": " Meduza "})
    assert not good.errors
    assert (good.filters.verdict, good.filters.baseline_claim_id, good.filters.outlet) == ("updated", 12, "Meduza")


def test_small_form_helpers() -> None:
    assert split_aliases("Лукашенко, Łukaszenka\nLukaschenko;;") == ["Лукашенко", "Łukaszenka", "Lukaschenko"]
    assert [page_number(raw) for raw in (None, "", "3", "-1", "x", "99999999")] == [1, 1, 3, 1, 1, 1]
    assert local_path("/matches?verdict=updated") == "/matches?verdict=updated"
    assert [local_path(bad) for bad in ("https://evil.example", "//evil.example", "/\\evil", None)] == ["/"] * 4
