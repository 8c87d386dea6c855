"""The verdict on a matched pair (new claim, baseline claim), with the evidence a person needs to see why.

Rules, in order (DESIGN.md, "Verdicts"):
- contradicted: polarity reversed on the matched proposition. Negation cues, negative words and
  refutations count only where they bear on terms the two claims share; antonym pairs flip too; two
  flips cancel ("did not withdraw" vs "deployed").
- updated: a figure or date about the same thing differs, or the status moved on (planned -> done, or
  an earlier stage -> a later one), without reversing polarity.
- repeated: otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.matching.figures import Figure, describe
from monitor.matching.lexicon import Lexicon, PhraseSet
from monitor.matching.model import Verdict
from monitor.matching.normalize import ClaimAnalysis, head_keys, is_figure_term

# A cue bears on the words after it up to this many, stopping at a clause boundary.
SCOPE_WORDS = 7
# A negative word ("unlikely") bears on shared terms this many words before or after it.
NEGATIVE_WORD_WINDOW = 5
_CLAUSE_BOUNDARIES = frozenset(
    {"but", "although", "though", "while", "whereas", "howev", "which", "who", "becaus", "sinc", "despit", "yet"}
)


@dataclass(frozen=True)
class Cue:
    """One polarity or status cue found in a claim: its words, where it stands, what it bears on."""

    text: str
    start: int
    end: int


def _find(phrases: PhraseSet, analysis: ClaimAnalysis, masked: frozenset[int] = frozenset()) -> list[Cue]:
    return [
        Cue(" ".join(analysis.words[start:end]), start, end)
        for start, end, _ in phrases.find(analysis.stems if phrases.stemmed else analysis.words)
        if start not in masked
    ]


def _masked_positions(lexicon: Lexicon, analysis: ClaimAnalysis) -> frozenset[int]:
    return frozenset(
        position for start, end, _ in lexicon.not_cues.find(analysis.words) for position in range(start, end)
    )


def _scope(analysis: ClaimAnalysis, cue: Cue) -> range:
    end = cue.end
    while end < len(analysis.stems) and end - cue.end < SCOPE_WORDS:
        if analysis.stems[end] in _CLAUSE_BOUNDARIES:
            break
        end += 1
    return range(cue.end, end)


def _shared_positions(analysis: ClaimAnalysis, shared: frozenset[str]) -> set[int]:
    return {start for term, start in zip(analysis.terms, analysis.term_starts, strict=True) if term in shared}


@dataclass(frozen=True)
class Polarity:
    """The cues that reverse a claim's matched proposition; their count's parity is its polarity."""

    cues: tuple[Cue, ...]

    @property
    def negative(self) -> bool:
        return len(self.cues) % 2 == 1


def polarity(lexicon: Lexicon, analysis: ClaimAnalysis, shared: frozenset[str]) -> Polarity:
    """The negations, negative words and refutations of `analysis` that bear on the shared terms."""
    masked = _masked_positions(lexicon, analysis)
    positions = _shared_positions(analysis, shared)
    cues: list[Cue] = []
    for cue in _find(lexicon.negation, analysis, masked):
        if positions.intersection(_scope(analysis, cue)):
            cues.append(cue)
    negative = _find(lexicon.negative_words, analysis, masked) + _find(lexicon.refutation, analysis, masked)
    seen: set[int] = set()
    for cue in negative:
        if cue.start in seen:
            continue
        seen.add(cue.start)
        window = range(cue.start - NEGATIVE_WORD_WINDOW, cue.end + NEGATIVE_WORD_WINDOW)
        # A refutation can stand alone ("these are baseless inventions"): it refutes the matched claim.
        if positions.intersection(window) or len(analysis.terms) <= 6:
            cues.append(cue)
    return Polarity(tuple(sorted(cues, key=lambda cue: cue.start)))


def _antonym_keys(lexicon: Lexicon, analysis: ClaimAnalysis) -> dict[str, str]:
    keys = {key: analysis.surfaces[i] for i, key in enumerate(analysis.terms) if key in lexicon.antonyms}
    for start, end, key in lexicon.antonym_phrases.find(analysis.stems):
        keys.setdefault(key, " ".join(analysis.words[start:end]))
    return keys


def antonym_flip(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> tuple[str, str] | None:
    """A pair (baseline word, new word) of antonyms, one in each claim and not both in either."""
    new_keys = _antonym_keys(lexicon, new)
    base_keys = _antonym_keys(lexicon, base)
    for key, surface in new_keys.items():
        if key in base_keys:
            continue
        for opposite in lexicon.antonyms[key]:
            if opposite in base_keys and opposite not in new_keys:
                return base_keys[opposite], surface
    return None


def _as_written(analysis: ClaimAnalysis, figure: Figure) -> str:
    if figure.kind in ("date", "month"):
        return describe(figure)
    if len(analysis.folded) == len(analysis.text):  # folding kept offsets: quote the original casing
        return analysis.text[figure.start : figure.end]
    return figure.text


def changed_figures(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> list[tuple[str, str]]:
    """Figures and dates about the same thing that differ: [(baseline as written, new as written)]."""
    changes: list[tuple[str, str]] = []
    base_counts = [f for f in base.figures if f.kind == "count"]
    for figure in new.figures:
        if figure.kind in ("date", "month", "percent"):
            same_kind = [f for f in base.figures if f.kind == figure.kind]
            if same_kind and not any(figure.compatible(other) for other in same_kind):
                changes.append((_as_written(base, same_kind[0]), _as_written(new, figure)))
            continue
        if figure.kind != "count":
            continue
        heads = head_keys(figure, lexicon)
        aligned = [other for other in base_counts if heads & head_keys(other, lexicon)]
        if not aligned and not heads and len(base_counts) == 1:
            aligned = base_counts  # "about 10,000 of them": the baseline's only figure is what it counts
        if aligned and not any(figure.compatible(other) for other in aligned):
            changes.append((_as_written(base, aligned[0]), _as_written(new, figure)))
    return changes


def _cue_near_shared(cues: Sequence[Cue], analysis: ClaimAnalysis, shared: frozenset[str]) -> Cue | None:
    positions = _shared_positions(analysis, shared)
    for cue in cues:
        if positions.intersection(range(cue.end, cue.end + 4)):
            return cue
    return None


def _with_next_word(analysis: ClaimAnalysis, cue: Cue) -> str:
    if cue.end < len(analysis.words) and analysis.stems[cue.end] not in ("to", "be"):
        return f"{cue.text} {analysis.words[cue.end]}"
    return " ".join(analysis.words[cue.start : cue.end + 2])


def status_move(
    lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis, shared: frozenset[str]
) -> tuple[str, str] | None:
    """(baseline status, new status) when the baseline plans or proposes what the new claim reports done."""
    base_terms, new_terms = set(base.terms), set(new.terms)
    for early, late in lexicon.stages:
        if early in base_terms and late in new_terms and late not in base_terms:
            return base.surface_of(early), new.surface_of(late)
    planned = _cue_near_shared(_find(lexicon.planned, base), base, shared)
    if planned is None or _cue_near_shared(_find(lexicon.planned, new), new, shared) is not None:
        return None
    done = _cue_near_shared(_find(lexicon.done, new), new, shared)
    if done is None:
        return None
    return _with_next_word(base, planned), _with_next_word(new, done)


def shared_terms(new: ClaimAnalysis, base: ClaimAnalysis) -> frozenset[str]:
    return frozenset(term for term in set(new.terms) & set(base.terms) if not is_figure_term(term))


def decide(
    lexicon: Lexicon,
    new: ClaimAnalysis,
    base: ClaimAnalysis,
    idf: Callable[[str], float],
) -> tuple[Verdict, dict[str, Any]]:
    """The verdict on a pair already known to match, and its evidence (JSON-serialisable)."""
    shared = shared_terms(new, base)
    ranked = sorted(shared, key=lambda term: (-idf(term), term))
    evidence: dict[str, Any] = {"shared_terms": [base.surface_of(term) for term in ranked[:8]]}
    new_polarity = polarity(lexicon, new, shared)
    base_polarity = polarity(lexicon, base, shared)
    antonym = antonym_flip(lexicon, new, base)
    flips = (new_polarity.negative != base_polarity.negative) != (antonym is not None)
    if flips:
        if new_polarity.negative != base_polarity.negative:
            side, cues = ("new", new_polarity) if new_polarity.negative else ("baseline", base_polarity)
            evidence["negated"] = cues.cues[0].text
            evidence["negated_in"] = side
        if antonym is not None:
            evidence["antonym"] = list(antonym)
        return "contradicted", evidence
    changed = changed_figures(lexicon, new, base)
    status = status_move(lexicon, new, base, shared)
    if changed:
        evidence["changed"] = [list(pair) for pair in changed]
    if status:
        evidence["status"] = list(status)
    if changed or status:
        return "updated", evidence
    return "repeated", evidence
