"""Which words of a matched pair to highlight: the changed figures and the words that flip its meaning.

`Evidence.marks` names them (changed figures, the status or antonym pair, the negation or refutation on
its side). Highlighting returns plain segments; the
template escapes each one, so nothing here produces HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.matching.evidence import FIGURE, FLIP, Evidence

__all__ = ["FIGURE", "FLIP", "PairMarks", "Segment", "evidence_lines", "highlight", "pair_marks"]


@dataclass(frozen=True)
class Segment:
    """A run of text; `kind` is "" for plain text, else FIGURE or FLIP."""

    text: str
    kind: str = ""


@dataclass
class PairMarks:
    """Phrases to mark in the baseline sentence and in the new sentence, with their kind."""

    baseline: list[tuple[str, str]] = field(default_factory=list)
    new: list[tuple[str, str]] = field(default_factory=list)


def pair_marks(evidence: Evidence) -> PairMarks:
    """The phrases to mark on each side (`Evidence.marks`)."""
    new, baseline = evidence.marks()
    return PairMarks(baseline=list(baseline), new=list(new))


def _find(text: str, phrase: str) -> re.Match[str] | None:
    """The phrase as whole words, case-insensitively; for a figure phrase such as "around 9,000" whose
    wording differs in the sentence, its last word (the number) alone."""
    for candidate in (phrase, phrase.split()[-1] if phrase.split() else ""):
        if candidate.strip():
            pattern = re.compile(r"(?<!\w)" + re.escape(candidate.strip()) + r"(?!\w)", re.IGNORECASE)
            found = pattern.search(text)
            if found:
                return found
    return None


def highlight(text: str, marks: Iterable[tuple[str, str]]) -> list[Segment]:
    """`text` cut into segments, the first occurrence of each phrase marked (longest phrases win overlaps)."""
    spans: list[tuple[int, int, str]] = []
    for phrase, kind in sorted(marks, key=lambda mark: len(mark[0]), reverse=True):
        found = _find(text, phrase)
        if found and all(found.end() <= start or found.start() >= end for start, end, _ in spans):
            spans.append((found.start(), found.end(), kind))
    segments: list[Segment] = []
    position = 0
    for start, end, kind in sorted(spans):
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], kind))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


def evidence_lines(evidence: Evidence) -> list[str]:
    """The evidence in words for the pages: the same lines as the alerts and the CLI (`Evidence.lines`)."""
    return evidence.lines()
