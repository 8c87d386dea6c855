"""The verdict on a matched pair (new claim, baseline claim), with the evidence a person needs to see why.

Rules, in order (DESIGN.md, "Verdicts"):
- contradicted: polarity reversed on the matched proposition (the matched clause of the baseline claim).
  Negation cues, negative words and refutations count only where they bear on terms the two claims
  share; antonym pairs flip too; a negation and an antonym cancel ("did not withdraw" vs "deployed").
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

# A negation bears on the words after it up to this many content words (stopwords do not count: "does
# not seem to be ready to sacrifice his troops" negates "troops"), stopping at a clause boundary.
SCOPE_TERMS = 6
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


def _scope(lexicon: Lexicon, analysis: ClaimAnalysis, cue: Cue) -> range:
    end = cue.end
    content = 0
    while end < len(analysis.stems) and content < SCOPE_TERMS:
        word_stem = analysis.stems[end]
        if word_stem in _CLAUSE_BOUNDARIES:
            break
        if word_stem not in lexicon.stopwords:
            content += 1
        end += 1
    return range(cue.end, end)


def _shared_positions(analysis: ClaimAnalysis, shared: frozenset[str]) -> set[int]:
    return {start for term, start in zip(analysis.terms, analysis.term_starts, strict=True) if term in shared}


@dataclass(frozen=True)
class Polarity:
    """The cues that reverse a claim's matched proposition; any one makes it negative."""

    cues: tuple[Cue, ...]

    @property
    def negative(self) -> bool:
        return bool(self.cues)


def negated_positions(lexicon: Lexicon, analysis: ClaimAnalysis) -> set[int]:
    """Word positions under a negation cue's scope (for the status rules: a negated plan is no plan)."""
    masked = _masked_positions(lexicon, analysis)
    positions: set[int] = set()
    for cue in _find(lexicon.negation, analysis, masked):
        positions.update(range(cue.start, cue.end))
        positions.update(_scope(lexicon, analysis, cue))
    return positions


def polarity(lexicon: Lexicon, analysis: ClaimAnalysis, shared: frozenset[str]) -> Polarity:
    """The negations, negative words and refutations of `analysis` that bear on the shared terms.

    Repeated negations in one claim do not cancel ("has not taken and does not take any part" is one
    denial); only a negation whose scope holds a negative word does ("not unlikely" is positive)."""
    masked = _masked_positions(lexicon, analysis)
    positions = _shared_positions(analysis, shared)
    negative = _find(lexicon.negative_words, analysis, masked)
    cancelled: set[int] = set()
    cues: list[Cue] = []
    for cue in _find(lexicon.negation, analysis, masked):
        scope = _scope(lexicon, analysis, cue)
        inverted = [word for word in negative if word.start in scope]
        if inverted:
            cancelled.update(word.start for word in inverted)
        elif positions.intersection(scope):
            cues.append(cue)
    seen: set[int] = set(cancelled)
    for cue in negative + _find(lexicon.refutation, analysis, masked):
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


def _cue_near_shared(
    cues: Sequence[Cue], analysis: ClaimAnalysis, shared: frozenset[str], negated: set[int]
) -> Cue | None:
    """The first cue followed closely by a shared term, leaving out cues under a negation (a plan that
    is denied is no plan; "had not" is nothing done) and cues negated right after ("has not")."""
    positions = _shared_positions(analysis, shared)
    for cue in cues:
        if cue.start in negated or cue.end in negated:
            continue
        if positions.intersection(range(cue.end, cue.end + 4)):
            return cue
    return None


def _with_next_word(analysis: ClaimAnalysis, cue: Cue) -> str:
    if cue.end < len(analysis.words) and analysis.stems[cue.end] not in ("to", "be"):
        return f"{cue.text} {analysis.words[cue.end]}"
    return " ".join(analysis.words[cue.start : cue.end + 2])


def _planned_before(lexicon: Lexicon, analysis: ClaimAnalysis, term: str, negated: set[int]) -> bool:
    """Whether a planned cue stands just before the term ("will transfer", "plans to deliver")."""
    starts = [start for candidate, start in zip(analysis.terms, analysis.term_starts, strict=True) if candidate == term]
    cues = [cue for cue in _find(lexicon.planned, analysis) if cue.start not in negated]
    return any(0 <= start - cue.end <= 3 for start in starts for cue in cues)


def _stage_move(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis, negated: set[int]) -> tuple[str, str] | None:
    base_terms, new_terms = set(base.terms), set(new.terms)
    for early, late in lexicon.stages:
        if early in base_terms and late in new_terms and late not in base_terms:
            return base.surface_of(early), new.surface_of(late)
    # An action that is itself the early stage only when still to come: "will transfer" -> "received",
    # but "has provided" -> "received" is the same event told from the other side.
    for early, late in lexicon.planned_stages:
        moved = early in base_terms and late in new_terms and late not in base_terms
        if moved and _planned_before(lexicon, base, early, negated):
            return base.surface_of(early), new.surface_of(late)
    return None


def status_move(
    lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis, shared: frozenset[str]
) -> tuple[str, str] | None:
    """(baseline status, new status) when the baseline plans or proposes what the new claim reports done."""
    base_negated = negated_positions(lexicon, base)
    new_negated = negated_positions(lexicon, new)
    stage = _stage_move(lexicon, new, base, base_negated)
    if stage is not None:
        return stage
    planned = _cue_near_shared(_find(lexicon.planned, base), base, shared, base_negated)
    if planned is None or _cue_near_shared(_find(lexicon.planned, new), new, shared, new_negated) is not None:
        return None
    done = _cue_near_shared(_find(lexicon.done, new), new, shared, new_negated)
    if done is None:
        return None
    return _with_next_word(base, planned), _with_next_word(new, done)


def _already_counted(lexicon: Lexicon, antonym: tuple[str, str]) -> bool:
    """Whether either side of an antonym pair is a negative word, which polarity already weighed (with
    any negation over it: "not unlikely" vs "likely" is no reversal)."""
    return any(list(lexicon.negative_words.find(tuple(word.split()))) for word in antonym)


def _is_polarity_cue(antonym: tuple[str, str], *polarities: Polarity) -> bool:
    """Whether a word of the antonym pair is itself a polarity cue found ("denied" is a refutation and the
    antonym of "confirmed"): polarity has weighed it already."""
    words = {word.casefold() for word in antonym}
    return any(cue.text.casefold() in words for found in polarities for cue in found.cues)


def shared_terms(new: ClaimAnalysis, base: ClaimAnalysis) -> frozenset[str]:
    return frozenset(term for term in set(new.terms) & set(base.terms) if not is_figure_term(term))


def decide(
    lexicon: Lexicon,
    new: ClaimAnalysis,
    base: ClaimAnalysis,
    idf: Callable[[str], float],
    *,
    clause: ClaimAnalysis | None = None,
) -> tuple[Verdict, dict[str, Any]]:
    """The verdict on a pair already known to match, and its evidence (JSON-serialisable).

    `clause`: the clause of the baseline claim that matched, when it was one clause rather than the
    whole claim: polarity and status are read in it (a negation in another clause bears on another
    proposition), figures in the whole claim."""
    whole = base
    base = clause or base
    shared = shared_terms(new, base)
    ranked = sorted(shared, key=lambda term: (-idf(term), term))
    evidence: dict[str, Any] = {"shared_terms": [base.surface_of(term) for term in ranked[:8]]}
    new_polarity = polarity(lexicon, new, shared)
    base_polarity = polarity(lexicon, base, shared)
    antonym = antonym_flip(lexicon, new, base)
    if antonym is not None and (
        _already_counted(lexicon, antonym) or _is_polarity_cue(antonym, new_polarity, base_polarity)
    ):
        antonym = None  # "reluctant" is a negative word and an antonym of "ready": one reversal, not two
    flips = (new_polarity.negative != base_polarity.negative) != (antonym is not None)
    if flips:
        if new_polarity.negative != base_polarity.negative:
            side, cues = ("new", new_polarity) if new_polarity.negative else ("baseline", base_polarity)
            evidence["negated"] = cues.cues[0].text
            evidence["negated_in"] = side
        if antonym is not None:
            evidence["antonym"] = list(antonym)
        return "contradicted", evidence
    changed = changed_figures(lexicon, new, whole)
    status = status_move(lexicon, new, base, shared)
    if changed:
        evidence["changed"] = [list(pair) for pair in changed]
    if status:
        evidence["status"] = list(status)
    if changed or status:
        return "updated", evidence
    return "repeated", evidence
