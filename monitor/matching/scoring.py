"""How close a baseline claim is to a new claim, 0-100: lexical evidence fused with dense similarity.

Per unit (a claim or one of its clauses, see `index`):
- `overlap_scores`: IDF-weighted term overlap, vectorised over every unit the index returns (cheap; it
  also picks the candidates),
- rapidfuzz's token-set ratio on the normalised term strings, for the candidates' units only.
The lexical score of a claim is the best of its units'. `combine` fuses it with the dense cosines that
are available into the ranking score (0-100):
- with the multilingual encoder (e5), each signal counts in units of its typical spread between one
  claim's candidates (`*_SPREAD`): e5's cosines differ by hundredths where MiniLM's differ by tenths, so
  raw weights would let one drown the other. The e5-equivalent sum is the score.
- without it, the lexical score and the English encoder's (or the static vectors') cosine, each with a
  fixed weight, renormalised over the signals present, as measured before e5 was added.
Whether a candidate speaks to the claim at all is not this score's job: `relevance` turns a candidate's
signals into a calibrated probability, which is what the threshold is compared with.
`exhaustive_scores` applies the same final score to every claim: the reference that the indexed path is
measured against (recall@1 in `bench/bench_scale.py`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import fuzz, process

from monitor.matching.index import BaselineIndex, FloatArray, IntArray, QueryTerms

# Share of the query's term weight found in the unit counts more than the share of the unit's found
# in the query: baseline claims are often long compound sentences of which news repeats one clause.
QUERY_SHARE_EXPONENT = 0.6
OVERLAP_WEIGHT = 0.75
FUZZY_WEIGHT = 0.25
# Weights of the three signals in the final score (renormalised over those present). Measured on dev
# and CheckThat! (see bench/floors.toml): the sentence encoder carries about as much as the lexical
# evidence. The static vectors are present next to it only for a large baseline (see `index.build`), where
# a little of them helps: CheckThat! MAP@5 at shares 0 / 0.1 / 0.2, dev 0.848 / 0.854 / 0.859, train
# 0.869 / 0.871 / 0.869. (On the bundled baseline they would cost dev.jsonl two top-3 hits at 0.2.)
LEXICAL_SHARE = 0.5
DENSE_SHARE = 0.5
STATIC_SHARE = 0.1
# Without the sentence encoder, the static vectors take this share next to the lexical score.
STATIC_SHARE_ALONE = 0.3
# With the multilingual encoder: each signal's typical spread between the candidates of one claim (the
# standard deviation over the bundled 87-claim baseline, averaged over dev's sentences), and its weight
# in those units. Measured on dev (English top-1 / top-3): e5 alone 0.59 / 0.73; with MiniLM and the
# lexical score at 0.6 / 0.2 / 0.2, 0.65 / 0.84; 0.5 / 0.25 / 0.25, 0.65 / 0.81; 0.7 / 0.15 / 0.15,
# 0.65 / 0.78. Later, with alignment and the relevance model refitted at each (e5 / MiniLM 0.6 / 0.2),
# by the lexical weight: 0.15 0.68 / 0.81, 0.2 0.70 / 0.86, 0.3 0.70 / 0.89, 0.35 0.68 / 0.92, 0.4
# 0.68 / 0.86 (CheckThat! does not move: a baseline that large is matched without e5). Cyrillic claims
# have no MiniLM cosine (it reads English only); their lexical weight is their own.
E5_SPREAD = 0.027
ENGLISH_SPREAD = 0.12
LEXICAL_SPREAD = 0.075
E5_WEIGHT = 0.6
ENGLISH_WEIGHT = 0.2
LEXICAL_WEIGHT = 0.3
LEXICAL_WEIGHT_CYRILLIC = 0.2
# A clause matches on fewer terms than its whole claim, so its overlap comes easier: it counts at this
# share. Measured: without it, short clauses of unrelated claims outrank whole-claim matches on CheckThat!.
CLAUSE_FACTOR = 0.8
# Terms of the query the baseline has never seen still make it a different claim: they count in the
# query's weight, at this share of the highest IDF.
UNKNOWN_TERM_FACTOR = 0.5


@dataclass(frozen=True)
class ScoredCandidate:
    """A candidate claim's ranking score and the features behind it."""

    doc: int
    score: float  # the ranking score (see `combine`)
    unit: int  # the claim's best-matching unit (the whole claim or one clause)
    overlap: float  # 0-1, of that unit
    fuzzy: float  # 0-1, of that unit
    lexical: float  # 0-1
    multilingual: float | None  # e5 cosine, or None without
    english: float | None  # MiniLM cosine, or None without (or for a claim not in English)
    static: float | None  # static-vector cosine, or None without
    lifted: float = 0.0  # points it gained for doubting what the claim foresees (`matcher.DOUBT_BONUS`)

    @property
    def dense(self) -> float | None:
        """The sentence-encoder cosine the legacy detection reads: MiniLM's, else e5's."""
        return self.english if self.english is not None else self.multilingual

    def penalised(self, points: float) -> ScoredCandidate:
        """The same candidate ranked `points` lower (see `alignment`)."""
        return replace(self, score=self.score - points)


def overlap_scores(
    index: BaselineIndex, query: QueryTerms, shared: FloatArray, units: IntArray, unknown_weight: float
) -> FloatArray:
    """IDF-weighted overlap (0-1) of the query with the units `units`, from their shared weights."""
    query_weight = query.total_weight + unknown_weight
    if query_weight <= 0:
        return np.zeros(len(units), dtype=np.float32)
    query_share = shared / query_weight
    unit_share = shared / np.maximum(index.unit_weight[units], 1e-6)
    result = np.power(query_share, QUERY_SHARE_EXPONENT) * np.power(unit_share, 1 - QUERY_SHARE_EXPONENT)
    return result.astype(np.float32)


def unknown_weight(index: BaselineIndex, query: QueryTerms) -> float:
    """The weight the query's unknown terms add to its total (figures count half)."""
    if not query.unknown:
        return 0.0
    return UNKNOWN_TERM_FACTOR * index.term_idf("") * sum(0.5 if t[:1].isdigit() else 1.0 for t in query.unknown)


def lexical(overlap: FloatArray, fuzzy: FloatArray) -> FloatArray:
    """The lexical score (0-1) of units from their overlap and fuzzy ratio (both 0-1)."""
    return (OVERLAP_WEIGHT * overlap + FUZZY_WEIGHT * fuzzy).astype(np.float32)


def combine(
    lexical_score: FloatArray,
    dense: FloatArray | None,
    static: FloatArray | None,
    multilingual: FloatArray | None = None,
    *,
    e5_scale: bool = False,
) -> FloatArray:
    """The ranking score, 0-100 or so, from the lexical score (0-1) and the cosines that are available
    (`dense`: the English encoder's, `multilingual`: e5's). `e5_scale`: without e5's cosines, scored as
    where they are given, their part left out (as if e5 found every candidate as close): the score's
    differences between candidates are then those of a ranking with e5 where e5 does not tell them apart."""
    if multilingual is not None or e5_scale:
        weight = E5_WEIGHT
        total = E5_WEIGHT * multilingual if multilingual is not None else np.zeros_like(lexical_score)
        lexical_weight = LEXICAL_WEIGHT if dense is not None else LEXICAL_WEIGHT_CYRILLIC
        total = total + lexical_weight * lexical_score * (E5_SPREAD / LEXICAL_SPREAD)
        weight += lexical_weight
        if dense is not None:
            total = total + ENGLISH_WEIGHT * dense * (E5_SPREAD / ENGLISH_SPREAD)
            weight += ENGLISH_WEIGHT
        return (100 * total / weight).astype(np.float32)
    static_share = STATIC_SHARE if dense is not None else STATIC_SHARE_ALONE
    total = LEXICAL_SHARE * lexical_score
    weight = LEXICAL_SHARE
    if dense is not None:
        total = total + DENSE_SHARE * np.maximum(dense, 0)
        weight += DENSE_SHARE
    if static is not None and static_share > 0:
        total = total + static_share * np.maximum(static, 0)
        weight += static_share
    return (100 * total / weight).astype(np.float32)


# Per index, the factor of every unit (see `clause_factors`), made once: it is asked for the tens of
# thousands of units that share a term with each claim matched.
_UNIT_FACTORS: weakref.WeakKeyDictionary[BaselineIndex, FloatArray] = weakref.WeakKeyDictionary()


def clause_factors(index: BaselineIndex, units: IntArray) -> FloatArray:
    """The factor each unit's lexical score counts at: CLAUSE_FACTOR for a clause, 1 for a whole claim."""
    factors = _UNIT_FACTORS.get(index)
    if factors is None:
        factors = np.where(index.unit_is_clause, np.float32(CLAUSE_FACTOR), np.float32(1.0))
        _UNIT_FACTORS[index] = factors
    return factors[units]


def fuzzy_scores(index: BaselineIndex, query_text: str, units: IntArray) -> FloatArray:
    """rapidfuzz token-set ratio (0-1) of the query's term string with each unit's claim.

    Always the whole claim's: the token-set ratio is 100 whenever one term set holds the other, which a
    short clause's often is of a long query; the clause's own evidence is its overlap."""
    if not len(units):
        return np.zeros(0, dtype=np.float32)
    wholes = index.unit_offsets[index.unit_owner[units]]
    distinct, back = np.unique(wholes, return_inverse=True)
    choices = [index.score_texts[int(unit)] for unit in distinct]
    ratios = process.cdist([query_text], choices, scorer=fuzz.token_set_ratio, dtype=np.float32)[0] / 100
    return ratios[back.reshape(-1)].astype(np.float32)


@dataclass(frozen=True)
class LexicalBest:
    """Per candidate claim: its lexical score and the unit that gave it, with that unit's features."""

    docs: IntArray
    score: FloatArray
    unit: IntArray
    overlap: FloatArray
    fuzzy: FloatArray

    def take(self, rows: IntArray) -> LexicalBest:
        """The rows `rows` only (in that order)."""
        return LexicalBest(self.docs[rows], self.score[rows], self.unit[rows], self.overlap[rows], self.fuzzy[rows])


def best_units(
    index: BaselineIndex, docs: IntArray, units: IntArray, overlap: FloatArray, fuzzy: FloatArray
) -> LexicalBest:
    """Reduce unit features (units of `docs`, claim by claim, as `index.units_of` gives them) to one row
    per claim: the best clause-discounted lexical score, and the unit that matches best undiscounted
    (the whole claim on a tie), which is what the verdict reads."""
    raw = lexical(overlap, fuzzy)
    scores = raw * clause_factors(index, units)
    owners = index.unit_owner[units]
    # Units come grouped by claim, in the order of `docs`: the first unit of each group starts a segment.
    starts = np.flatnonzero(np.concatenate(([True], owners[1:] != owners[:-1])))
    groups = np.cumsum(np.isin(np.arange(len(units)), starts)) - 1
    # Sorted by group, then by falling score (stable: the whole claim, listed first, wins a tie): the
    # first row of each group is its best unit.
    best = np.lexsort((-raw, groups))[starts]
    best_score = np.maximum.reduceat(scores, starts).astype(np.float32)
    return LexicalBest(docs, best_score, units[best], overlap[best], fuzzy[best])


def rank(
    best: LexicalBest,
    dense: dict[str, FloatArray],
    static: FloatArray | None,
    limit: int | None = None,
    *,
    e5_scale: bool = False,
) -> list[ScoredCandidate]:
    """The candidates with their ranking scores, best first. `dense`: cosines per encoder role. `limit`:
    only the best this many (a claim has a hundred candidates or so, and most callers read a few).
    `e5_scale`: see `combine`."""
    english, multilingual = dense.get("english"), dense.get("multilingual")
    scores = combine(best.score, english, static, multilingual, e5_scale=e5_scale)
    order = np.argsort(-scores, kind="stable")[:limit]
    return [
        ScoredCandidate(
            doc=int(best.docs[i]),
            score=float(scores[i]),
            unit=int(best.unit[i]),
            overlap=float(best.overlap[i]),
            fuzzy=float(best.fuzzy[i]),
            lexical=float(best.score[i]),
            multilingual=None if multilingual is None else float(multilingual[i]),
            english=None if english is None else float(english[i]),
            static=None if static is None else float(static[i]),
        )
        for i in order
    ]


def exhaustive_scores(
    index: BaselineIndex,
    query_text: str,
    overlap_units: FloatArray,
    dense_all: FloatArray | None,
    static_all: FloatArray | None,
    multilingual_all: FloatArray | None = None,
) -> FloatArray:
    """The final score of every claim in the index (a full rapidfuzz scan; for measurement only).

    `overlap_units`: the overlap of every unit; the cosines: of every claim (or None)."""
    wholes = index.unit_offsets[:-1]
    whole_texts = [index.score_texts[int(unit)] for unit in wholes]
    per_claim = process.cdist([query_text], whole_texts, scorer=fuzz.token_set_ratio, dtype=np.float32, workers=-1)[0]
    fuzzy = (per_claim / 100)[index.unit_owner]
    everything = np.arange(index.unit_count, dtype=np.int32)
    return combine(
        index.claim_max(lexical(overlap_units, fuzzy) * clause_factors(index, everything)),
        dense_all,
        static_all,
        multilingual_all,
    )
