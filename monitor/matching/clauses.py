"""Split a claim sentence into its clauses, so one clause of a long compound sentence can be matched.

Baseline claims are often compound ("Ukraine takes its northern border seriously, even though there are
no indications that Russia is preparing to attack from Belarus"), and news repeats, updates or
contradicts one clause of them. `split_clauses` cuts a sentence at the joints that separate full
propositions: semicolons and spaced dashes, a comma before a subordinating or coordinating conjunction
("although", "while", "which means", "but", "and" + a new subject...), and a fronted subordinate clause
("Although X, Y" / "Given X, Y"). Pieces too short to be a proposition stay with their neighbour.

Each clause keeps its character span in the original text, so evidence can quote it as written.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

# A clause shorter than this (in words) is no proposition of its own ("he said", "however").
MIN_WORDS = 4
# Too many clauses from one sentence means it is a list, not a compound claim: keep the largest.
MAX_CLAUSES = 6

# Joints after which a new proposition starts; the joint words stay with the clause they introduce.
_JOINT = re.compile(
    r"\s*;\s+"  # "X; Y"
    r"|\s+[\u2013\u2014-]{1,2}\s+"  # "X – Y" (spaced dashes; a hyphen inside a word is no joint)
    r"|,\s+(?=(?:although|though|even though|even if|while|whereas|but|yet|which means|which suggests"
    r"|which indicates|which shows|meaning|so that|because|since|as well as|and|pointing out|indicating"
    r"|suggesting|adding|saying|despite|unlike|in order to"
    # Russian, Ukrainian and Belarusian: "но", "а", "однако", "хотя", "але", "проте", "хоча", "аднак"...
    r"|но|а|однако|хотя|але|проте|хоча|аднак|хоць|но при этом|тогда как|в то время как)\b)"
    r"|\s+(?=(?:because|whereas|so that|in order to)\b)",
    re.IGNORECASE,
)
# A fronted subordinate clause: "Although X, Y", "Given X, Y", "If X, Y"; cut at its first comma.
_FRONTED = re.compile(
    r"^\s*(?:although|though|even though|while|whereas|given|despite|since|if|as|when|once|unless|"
    r"even with|with only|to this day)\b(?:[^,]|,(?=\d)){8,}?,\s+",  # "9,000" is no comma
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Clause:
    """One clause of a sentence: its text and its span [start, end) in the sentence."""

    text: str
    start: int
    end: int


def _spans(text: str) -> list[tuple[int, int]]:
    cuts = [0]
    fronted = _FRONTED.match(text)
    if fronted:
        cuts.append(fronted.end())
    for joint in _JOINT.finditer(text):
        if joint.start() > cuts[-1] and not _ends_a_list(text, joint):
            cuts.append(joint.end())
    cuts.append(len(text))
    spans: list[tuple[int, int]] = []
    for start, end in itertools.pairwise(cuts):
        if end > start:
            spans.append((start, end))
    return spans


def _ends_a_list(text: str, joint: re.Match[str]) -> bool:
    """Whether ", and" closes a list ("missiles, tanks, and jets") rather than joins two clauses: another
    comma stands among the three words before it."""
    if not joint.group(0).startswith(",") or not text[joint.end() :].lower().startswith("and "):
        return False
    before = text[: joint.start()].split()[-3:]
    return any(word.endswith(",") for word in before[:-1]) or "," in " ".join(before[:-1])


def _word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _merge_short(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and (_word_count(text[start:end]) < MIN_WORDS or _word_count(text[slice(*merged[-1])]) < MIN_WORDS):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def split_clauses(text: str) -> list[Clause]:
    """The clauses of one sentence, in order; a sentence with no joint is one clause (itself).

    Clause texts are stripped of the joint's punctuation; spans index into `text`."""
    spans = _merge_short(text, _spans(text))
    if len(spans) > MAX_CLAUSES:
        spans = [(0, len(text))]
    clauses: list[Clause] = []
    for start, end in spans:
        piece = text[start:end]
        stripped = piece.strip(" ,;\u2013\u2014-.")
        if not stripped:
            continue
        offset = start + piece.index(stripped)
        clauses.append(Clause(stripped, offset, offset + len(stripped)))
    return clauses or [Clause(text, 0, len(text))]
