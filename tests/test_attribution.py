"""Reading a reported statement out of its frame (`monitor.matching.attribution`): pure text, no index."""

from __future__ import annotations

import pytest

from monitor.matching.attribution import Report, looked_up_as, read_report
from monitor.matching.lexicon import default_lexicon


@pytest.mark.parametrize(
    ("text", "speaker", "statement"),
    [
        # A relative frame: the interview is where it was said.
        (
            "On Monday, the Kyiv Independent published an interview with Serhiy Naiev, commander of the Joint "
            "Forces, in which Naiev said that Russia is preparing to attack Ukraine from Belarus again.",
            "Naiev",
            "Russia is preparing to attack Ukraine from Belarus again.",
        ),
        # A setting that opens the sentence, up to its first comma.
        (
            "In an interview with the BBC last week, Lukashenko said that Belarus had bought Iskander missiles.",
            "Lukashenko",
            "Belarus had bought Iskander missiles.",
        ),
        # A participle or a time clause opening the sentence sets the scene too.
        (
            "Speaking at a meeting of the Security Council on Tuesday, Lukashenko said that Belarus would not "
            "send its troops to Ukraine.",
            "Lukashenko",
            "Belarus would not send its troops to Ukraine.",
        ),
        (
            "After talks with Putin in Sochi, Lukashenko told reporters that the joint force would be enlarged.",
            "Lukashenko",
            "the joint force would be enlarged.",
        ),
        # The speaker keeps the words that say who they are.
        (
            "On Tuesday, Viktor Khrenin, the defence minister, stated that the army would be enlarged.",
            "Viktor Khrenin, the defence minister,",
            "the army would be enlarged.",
        ),
        # A few words between the word of saying and "that" belong to the saying.
        (
            "Prime Minister Denys Shmyhal said on Thursday (February 24) that the plant had been seized.",
            "Prime Minister Denys Shmyhal",
            "the plant had been seized.",
        ),
    ],
)
def test_a_reported_statement_is_read_without_its_frame(text: str, speaker: str, statement: str) -> None:
    report = read_report(text, default_lexicon())
    assert report is not None
    assert (report.speaker, report.statement) == (speaker, statement)


@pytest.mark.parametrize(
    "text",
    [
        "In early June, Belarus moved troops to the border.",  # a setting, but nothing reported
        "Belarus moved troops to the border, Kyiv said.",  # reported, but not as "said that"
        "That is what the minister said.",
        "In which direction the troops moved, nobody said that day.",
    ],
)
def test_a_sentence_reporting_nothing_is_left_as_it_is(text: str) -> None:
    assert read_report(text, default_lexicon()) is None


def test_the_speaker_is_matched_only_where_the_baseline_speaks_of_them() -> None:
    report = Report("Demchenko", "stated that", "belarusian troops have not entered Ukraine.")
    assert looked_up_as(report, speaker_known=False) == "Belarusian troops have not entered Ukraine."
    assert looked_up_as(report, speaker_known=True) == (
        "Demchenko stated that belarusian troops have not entered Ukraine."
    )
