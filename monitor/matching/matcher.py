"""`ClaimMatcher`: candidates from the index, full scores for the best of them, then the verdict."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monitor.matching.index import BaselineIndex, FloatArray, IntArray
from monitor.matching.model import Candidate, MatchResult
from monitor.matching.normalize import ClaimAnalysis, analyze_claim
from monitor.matching.scoring import (
    ScoredCandidate,
    best_units,
    clause_factors,
    combine,
    fuzzy_scores,
    overlap_scores,
    rank,
    unknown_weight,
)
from monitor.matching.verdict import decide, shared_terms

# Below this final score nothing in the baseline says the same thing. Calibrated on dev.jsonl's related
# vs unrelated sentences (detection F1), separately for the signals installed, since dense cosines
# between any two sentences on the same topic are higher than lexical overlaps.
DEFAULT_THRESHOLD = 29.0
LEXICAL_THRESHOLD = 31.0
STATIC_THRESHOLD = 33.0
# Share of the lexical score in the detection score (see `detection_score`).
DETECTION_LEXICAL_SHARE = 0.75
# Where claims are encoded lazily (a large baseline), only this many of the candidates, the best by the
# cheap score (lexical and static vectors), are encoded and re-scored: encoding, about 7-10 ms a sentence
# here, is the costly step, but each claim only once: its vector is kept (in memory and on disk, see
# `encoder_cache`). Measured on CheckThat! dev, MAP@5 by how many: 10 0.825, 20 0.829, 30 0.837, 50 0.844
# (4,900 claims encoded for 197 queries), all (~100) 0.846 (7,300 encoded); with the static vectors in the
# score (`scoring.STATIC_SHARE`), 50 0.849 and 100 0.854 on dev, 0.863 and 0.871 on train.
DENSE_RERANK = 100
# The sentence encoder, about 10 ms a claim here, is consulted only where it can change the answer (see
# `ClaimMatcher.needs_encoder`). A claim whose best lexical match is at least SETTLED_LEXICAL (0-1) and leads
# the runner-up by SETTLED_MARGIN points is a near-verbatim repeat: on dev.jsonl every such sentence gets
# the same baseline claim and verdict with the encoder and without; on CheckThat! dev, MAP@5 is the same
# (0.846) while 15 of 197 tweets skip the encoder. (Skipping claims with little lexical evidence as well
# was tried: at a lexical score under 15 it lost a CheckThat! paraphrase, MAP@5 0.841.)
SETTLED_LEXICAL = 0.55
SETTLED_MARGIN = 20.0
# How many claims, by cheap overlap, by BM25 and by dense similarity each, get the full score.
DEFAULT_CANDIDATES = 50
# Up to this many baseline claims, static similarity to every claim proposes candidates too (an exact
# dense scan); beyond it, it only re-scores the lexical candidates. (Sentence vectors propose candidates
# when every claim was encoded at build time: see `index.EAGER_ENCODE_LIMIT`.)
DENSE_SCAN_LIMIT = 50_000


def detection_score(candidate: ScoredCandidate) -> float:
    """How sure (0-100) the best candidate says the same thing: what the threshold is compared with.

    Dense cosines are high between any two sentences on the same topic, so they find paraphrases (they
    weigh half in the ranking score) but tell a related claim from an unrelated one poorly: here the
    lexical evidence leads. Without the sentence encoder this is the ranking score itself."""
    if candidate.dense is None:
        return candidate.score
    return 100 * (
        DETECTION_LEXICAL_SHARE * candidate.lexical + (1 - DETECTION_LEXICAL_SHARE) * max(candidate.dense, 0.0)
    )


def default_threshold(index: BaselineIndex) -> float:
    """The "none" threshold that fits the signals the index has."""
    if index.has_encoder:
        return DEFAULT_THRESHOLD
    return STATIC_THRESHOLD if index.vectors is not None else LEXICAL_THRESHOLD


class ClaimMatcher:
    """Matches new claims against one `BaselineIndex`. Stateless between calls but for encoder caches."""

    def __init__(
        self,
        index: BaselineIndex,
        *,
        threshold: float | None = None,
        candidates: int = DEFAULT_CANDIDATES,
        dense_scan: bool | None = None,
    ) -> None:
        """`threshold`: the score (0-100) below which the verdict is "none" (default: calibrated for the
        signals installed, see `default_threshold`). `candidates`: how many claims each retrieval signal
        proposes. `dense_scan`: whether dense similarity proposes candidates from the whole baseline
        (default: when it has at most DENSE_SCAN_LIMIT claims and, for the sentence encoder, when every
        claim was encoded at build time)."""
        self.index = index
        self.threshold = default_threshold(index) if threshold is None else threshold
        self.candidate_count = candidates
        self.dense_scan = len(index) <= DENSE_SCAN_LIMIT if dense_scan is None else dense_scan

    def _candidates(
        self, analysis: ClaimAnalysis, query_vector: FloatArray | None, static_vector: FloatArray | None
    ) -> tuple[IntArray, FloatArray]:
        """Candidate claims (sorted ids) and the shared term weight of every unit."""
        index = self.index
        query = index.query_terms(analysis)
        missing = unknown_weight(index, query)
        bm25, shared = index.accumulate(query)
        sharing = np.flatnonzero(shared).astype(np.int32)
        # Discounted for clauses as in the final score, so clauses do not crowd out whole claims here.
        overlap = overlap_scores(index, query, shared[sharing], sharing, missing) * clause_factors(index, sharing)
        docs = np.union1d(
            self._top_claims(overlap, sharing, self.candidate_count),
            self._top_claims(bm25[sharing], sharing, self.candidate_count),
        )
        if self.dense_scan:
            if index.fully_encoded and query_vector is not None:
                everything = index.dense_similarities(query_vector)
                if everything is not None:
                    docs = np.union1d(docs, _top(everything, self.candidate_count))
            static = index.similarities(static_vector)
            if static is not None:
                docs = np.union1d(docs, _top(static, self.candidate_count))
        return docs.astype(np.int32), shared

    def _top_claims(self, values: FloatArray, units: IntArray, count: int) -> IntArray:
        """The `count` claims whose best unit among `units` has the highest of `values` (one per unit).

        Works on the best few units rather than a per-claim maximum over every unit, which at 100,000
        claims would cost more than the rest of the query: a claim has a handful of units, so the best
        4 x `count` units hold the best `count` claims."""
        top = _top(values, count * 4)
        owners = self.index.unit_owner[units[top[np.argsort(-values[top], kind="stable")]]]
        _, first = np.unique(owners, return_index=True)
        return owners[np.sort(first)][:count].astype(np.int32)

    def rank(
        self, analysis: ClaimAnalysis, query_vector: FloatArray | None = None, *, encode: bool = True
    ) -> list[ScoredCandidate]:
        """Every candidate the index proposes for the claim, fully scored, best first.

        `query_vector`: the claim's sentence vector (computed here when the index has an encoder, none is
        given and `encode` is true). With `encode` false and no vector, only the cheap signals score."""
        index = self.index
        if not len(index):
            return []
        if query_vector is None and index.has_encoder and encode:
            vectors = index.encode_queries([analysis.text])
            query_vector = None if vectors is None else vectors[0]
        static_vector = index.claim_vector(analysis)
        docs, shared = self._candidates(analysis, query_vector, static_vector)
        if not len(docs):
            return []
        query = index.query_terms(analysis)
        units = index.units_of(docs)
        overlap = overlap_scores(index, query, shared[units], units, unknown_weight(index, query))
        best = best_units(index, docs, units, overlap, fuzzy_scores(index, " ".join(analysis.terms), units))
        static = index.similarities(static_vector, best.docs)
        if query_vector is None:
            return rank(best, None, static)
        if not index.fully_encoded and len(best.docs) > DENSE_RERANK:
            keep = np.sort(_top(combine(best.score, None, static), DENSE_RERANK))
            best = best.take(keep)
            static = None if static is None else static[keep]
        dense = index.dense_similarities(query_vector, best.docs)
        return rank(best, dense, static)

    @staticmethod
    def needs_encoder(cheap: Sequence[ScoredCandidate]) -> bool:
        """Whether the sentence encoder can change the answer the cheap signals give (`cheap`: the claim's
        candidates ranked without it): not when no baseline claim shares a term, nor for a near-verbatim
        repeat of one claim that leads all others by far."""
        if not cheap:
            return False
        runner_up = cheap[1].score if len(cheap) > 1 else 0.0
        return not (cheap[0].lexical >= SETTLED_LEXICAL and cheap[0].score - runner_up >= SETTLED_MARGIN)

    def match(self, text: str, *, top_k: int = 3) -> MatchResult:
        """Match one claim: the verdict, the best baseline claim (or None) and the `top_k` candidates."""
        return self.match_many([text], top_k=top_k)[0]

    def match_many(
        self, texts: Sequence[str], *, top_k: int = 3, analyses: Sequence[ClaimAnalysis] | None = None
    ) -> list[MatchResult]:
        """`match` for each text, in order. The claims that need the sentence encoder (see `needs_encoder`)
        are encoded in one batch. `analyses`: the texts' `analyze_claim` with this index's lexicon, where
        the caller already has them (so they are not computed twice)."""
        if analyses is None:
            analyses = [analyze_claim(text, self.index.lexicon) for text in texts]
        if not len(self.index):
            return [self._decide(analysis, [], top_k) for analysis in analyses]
        if not self.index.has_encoder:
            return [self._decide(analysis, self.rank(analysis), top_k) for analysis in analyses]
        ranked = [self.rank(analysis, encode=False) for analysis in analyses]
        pending = [position for position, cheap in enumerate(ranked) if self.needs_encoder(cheap)]
        vectors = self.index.encode_queries([texts[position] for position in pending])
        if vectors is not None:
            for position, vector in zip(pending, vectors, strict=True):
                ranked[position] = self.rank(analyses[position], vector)
        return [self._decide(analysis, found, top_k) for analysis, found in zip(analyses, ranked, strict=True)]

    def _decide(self, analysis: ClaimAnalysis, ranked: list[ScoredCandidate], top_k: int) -> MatchResult:
        text = analysis.text
        candidates = tuple(Candidate(self.index.refs[c.doc], round(c.score, 1)) for c in ranked[: max(top_k, 1)])
        if not ranked:
            return MatchResult(
                text, "none", 0.0, None, {"reason": "no baseline claim shares a term"}, candidates[:top_k]
            )
        best = ranked[0]
        base = self.index.analysis(best.doc)
        score = round(best.score, 1)
        detection = round(detection_score(best), 1)
        if detection < self.threshold:
            shared = sorted(shared_terms(analysis, base), key=lambda t: -self.index.term_idf(t))
            evidence = {
                "reason": f"match strength {detection:g} is below the threshold {self.threshold:g}",
                "shared_terms": [base.surface_of(term) for term in shared[:8]],
            }
            return MatchResult(text, "none", score, None, evidence, candidates[:top_k])
        clause = self.index.unit_analysis(best.unit) if self.index.unit_spans[best.unit] is not None else None
        verdict, evidence = decide(self.index.lexicon, analysis, base, self.index.term_idf, clause=clause)
        if clause is not None:
            evidence["matched_clause"] = clause.text
        return MatchResult(text, verdict, score, self.index.refs[best.doc], evidence, candidates[:top_k])


def _top(values: np.ndarray, count: int) -> np.ndarray:
    if len(values) <= count:
        return np.arange(len(values), dtype=np.int32)
    return np.argpartition(-values, count)[:count].astype(np.int32)
