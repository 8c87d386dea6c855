"""How close a baseline claim is to a new claim, 0-100: IDF-weighted term overlap plus rapidfuzz.

Two stages share one definition of the score:
- `overlap_scores` is vectorised over every claim the index returns (cheap, used to pick candidates),
- `final_scores` adds rapidfuzz's token-set ratio on the normalised term strings, for the candidates only.
`exhaustive_scores` applies the final score to every claim: the reference that the indexed path is
measured against (recall@1 in `bench/bench_scale.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from monitor.matching.index import BaselineIndex, FloatArray, IntArray, QueryTerms

# Share of the query's term weight found in the claim counts more than the share of the claim's found
# in the query: baseline claims are often long compound sentences of which news repeats one clause.
QUERY_SHARE_EXPONENT = 0.6
OVERLAP_WEIGHT = 0.75
FUZZY_WEIGHT = 0.25
# Share of the final score given to semantic similarity when the index has vectors (the lexical score
# keeps the rest). Measured: dev top-1 and CheckThat! MAP@5 both rise up to about this share.
SEMANTIC_WEIGHT = 0.3
# Terms of the query the baseline has never seen still make it a different claim: they count in the
# query's weight, at this share of the highest IDF.
UNKNOWN_TERM_FACTOR = 0.5


@dataclass(frozen=True)
class ScoredCandidate:
    doc: int
    score: float  # 0-100
    overlap: float  # 0-1
    fuzzy: float  # 0-1
    semantic: float | None  # cosine, or None without vectors


def overlap_scores(
    index: BaselineIndex, query: QueryTerms, shared: FloatArray, docs: IntArray, unknown_weight: float
) -> FloatArray:
    """IDF-weighted overlap (0-1) of the query with the claims `docs`, from their shared weights."""
    query_weight = query.total_weight + unknown_weight
    if query_weight <= 0:
        return np.zeros(len(docs), dtype=np.float32)
    query_share = shared / query_weight
    claim_share = shared / np.maximum(index.doc_weight[docs], 1e-6)
    result = np.power(query_share, QUERY_SHARE_EXPONENT) * np.power(claim_share, 1 - QUERY_SHARE_EXPONENT)
    return result.astype(np.float32)


def unknown_weight(index: BaselineIndex, query: QueryTerms) -> float:
    if not query.unknown:
        return 0.0
    return UNKNOWN_TERM_FACTOR * index.term_idf("") * sum(0.5 if t[:1].isdigit() else 1.0 for t in query.unknown)


def combine(overlap: FloatArray, fuzzy: FloatArray, semantic: FloatArray | None) -> FloatArray:
    """The final score, 0-100, from the overlap (0-1), the fuzzy ratio (0-1) and the cosine (if any)."""
    score = 100 * (OVERLAP_WEIGHT * overlap + FUZZY_WEIGHT * fuzzy)
    if semantic is not None:
        score = (1 - SEMANTIC_WEIGHT) * score + SEMANTIC_WEIGHT * 100 * np.maximum(semantic, 0)
    return score.astype(np.float32)


def final_scores(
    index: BaselineIndex,
    query_text: str,
    docs: IntArray,
    overlap: FloatArray,
    semantic: FloatArray | None,
) -> list[ScoredCandidate]:
    """Score the candidate claims `docs` (with their overlaps and cosines) fully; best first."""
    if not len(docs):
        return []
    choices = [index.score_texts[int(doc)] for doc in docs]
    fuzzy = process.cdist([query_text], choices, scorer=fuzz.token_set_ratio, dtype=np.float32)[0] / 100
    scores = combine(overlap, fuzzy, semantic)
    order = np.argsort(-scores, kind="stable")
    return [
        ScoredCandidate(
            int(docs[i]),
            float(scores[i]),
            float(overlap[i]),
            float(fuzzy[i]),
            None if semantic is None else float(semantic[i]),
        )
        for i in order
    ]


def exhaustive_scores(
    index: BaselineIndex,
    query_text: str,
    overlap_all: FloatArray,
    semantic_all: FloatArray | None,
) -> FloatArray:
    """The final score of every claim in the index (a full rapidfuzz scan; for measurement only)."""
    fuzzy = (
        process.cdist([query_text], index.score_texts, scorer=fuzz.token_set_ratio, dtype=np.float32, workers=-1)[0]
        / 100
    )
    return combine(overlap_all, fuzzy, semantic_all)
