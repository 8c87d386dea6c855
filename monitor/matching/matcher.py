"""`ClaimMatcher`: candidates from the index, full scores for the best of them, then the verdict."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monitor.matching.index import BaselineIndex
from monitor.matching.model import Candidate, MatchResult
from monitor.matching.normalize import ClaimAnalysis, analyze_claim
from monitor.matching.scoring import ScoredCandidate, final_scores, overlap_scores, unknown_weight
from monitor.matching.verdict import decide, shared_terms

# Tuned on dev.jsonl's related vs unrelated sentences (and checked on CheckThat!): below it, nothing in
# the baseline says the same thing.
DEFAULT_THRESHOLD = 31.0
# How many claims, by cheap overlap, by BM25 and by semantic similarity each, get the full score.
DEFAULT_CANDIDATES = 50
# Up to this many baseline claims, semantic similarity to every claim proposes candidates too (an exact
# dense scan); beyond it, it only re-scores the lexical candidates, since reading every vector per query
# would dominate the time.
DENSE_SCAN_LIMIT = 50_000


class ClaimMatcher:
    """Matches new claims against one `BaselineIndex`. Stateless between calls; safe to reuse."""

    def __init__(
        self,
        index: BaselineIndex,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        candidates: int = DEFAULT_CANDIDATES,
        dense_scan: bool | None = None,
    ) -> None:
        """`threshold`: the score (0-100) below which the verdict is "none". `candidates`: how many claims
        each retrieval signal proposes. `dense_scan`: whether semantic similarity proposes candidates
        from the whole baseline (default: when it has at most DENSE_SCAN_LIMIT claims)."""
        self.index = index
        self.threshold = threshold
        self.candidate_count = candidates
        self.dense_scan = len(index) <= DENSE_SCAN_LIMIT if dense_scan is None else dense_scan

    def rank(self, analysis: ClaimAnalysis) -> list[ScoredCandidate]:
        """Every candidate the index proposes for the claim, fully scored, best first."""
        index = self.index
        if not len(index):
            return []
        query = index.query_terms(analysis)
        missing = unknown_weight(index, query)
        bm25, shared = index.accumulate(query)
        sharing = np.flatnonzero(shared).astype(np.int32)
        overlap = overlap_scores(index, query, shared[sharing], sharing, missing)
        docs = np.union1d(
            sharing[_top(overlap, self.candidate_count)], sharing[_top(bm25[sharing], self.candidate_count)]
        )
        vector = index.claim_vector(analysis)
        if self.dense_scan:
            everything = index.similarities(vector)
            if everything is not None:
                docs = np.union1d(docs, _top(everything, self.candidate_count))
        docs = docs.astype(np.int32)
        return final_scores(
            index,
            " ".join(analysis.terms),
            docs,
            overlap_scores(index, query, shared[docs], docs, missing),
            index.similarities(vector, docs),
        )

    def match(self, text: str, *, top_k: int = 3) -> MatchResult:
        """Match one claim: the verdict, the best baseline claim (or None) and the `top_k` candidates."""
        analysis = analyze_claim(text, self.index.lexicon)
        ranked = self.rank(analysis)
        candidates = tuple(Candidate(self.index.refs[c.doc], round(c.score, 1)) for c in ranked[: max(top_k, 1)])
        if not ranked:
            return MatchResult(
                text, "none", 0.0, None, {"reason": "no baseline claim shares a term"}, candidates[:top_k]
            )
        best = ranked[0]
        base = self.index.analysis(best.doc)
        score = round(best.score, 1)
        if best.score < self.threshold:
            shared = sorted(shared_terms(analysis, base), key=lambda t: -self.index.term_idf(t))
            evidence = {
                "reason": f"best score {score:g} is below the threshold {self.threshold:g}",
                "shared_terms": [base.surface_of(term) for term in shared[:8]],
            }
            return MatchResult(text, "none", score, None, evidence, candidates[:top_k])
        verdict, evidence = decide(self.index.lexicon, analysis, base, self.index.term_idf)
        return MatchResult(text, verdict, score, self.index.refs[best.doc], evidence, candidates[:top_k])

    def match_many(self, texts: Sequence[str], *, top_k: int = 3) -> list[MatchResult]:
        """`match` for each text, in order."""
        return [self.match(text, top_k=top_k) for text in texts]


def _top(values: np.ndarray, count: int) -> np.ndarray:
    if len(values) <= count:
        return np.arange(len(values), dtype=np.int32)
    return np.argpartition(-values, count)[:count].astype(np.int32)
