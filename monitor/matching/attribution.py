"""The statement a reported sentence makes, without the frame that tells where and when it was made.

News reports most claims through someone: "On 15 December, The Economist published an interview with
Valery Zaluzhny, commander of the Armed Forces of Ukraine (AFU), in which Zaluzhny stated that Ukraine
expects another Russian offensive...". The claim is the speaker's statement ("Zaluzhny stated that Ukraine
expects..."); the publication, the interview and the day are where it was said. Matched with them, the
frame's words dilute both the lexical overlap and the sentence vectors, and the baseline claim the
statement speaks to loses to one that shares the frame's topic words.

The speaker counts where the baseline speaks of them: what Lukashenko suggests is set against what
Lukashenko promised. A speaker no baseline claim names is left out with the words of saying ("Demchenko
stated that Belarusian troops have not entered Ukraine" speaks of the troops; with "Demchenko stated" it
sits nearer the baseline's other reported statements than the claim it denies): see `looked_up_as`.

Only an English sentence with a word of saying followed by "that" (the lexicon's `[status] saying`: said,
stated, warned, denied...) is read this way, and only two frames are cut before its speaker: a relative
frame ("an interview ..., in which", "during which", "at which") and a setting that opens the sentence up
to its first comma ("In early June,", "In an interview with the New York Times last week,", "Speaking at
a meeting of the Security Council,", "After talks with Putin,"). This is what a claim is looked up with;
its verdict still reads the sentence's own words (`ClaimMatcher.match_many`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from monitor.matching.lexicon import Lexicon

# Between the word of saying and "that": a few words naming when or to whom ("said on Thursday (February
# 24) that", "told the BBC that"), never a clause boundary.
_BETWEEN = r"(?:\s+[^\s,.;:!?]+){0,6}?"
# A relative frame ending just before the speaker: what comes before it is where the statement was made.
_RELATIVE_FRAME = re.compile(r"(?:,\s*|\s)(?:in|during|at) which\s+", re.IGNORECASE)
# A setting opening the sentence up to its first comma: when, where or how the statement was made ("In an
# interview with the BBC,", "Speaking at a meeting of the Security Council,", "After talks with Putin,").
_OPENING_SETTING = re.compile(
    r"^(?:in|on|at|during|earlier|later|last|as|after|before|following|when|while|speaking|addressing|writing"
    r"|commenting|responding|talking|asked)\b[^,]{0,80},\s+",
    re.IGNORECASE,
)

# A statement has a subject and a verb at least: "said that day." reports nothing.
_STATEMENT_WORDS = 3


@lru_cache(maxsize=8)  # one per lexicon
def _reporting(saying: frozenset[str]) -> re.Pattern[str]:
    words = sorted((word for word in saying if word.isascii()), key=len, reverse=True)
    return re.compile(rf"\b(?:{'|'.join(map(re.escape, words))}){_BETWEEN}\s+that\b", re.IGNORECASE)


@dataclass(frozen=True)
class Report:
    """A sentence that reports a statement: who made it (`speaker`: "Zaluzhny"), the words of saying
    (`saying`: "stated that") and what was said (`statement`)."""

    speaker: str
    saying: str
    statement: str


def read_report(text: str, lexicon: Lexicon) -> Report | None:
    """The speaker and statement of a sentence reporting one (see the module's docstring), the frame
    before the speaker cut; None for a sentence that reports nothing in this way."""
    if "that" not in text.lower():  # most sentences: the pattern is not searched at all
        return None
    reporting = _reporting(lexicon.saying).search(text)
    if reporting is None:
        return None
    head = text[: reporting.start()]
    frames = list(_RELATIVE_FRAME.finditer(head))
    if frames:
        start = frames[-1].end()
    else:
        setting = _OPENING_SETTING.match(head)
        start = setting.end() if setting else 0
    statement = text[reporting.end() :].lstrip()
    if start >= len(head) or not head[start:].strip() or len(statement.split()) < _STATEMENT_WORDS:
        return None
    return Report(_sentence_case(head[start:].strip()), reporting.group(), statement)


def looked_up_as(report: Report, speaker_known: bool) -> str:
    """The text a reported statement is matched with: the speaker's and the statement's where the baseline
    speaks of the speaker (`speaker_known`: what Lukashenko suggests is set against what Lukashenko
    promised), the statement's alone otherwise ("Demchenko stated that Belarusian troops have not entered
    Ukraine" is about the troops: with the unknown speaker and the word of saying it sits closer to the
    baseline's other reported statements, "Lukashenko promised that ...", than to what it denies)."""
    if speaker_known:
        return f"{report.speaker} {report.saying} {report.statement}"
    return _sentence_case(report.statement)


def _sentence_case(text: str) -> str:
    """The text with its first letter a capital, as a sentence opens (the rest as written)."""
    return text[:1].upper() + text[1:]
