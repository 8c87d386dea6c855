"""`ClaimMatcher`: candidates from the index, ranking scores for them, a calibrated probability for the best,
then the verdict.

For one new claim:
1. is it a claim at all? A fragment, byline, dateline or lone heading never matches (`is_matchable`);
2. candidates: lexically (shared terms, BM25) and, for a small baseline, by a dense scan of every claim;
3. ranking (`scoring`): lexical evidence fused with the sentence encoders' cosines; candidates whose parts
   disagree with the claim (`alignment`: another weapon system, another armed group, a figure that counts
   something else) move down;
4. relevance (`relevance`): for the best few, the probability that each is the claim spoken to, from a
   model fitted on dev; the best is reported when its probability reaches the threshold
   (`MONITOR_MATCH_THRESHOLD`, 0-100), with "likely" or "possible";
5. the verdict and its evidence (`verdict`).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.matching import background_encoding
from monitor.matching.alignment import Conflict, both_count, conflicts, same_count
from monitor.matching.attribution import looked_up_as, read_report
from monitor.matching.index import BaselineIndex, FloatArray, IntArray, QueryTerms, QueryVectors
from monitor.matching.lexicon import Lexicon
from monitor.matching.model import Candidate, MatchResult
from monitor.matching.normalize import ClaimAnalysis, analyze_claim
from monitor.matching.relevance import (
    CYRILLIC_SUFFIX,
    RelevanceModel,
    RelevanceSignals,
    bundled_models,
    confidence_label,
)
from monitor.matching.scoring import (
    LexicalBest,
    ScoredCandidate,
    best_units,
    clause_factors,
    combine,
    fuzzy_scores,
    overlap_scores,
    rank,
    unknown_weight,
)
from monitor.matching.text import designation_words, fold_text, is_cyrillic, word_tokens
from monitor.matching.verdict import decide, rarest_first, shared_terms

# Thresholds of the legacy detection score (`detection_score`), used only where no relevance model is
# fitted for the signals installed. Calibrated on the first dev set's related vs unrelated sentences.
DEFAULT_THRESHOLD = 29.0
LEXICAL_THRESHOLD = 31.0
STATIC_THRESHOLD = 33.0
# Share of the lexical score in the legacy detection score (see `detection_score`).
DETECTION_LEXICAL_SHARE = 0.75
# Where claims are encoded lazily (a large baseline), only this many of the candidates, the best by the
# cheap score (lexical and static vectors), are encoded and re-scored: encoding is the costly step, but
# each claim only once: its vector is kept (in memory and on disk, see `encoder_cache`). Measured on
# CheckThat! dev, MAP@5 by how many: 10 0.825, 20 0.829, 30 0.837, 50 0.844, all (~100) 0.846; with the
# static vectors in the score (`scoring.STATIC_SHARE`), 50 0.849 and 100 0.854 on dev, 0.863 and 0.871 on
# train.
DENSE_RERANK = 100
# A claim whose best lexical match is at least SETTLED_LEXICAL (0-1) and leads the runner-up by
# SETTLED_MARGIN points is a near-verbatim repeat: the sentence encoders cannot change which claim it
# repeats (measured on dev and CheckThat! dev: same claim and verdict either way), so they are skipped.
SETTLED_LEXICAL = 0.55
SETTLED_MARGIN = 20.0
# A near copy of one claim (lexical score at least SETTLED_COPY_LEXICAL: nearly all its weighted words
# shared, both ways) that leads at all (SETTLED_COPY_MARGIN points) is settled too. In a large baseline a
# claim has near-variants (the same sentence with other names or figures) a few points behind, but the
# encoders re-score a variant of a copy below the copy. Measured on the first 1,500 claims of
# bench_scale.py (100,000 baseline claims): half of them fall here, and with the encoders skipped for
# them every claim keeps its match and verdict (scores within 0.1); 1 point also kept them all. No claim
# of dev, dev-cyrillic or CheckThat! dev falls here.
SETTLED_COPY_LEXICAL = 0.9
SETTLED_COPY_MARGIN = 2.0
# The relevance gate before the sentence encoders: an English claim whose best candidate, judged by the
# model of the cheap signals alone (lexical, static vectors, alignment), is less likely than this share of
# the alert threshold to be a match is not encoded: it cannot come near the threshold. Measured on
# dev.jsonl (threshold 0.59): the lowest cheap probability of a related sentence, and of an alert, is
# 0.43; at 0.4 x threshold no figure of dev, dev-cyrillic or CheckThat! dev moves, and of the 5,884 claims
# of the 181 real articles of the extraction benchmark, 7% are encoded instead of 76%.
# Of the two sentence encoders, e5 (the multilingual one) costs three times MiniLM's CPU a claim (about 15
# against 4.5 ms), and the model judging an English claim with both does not read e5's cosine: e5 only
# moves the ranking, so the margin by which the best candidate leads. An English claim the gate passes is
# therefore encoded with MiniLM first, and with e5 only where some candidate could still reach the alert
# threshold, its margin taken at the cap and no conflict assumed (`RelevanceModel.highest_probability`):
# where none can, e5 could not make an alert of it. Measured on 2,150 claims of real article sentences
# (the extraction benchmark): of the 179 the gate passes, 87 need no e5, and every verdict is the same; on
# dev, dev-cyrillic and CheckThat! dev no figure moves.
ENCODER_GATE_SHARE = 0.4
# The conflicts (see `alignment`) that rule a match out wherever the candidate still leads: another
# border, site, weapon system, armed group, agent, event or trip is another proposition however alike the words ("Latvia
# reinforced its border with Belarus" against Kyiv's defence of Ukraine's border). A conflict already costs
# the candidate its rank (`ALIGNMENT_PENALTY`); where it still leads, every other candidate was further off.
# Not the figures' conflicts ("count", "forces"): what a count counts is read from a few head words, which
# a paraphrase may word otherwise ("two Su-25 ground-attack jets" and "two Su-25 attack aircraft"), so
# those only weigh in the score. On dev, dev-cyrillic and CheckThat! dev no alert had a conflict at all.
DISQUALIFYING = frozenset(
    {"system", "unnamed system", "actor", "agent", "event", "other event", "target", "site", "border", "visit"}
)
# How many claims, by cheap overlap, by BM25 and by dense similarity each, get the full score.
DEFAULT_CANDIDATES = 50
# Up to this many baseline claims, dense similarity to every claim proposes candidates too (an exact
# scan); beyond it, it only re-scores the lexical candidates.
DENSE_SCAN_LIMIT = 50_000
# The best this many candidates by ranking score are checked part by part (`alignment`) and get a
# probability; a conflict costs ALIGNMENT_PENALTY ranking points (more than one spread of the score
# between a claim's candidates, so a conflicting candidate falls behind a close one that agrees).
# Measured on dev (top-1 / detection recall): 2 and 3 points 0.68 / 0.86, 4 and 6 points 0.70 / 0.89;
# dev-cyrillic and CheckThat! dev (MAP@5 0.854) the same at each.
ALIGNED_CANDIDATES = 8
ALIGNMENT_PENALTY = 4.0
# A Russian, Ukrainian or Belarusian claim reaches the English baseline through e5, whose cross-language
# cosines are looser, and through the lexicon: a candidate asserting one of the claim’s concepts (the
# lexicon's synonym groups, which carry the Cyrillic words: участвовать / take part / participate) gains
# this many points. Measured on dev-cyrillic.jsonl, top-1 / top-3: 0 points 0.60 / 0.85, 1 0.80 / 0.90,
# 1.5 0.80 / 0.90, 2 0.80 / 0.90; for English claims any bonus cost dev.jsonl a top-3 hit, so none.
CONCEPT_BONUS_CYRILLIC = 1.5
# For each such concept, up to this many: a candidate sharing more of the claim's concepts says more of what
# it says ("Росія збільшила кількість авіаударів з території Білорусі": increased, number and airstrikes, not
# only "increasing their presence"). dev-cyrillic (both configurations) unchanged at 2 and 3.
CONCEPT_BONUS_MOST = 2
# An English claim denying a concept of the lexicon as a fact ("has not taken any part": take part /
# participate) speaks to the claim asserting it as a fact: that candidate gains this many points, as many
# as an alignment conflict costs (see `ClaimMatcher._denial_bonus` and `_asserts`). Measured on dev
# (top-1 / top-3 / contradicted F1), with the bonus going to any candidate not negating the concept: 0
# points 0.70 / 0.86 / 0.20; 1.5 to 3 points 0.70 / 0.89-0.92 / 0.18 with a related sentence lost; 3.5
# to 5 points 0.73 / 0.92 / 0.33 (dev-cyrillic unchanged, CheckThat! dev MAP@5 0.856 at 4). Given to
# every candidate using the concept, however it does (as before), it cost dev-cyrillic three top-1 hits:
# "не планирует принимать участие" (does not plan to take part) denies a plan. Kept from candidates
# that only plan, want or oppose it ("is expected to continue using ... for attacks", "pressured
# Lukashenko to deploy troops"), which probes showed taking the contradiction ("Belarus has not sent
# troops to Ukraine" against the pressure claim): dev 0.73 / 0.89 / 0.33.
DENIED_CONCEPT_BONUS = 4.0
# A Russian, Ukrainian or Belarusian claim denying a concept: any candidate using it gains this many
# points (its tense, which tells a denied fact from a denied plan, is in the verb's form).
DENIED_CONCEPT_BONUS_CYRILLIC = 1.5
# A candidate giving a precise figure of what the claim gives one of (the same thing, of the same nation or
# none named: `alignment.same_count`) gains this many points: an updated figure speaks to the claim that
# gave the old one ("has already reached 10.5 thousand military personnel" to "with only 9,000 troops in
# Belarus"), whose other words are the beat's own. Measured on dev (top-1 / detection recall / updated F1 /
# macro-F1): 0 points 0.76 / 0.86 / 0.67 / 0.67; 2 points 0.76 / 0.89 / 0.71 / 0.69 (dev_e5 top-1 0.73 ->
# 0.76); 3 and 4 points cost a top-1 hit. Vague counts ("dozens") and counts of a share ("troops that could
# take part") gain nothing: with them "45,000 Belarusian military men" went to "12,000-15,000 troops that
# could take part in a possible invasion".
COUNT_AGREEMENT_BONUS = 2.0
# An English claim foreseeing an event (a plan, a possibility or a warning: "a credible threat of Belarus
# joining the fighting ... in the coming months", "Russia could launch a new major offensive") speaks to the
# claim doubting it ("Belarus is unlikely to join", "neither Russia nor Belarus have capacity for any
# large-scale offensives"), which it contradicts, as much as to a claim foreseeing it too: a candidate
# doubting one of the events the claim foresees (`[events] acts`) gains this many points. Doubts word
# the event otherwise than forecasts and rank far down (8th to 42nd on dev), so the bonus goes to the best
# DOUBT_REACH candidates before the best few are examined; a doubt that is no likely match itself goes back
# to its own place (`_likely_doubts_first`). Measured on dev (top-1 / contradicted F1 / macro-F1; detection
# F1 0.92 throughout): 0 to 2.5 points 0.76 / 0.36 / 0.69, 3 to 5 points 0.78 / 0.50 / 0.73 (dev_e5 the same
# from 3.5 points, detection F1 0.89), 6 points 0.76 / 0.46 / 0.72; dev-cyrillic and CheckThat! dev MAP@5
# (0.883) the same at each.
DOUBT_BONUS = 4.0
DOUBT_REACH = 32
# Words before a concept that make it the complement of another verb, not an assertion of its own.
_COMPLEMENT_WORDS = frozenset({"to", "into", "opposes", "oppose", "opposed"})
# An English claim needs at least this many words (beyond figures) in common with the baseline claim it
# is matched to: a word in common is a topic shared, not yet a proposition ("volunteers" against the
# claim about Belarusian volunteers in the Ukrainian army). On dev no other related sentence is lost.
MIN_SHARED_TERMS = 2
# Words every article on this beat shares (Belarus, military, troops: `BaselineIndex.beat_terms`, less the
# lexicon's concepts such as take part / join, which say what is claimed) cannot make a match alone: an
# English claim whose words in common with its match are all of them needs at least this many, or a
# count on each side, which can be an update ("290,000 military reserves" against "Russian forces are
# increasing their presence in Belarus, namely military aviation": two beat words, no figure in the
# claim, no alert; "Belarus will not join the war" still repeats "Belarus is unlikely to join Putin's
# military adventures"). On dev no related sentence is lost.
MIN_BEAT_ONLY_TERMS = 3
# `match_many` takes claims this many at a time: enough for the encoders' batches (of 16 or so, see
# `encoder`), few enough that the baseline claims examined for two chunks' claims (about 8 each: a chunk
# is judged after the next one is screened, see `background_encoding`) are still in the index's analysis
# cache (4,096) when the chunk is judged. Over one batch of 10,000 claims against 100,000 baseline claims
# they were analysed twice; on 3,000 of them, chunks of 256 judged one behind missed the cache 28,697
# times, of 128 24,740 times (once per claim examined).
MATCH_CHUNK = 128
# Below this score (0-100) no baseline claim is close: a "none" result names no nearest claim.
NEAREST_SCORE = 10.0
# A one-line heading that quotes someone ("Putin: «We will hand over Iskander-M to Belarus»") states what
# was said, so it is a claim although it has no full stop.
_QUOTED_HEADING = re.compile(r"^[^:«»\"“”„]{2,80}:\s*[«\"“„]")


def is_matchable(text: str) -> bool:
    """Whether a text is a claim the matcher should look up: not a fragment, byline, dateline, heading,
    question or call to the reader (`monitor.text.claims.is_claim`), unless it is a quoted statement."""
    from monitor.text.claims import is_claim  # the claim filter shared with the crawl (a pure function)

    stripped = text.strip()
    if is_claim(stripped) or bool(_QUOTED_HEADING.match(stripped) and len(stripped.split()) >= 6):
        return True
    # A line typed without its full stop ("Russia decreased the number of airstrikes from Belarus") is a
    # sentence when it would be one with it; a heading, byline or fragment is not, stop or no stop.
    return stripped[-1:].isalnum() and is_claim(stripped + ".")


def names_nothing(lexicon: Lexicon, analysis: ClaimAnalysis) -> bool:
    """Whether a claim's subject is a pronoun ("But they have so far remained steadfastly in Belarus.",
    "Он подчеркнул..."): it names nothing the baseline could be matched on, so the sentence before it
    lends its subject."""
    words = [word for word in analysis.words[:3] if word not in lexicon.connectives]
    return bool(words) and words[0] in lexicon.pronouns


def detection_score(candidate: ScoredCandidate) -> float:
    """The legacy "how sure" score (0-100), where no relevance model is fitted: lexical evidence leads,
    since dense cosines are high between any two sentences on the same topic."""
    if candidate.dense is None:
        return candidate.score
    return 100 * (
        DETECTION_LEXICAL_SHARE * candidate.lexical + (1 - DETECTION_LEXICAL_SHARE) * max(candidate.dense, 0.0)
    )


def configuration(index: BaselineIndex) -> str:
    """The name of the set of signals an index has, which picks its relevance model."""
    if "multilingual" in index.dense:
        return "e5+minilm" if "english" in index.dense else "e5"
    if "english" in index.dense:
        return "minilm"
    return "static" if index.vectors is not None else "lexical"


def default_threshold(index: BaselineIndex, model: RelevanceModel | None) -> float:
    """The "none" threshold (0-100) that fits the signals the index has."""
    if model is not None:
        return round(100 * model.threshold, 1)
    if index.has_encoder:
        return DEFAULT_THRESHOLD
    return STATIC_THRESHOLD if index.vectors is not None else LEXICAL_THRESHOLD


@dataclass(frozen=True)
class LexicalStage:
    """A claim's candidates with the scores that need no sentence encoder (see `ClaimMatcher.rank`)."""

    best: LexicalBest
    static: FloatArray | None


@dataclass(frozen=True)
class Examined:
    """A candidate as the relevance model sees it: its ranking, the pair's signals, its conflicts."""

    candidate: ScoredCandidate
    signals: RelevanceSignals
    conflicts: tuple[Conflict, ...]


@dataclass(frozen=True)
class Judged:
    """A candidate with what the matcher concluded of it: its probability (0-1, or the legacy score/100)
    and the parts on which it disagrees with the new claim."""

    candidate: ScoredCandidate
    probability: float
    conflicts: tuple[Conflict, ...]


@dataclass
class _Screened:
    """A chunk of claims after `ClaimMatcher._screen_chunk`: each one's lexical stage and cheap ranking,
    the gate's examination where it stopped a claim, and the claims it sent on to the encoders."""

    analyses: list[ClaimAnalysis]
    stages: list[LexicalStage | None]
    ranked: list[list[ScoredCandidate]]
    examined: list[list[Examined] | None]
    pending: list[int]
    limit: int | None
    foreseen: list[frozenset[str]]  # what each claim foresees (`ClaimMatcher._foreseen`), read once


@dataclass
class _Encoded:
    """A chunk's pending claims after `ClaimMatcher._encode_pending`: each one's sentence vectors (in the
    order of `_Screened.pending`), and the full ranking of each English claim that e5 was spared for,
    by its place in that order (it is ranked so already to tell)."""

    vectors: list[QueryVectors]
    settled: dict[int, list[ScoredCandidate]]


class ClaimMatcher:
    """Matches new claims against one `BaselineIndex`. Stateless between calls but for encoder caches."""

    def __init__(
        self,
        index: BaselineIndex,
        *,
        threshold: float | None = None,
        candidates: int = DEFAULT_CANDIDATES,
        dense_scan: bool | None = None,
        models: dict[str, RelevanceModel] | None = None,
    ) -> None:
        """`threshold`: the score (0-100) below which the verdict is "none" (default: the calibrated one
        of the signals installed, see `relevance.toml`). `candidates`: how many claims each retrieval
        signal proposes. `dense_scan`: whether dense similarity proposes candidates from the whole
        baseline (default: when it has at most DENSE_SCAN_LIMIT claims and, for the sentence encoders,
        when every claim was encoded at build time). `models`: relevance models by configuration
        (default: the bundled, fitted ones)."""
        self.index = index
        fitted = bundled_models() if models is None else models
        self.model = fitted.get(configuration(index))
        self.cyrillic_model = fitted.get(configuration(index) + CYRILLIC_SUFFIX, self.model)
        # For a claim the encoders skipped (a near-verbatim repeat): the model of the cheap signals.
        cheap = "static" if index.vectors is not None else "lexical"
        self.cheap_model = fitted.get(cheap, self.model) if index.has_encoder else self.model
        self.threshold = default_threshold(index, self.model) if threshold is None else threshold
        # Whether an English claim is encoded with e5 only where it can matter (see ENCODER_GATE_SHARE).
        self._e5_where_it_matters = (
            {"multilingual", "english"} <= set(index.dense)
            and self.model is not None
            and "multilingual" not in self.model.features
        )
        self._threshold_given = threshold is not None
        self.candidate_count = candidates
        self.dense_scan = len(index) <= DENSE_SCAN_LIMIT if dense_scan is None else dense_scan
        # The beat's common words that name its topic (Belarus, military, troops), not what is asserted of
        # it: a lexicon concept the baseline uses often (take part / join) still says what a claim claims,
        # but not one that says only how a claim is regarded (warned, fears: `[beat] attitudes`).
        lexicon = index.lexicon
        self.topic_terms = index.beat_terms - (lexicon.act_keys - lexicon.beat_keys) | lexicon.attitude_keys

    # --- candidates and ranking -------------------------------------------------------------------

    def _candidates(
        self, terms: QueryTerms, missing: float, query: QueryVectors, static_vector: FloatArray | None
    ) -> tuple[IntArray, npt.NDArray[np.float64]]:
        """Candidate claims (sorted ids) and the shared term weight of every unit (see `accumulate`), for
        a claim's known terms and the weight of its unknown ones (`missing`)."""
        index = self.index
        sharing, bm25, shared = index.accumulate(terms)
        # Discounted for clauses as in the final score, so clauses do not crowd out whole claims here.
        overlap = overlap_scores(index, terms, shared[sharing].astype(np.float32), sharing, missing)
        overlap *= clause_factors(index, sharing)
        docs = np.union1d(
            self._top_claims(overlap, sharing, self.candidate_count),
            self._top_claims(bm25, sharing, self.candidate_count),
        )
        if self.dense_scan:
            if index.fully_encoded and query:
                for similarities in index.dense_similarities(query).values():
                    docs = np.union1d(docs, _top(similarities, self.candidate_count))
            static = index.similarities(static_vector)
            if static is not None:
                docs = np.union1d(docs, _top(static, self.candidate_count))
        if index.first_copy is not None:
            docs = np.unique(index.first_copy[docs])  # a claim held twice is proposed once (`first_copies`)
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
        self,
        analysis: ClaimAnalysis,
        query: QueryVectors | None = None,
        *,
        encode: bool = True,
        limit: int | None = None,
    ) -> list[ScoredCandidate]:
        """Every candidate the index proposes for the claim (or the best `limit`), with its ranking
        score, best first.

        `query`: the claim's sentence vectors (computed here when the index has encoders, none are given
        and `encode` is true). With `encode` false and no vectors, only the cheap signals score."""
        if not len(self.index):
            return []
        if query is None:
            query = self.index.encode_queries([analysis.text])[0] if self.index.has_encoder and encode else {}
        return self._scored(self._lexical_stage(analysis, query), query, limit, self._foreseen(analysis))

    def _lexical_stage(self, analysis: ClaimAnalysis, query: QueryVectors) -> LexicalStage | None:
        """The claim's candidates with their lexical and static-vector scores (None without any). The
        query vectors matter here only where a dense scan proposes candidates (`fully_encoded`)."""
        index = self.index
        static_vector = index.claim_vector(analysis)
        terms = index.query_terms(analysis)
        missing = unknown_weight(index, terms)
        docs, shared = self._candidates(terms, missing, query, static_vector)
        if not len(docs):
            return None
        units = index.units_of(docs)
        overlap = overlap_scores(index, terms, shared[units].astype(np.float32), units, missing)
        best = best_units(index, docs, units, overlap, fuzzy_scores(index, " ".join(analysis.terms), units))
        return LexicalStage(best, index.similarities(static_vector, best.docs))

    def _scored(
        self,
        stage: LexicalStage | None,
        query: QueryVectors,
        limit: int | None = None,
        foreseen: frozenset[str] = frozenset(),
        *,
        e5_scale: bool = False,
    ) -> list[ScoredCandidate]:
        """`rank` from the lexical stage: the sentence encoders' cosines added where `query` has them, and
        the candidates doubting what the claim foresees (`foreseen`, see `_foreseen`) moved up.
        `e5_scale`: scored as a ranking with e5 is, without its cosines (see `scoring.combine`)."""
        if stage is None:
            return []
        best, static = stage.best, stage.static
        dense: dict[str, FloatArray] = {}
        if query:
            if not self.index.fully_encoded and len(best.docs) > DENSE_RERANK:
                keep = np.sort(_top(combine(best.score, None, static), DENSE_RERANK))
                best = best.take(keep)
                static = None if static is None else static[keep]
            dense = self.index.dense_similarities(query, best.docs)
        if not foreseen:
            return rank(best, dense, static, limit, e5_scale=e5_scale)
        ranked = rank(best, dense, static, None if limit is None else max(limit, DOUBT_REACH), e5_scale=e5_scale)
        reach = ranked[:DOUBT_REACH]
        moved = [
            replace(c, score=c.score + DOUBT_BONUS, lifted=DOUBT_BONUS) if self._doubts(c.doc, foreseen) else c
            for c in reach
        ]
        ranked = sorted(moved, key=lambda c: -c.score) + ranked[DOUBT_REACH:]
        return ranked if limit is None else ranked[:limit]

    def _foreseen(self, analysis: ClaimAnalysis) -> frozenset[str]:
        """The events an English claim foresees (`[events] acts`: attack, join...) where it tells
        what is planned, possible or feared ("could launch", "in the coming months", "warned"); nothing for a
        claim that denies anything of an event or a country ("may strike not from Belarus, but from Crimea"
        is set against the claim that Belarus's territory is used, not against a doubt; "may start not in
        Donbas, but from Belarus" only moves the place, and still foresees the assault: see
        `verdict.denies_what_it_speaks_of`), nor for a Russian, Ukrainian or Belarusian
        one (whose future is in the verb's form, and whose ranking the lexicon's concepts move already)."""
        from monitor.matching.verdict import denies_what_it_speaks_of, speaks_of_plans

        lexicon = self.index.lexicon
        terms = analysis.term_set
        events = terms & lexicon.act_keys
        if not events or is_cyrillic(analysis.text):
            return frozenset()
        if not (terms & lexicon.attitude_keys or speaks_of_plans(lexicon, analysis)):
            return frozenset()
        return frozenset() if denies_what_it_speaks_of(lexicon, analysis) else events

    def _doubts(self, doc: int, foreseen: frozenset[str]) -> bool:
        """Whether a baseline claim doubts or denies one of the events a claim foresees ("is unlikely to
        join", "no indications that Russia is preparing to attack"). Most claims have no stance cue at all:
        their words are looked up first, and only a claim with one is analysed (with a large baseline the
        analysis, not the lookup, is the cost)."""
        from monitor.matching.verdict import polarity

        lexicon = self.index.lexicon
        if not _has_stance_cue(self.index.refs[doc].text, lexicon):
            return False
        base = self.index.analysis(doc)
        found = foreseen & base.term_set
        return bool(found) and polarity(lexicon, base, found).negative

    def examine(self, analysis: ClaimAnalysis, ranked: list[ScoredCandidate]) -> list[Examined]:
        """The best candidates checked part by part (conflicting ones moved down the ranking), each with
        the relevance signals of the pair: what the relevance model reads, and what
        `bench/fit_relevance.py` fits it on."""
        if not ranked:
            return []
        head = ranked[:ALIGNED_CANDIDATES]
        found = [tuple(conflicts(self.index.lexicon, analysis, self.index.analysis(c.doc))) for c in head]
        cyrillic = is_cyrillic(analysis.text)
        bonus = CONCEPT_BONUS_CYRILLIC if cyrillic else 0.0
        denied = self._denied_facts(analysis, cyrillic=cyrillic)
        moved = [
            c.penalised(
                ALIGNMENT_PENALTY * len(parts)
                - (bonus * self._shared_concepts(analysis, c) if bonus else 0.0)
                - (self._denial_bonus(denied, c.doc, cyrillic=cyrillic) if denied else 0.0)
                - (
                    COUNT_AGREEMENT_BONUS
                    if same_count(self.index.lexicon, analysis, self.index.analysis(c.doc))
                    else 0.0
                )
            )
            for c, parts in zip(head, found, strict=True)
        ]
        order = sorted(range(len(moved)), key=lambda i: -moved[i].score)
        moved, found = [moved[i] for i in order], [found[i] for i in order]
        query_specific = sum(self.index.specific_weight(term) for term in set(analysis.terms))
        novelty = self.index.novelty(analysis)
        examined: list[Examined] = []
        for position, (candidate, parts) in enumerate(zip(moved, found, strict=True)):
            # The margin is of the evidence: a doubt's bonus says which claim to prefer, not how clearly
            # the claim's words pick one.
            others = [c.score - c.lifted for i, c in enumerate(moved) if i != position]
            shared = shared_terms(analysis, self.index.analysis(candidate.doc))
            signals = RelevanceSignals(
                multilingual=candidate.multilingual,
                english=candidate.english,
                lexical=candidate.lexical,
                specific=sum(self.index.specific_weight(term) for term in shared),
                query_specific=query_specific,
                novelty=novelty,
                margin=candidate.score - candidate.lifted - max(others) if others else 0.0,
                conflicts=len(parts),
                cyrillic=cyrillic,
            )
            examined.append(Examined(candidate, signals, parts))
        return examined

    def model_for(self, analysis: ClaimAnalysis, ranked: Sequence[ScoredCandidate] = ()) -> RelevanceModel | None:
        """The relevance model for a claim: for its language (Cyrillic claims have their own), and for
        the signals it was ranked with (`ranked`: without cosines where the encoders were skipped)."""
        if is_cyrillic(analysis.text):
            return self.cyrillic_model
        if ranked and ranked[0].multilingual is None and ranked[0].english is None:
            return self.cheap_model
        return self.model

    def threshold_for(self, analysis: ClaimAnalysis, ranked: Sequence[ScoredCandidate] = ()) -> float:
        """The score (0-100) below which a claim gets no match: the one given, else its model's."""
        if self._threshold_given:
            return self.threshold
        return default_threshold(self.index, self.model_for(analysis, ranked))

    def _denied_concepts(self, analysis: ClaimAnalysis) -> set[str]:
        """The lexicon concepts a claim negates ("has not taken any part": take part, participate)."""
        from monitor.matching.verdict import denied_positions

        lexicon = self.index.lexicon
        positions = denied_positions(lexicon, analysis)
        return {
            term
            for term, start in zip(analysis.terms, analysis.term_starts, strict=True)
            if start in positions and term in lexicon.act_keys and term not in lexicon.beat_keys
        }

    def _denied_facts(self, analysis: ClaimAnalysis, *, cyrillic: bool) -> set[str]:
        """The concepts a claim denies that its candidates are weighed on (`_denial_bonus`): its
        `_denied_concepts`, none where an English claim denies a plan ("does not plan to take part", "will
        not join"): such a claim speaks to the claims about intentions, which it may repeat. Russian,
        Ukrainian and Belarusian mark the future in the verb itself ("не отправит": will not send), so
        there every denied concept counts."""
        from monitor.matching.verdict import speaks_of_plans

        denied = self._denied_concepts(analysis)
        if denied and not cyrillic and speaks_of_plans(self.index.lexicon, analysis):
            return set()
        return denied

    def _denial_bonus(self, denied: set[str], doc: int, *, cyrillic: bool) -> float:
        """The points a candidate gains for asserting what the claim denies (`denied`: its
        `_denied_facts`). What a claim denies is what it speaks to: an English claim denying a fact ("has
        not taken any part") contradicts the claim asserting it ("is actively participating"), the one an
        analyst wants to see it against, rather than a forecast that agrees ("unlikely to join"). A Cyrillic
        claim's candidate using the concept at all gains the smaller DENIED_CONCEPT_BONUS_CYRILLIC."""
        if cyrillic:
            return DENIED_CONCEPT_BONUS_CYRILLIC if denied & set(self.index.analysis(doc).terms) else 0.0
        return DENIED_CONCEPT_BONUS if self._asserts(doc, denied) else 0.0

    def _asserts(self, doc: int, concepts: set[str]) -> bool:
        """Whether a baseline claim asserts one of `concepts` as a fact ("is actively participating",
        "have entered Ukraine"): not a claim that denies or doubts it ("is unlikely to join"), nor one
        about what is planned, wanted or possible ("could soon join", "pressured Lukashenko to deploy
        troops", "opposes any participation"): a claim denying a fact contradicts the claim asserting it.
        """
        from monitor.matching.verdict import polarity, speaks_of_plans

        base = self.index.analysis(doc)
        lexicon = self.index.lexicon
        found = concepts & set(base.terms)
        if not found or speaks_of_plans(lexicon, base) or polarity(lexicon, base, frozenset(found)).negative:
            return False
        # The concept as the complement of another verb ("to deploy", "into joining", "opposes any
        # participation"): that verb, not the concept, is what the claim asserts.
        words = base.words
        return any(
            term in found and not set(words[max(0, start - 2) : start]) & _COMPLEMENT_WORDS
            for term, start in zip(base.terms, base.term_starts, strict=True)
        )

    def _shared_concepts(self, analysis: ClaimAnalysis, candidate: ScoredCandidate) -> int:
        """How many of the things the claim asserts, as the lexicon groups them (take part / participate,
        withdraw / pull out), the candidate asserts too, beyond the beat's common words, up to
        `CONCEPT_BONUS_MOST`."""
        lexicon = self.index.lexicon
        concepts = {t for t in analysis.terms if t in lexicon.concept_keys and t not in self.index.beat_terms}
        return min(len(concepts & set(self.index.analysis(candidate.doc).terms)), CONCEPT_BONUS_MOST)

    def _judge(
        self, analysis: ClaimAnalysis, ranked: list[ScoredCandidate], examined: list[Examined] | None = None
    ) -> list[Judged]:
        """The examined candidates in ranking order, each with its probability. The ranking decides
        which claim is meant (the relevance model was fitted to say whether the best-ranked one is a
        match, not to reorder candidates); a lower-ranked candidate never shows a higher probability
        than one above it, so the list reads best first. `examined`: `examine(analysis, ranked)` where
        the encoder gate has it already."""
        judged: list[Judged] = []
        ceiling = 1.0
        model = self.model_for(analysis, ranked)
        items = self.examine(analysis, ranked) if examined is None else examined
        if model is not None and len(items) > 1 and items[0].candidate.lifted:
            items = _likely_doubts_first(items, model, self.threshold_for(analysis, ranked) / 100)
        for item in items:
            probability = model.probability(item.signals) if model else detection_score(item.candidate) / 100
            ceiling = min(ceiling, probability)
            judged.append(Judged(item.candidate, ceiling, item.conflicts))
        return judged

    # --- matching ---------------------------------------------------------------------------------

    def needs_encoder(self, cheap: Sequence[ScoredCandidate], analysis: ClaimAnalysis) -> bool:
        """Whether the sentence encoders can change the answer the cheap signals give (`cheap`: the
        claim's candidates ranked without them). Not for a claim that shares no term with any baseline
        claim (for a Russian, Ukrainian or Belarusian claim: no name, figure or lexicon concept); not for a
        near-verbatim repeat of one claim that leads all others by far, or a near copy of one that leads
        at all (`SETTLED_COPY_LEXICAL`: its probability then comes from the model of the cheap signals);
        and not for an English claim that model finds too far from every candidate to come near the alert
        threshold (`ENCODER_GATE_SHARE`). A Cyrillic claim shares little but names with the English
        baseline: only the multilingual encoder can judge it."""
        return self._screen(list(cheap), analysis)[0]

    def _screen(self, cheap: list[ScoredCandidate], analysis: ClaimAnalysis) -> tuple[bool, list[Examined] | None]:
        """`needs_encoder`, and the cheap candidates examined where the gate examined them (a claim the
        gate stops is judged on those very candidates: they are not examined twice)."""
        if not cheap:
            return False, None
        if is_cyrillic(analysis.text):
            return True, None
        runner_up = cheap[1].score if len(cheap) > 1 else 0.0
        lead = cheap[0].score - runner_up
        if cheap[0].lexical >= SETTLED_LEXICAL and lead >= SETTLED_MARGIN:
            return False, None
        if cheap[0].lexical >= SETTLED_COPY_LEXICAL and lead >= SETTLED_COPY_MARGIN:
            return False, None
        if self.cheap_model is None or self.cheap_model is self.model:
            return True, None  # no model of the cheap signals: nothing is gated
        examined = self.examine(analysis, cheap)
        probability = max(self.cheap_model.probability(item.signals) for item in examined)
        return probability >= ENCODER_GATE_SHARE * self.threshold_for(analysis) / 100, examined

    def match(self, text: str, *, top_k: int = 3) -> MatchResult:
        """Match one claim: the verdict, the best baseline claim (or None) and the `top_k` candidates."""
        return self.match_many([text], top_k=top_k)[0]

    def match_many(
        self,
        texts: Sequence[str],
        *,
        top_k: int = 3,
        analyses: Sequence[ClaimAnalysis] | None = None,
        contexts: Sequence[str | None] | None = None,
    ) -> list[MatchResult]:
        """`match` for each text, in order. The claims that need the sentence encoders (see
        `needs_encoder`) are encoded in batches, `MATCH_CHUNK` claims at a time, and where there is more
        than one chunk, on a second core while the next chunk is screened (`background_encoding`: the
        same results as encoding in turn). `analyses`: the texts' `analyze_claim` with this index's
        lexicon, where the caller already has them (so they are not computed twice).
        `contexts`: for each text, the sentence before it in its article (or None): a claim that names
        nothing itself ("But they have so far remained in Belarus.") is looked up with its subject
        borrowed from there (see `names_nothing`); its verdict is still read in its own words."""
        lexicon = self.index.lexicon
        if analyses is None:
            analyses = [analyze_claim(text, lexicon) for text in texts]
        borrowed = [
            context if context and names_nothing(lexicon, analysis) else None
            for context, analysis in zip(contexts or [None] * len(texts), analyses, strict=True)
        ]
        # A claim is looked up with the subject it borrows, or as the statement it reports, without the
        # frame of where that was said (`attribution`); its verdict reads its own words either way.
        looked_up = [
            f"{context} {text}" if context else self._statement_of(text, analysis)
            for context, text, analysis in zip(borrowed, texts, analyses, strict=True)
        ]
        lookups = [
            analysis if lookup == text else analyze_claim(lookup, lexicon)
            for lookup, text, analysis in zip(looked_up, texts, analyses, strict=True)
        ]
        results: list[MatchResult] = []

        def judge(chunk: slice, ranked: list[list[ScoredCandidate]], examined: list[list[Examined] | None]) -> None:
            for text, analysis, lookup, found, screened, context in zip(
                texts[chunk], analyses[chunk], lookups[chunk], ranked, examined, borrowed[chunk], strict=True
            ):
                result = self._decide(lookup, found, top_k, claim=is_matchable(text), own=analysis, examined=screened)
                if context:
                    result = replace(result, evidence={**result.evidence, "context": context})
                results.append(result)

        # In chunks: a chunk's claims that need the encoders are encoded in one batch, then judged while
        # the baseline claims the gate examined for them are still in `BaselineIndex.analysis`'s cache.
        # With more than one chunk, a chunk is encoded on a second core while the next one is screened
        # (`background_encoding`): the chunk before is judged once its vectors are in.
        chunks = [slice(start, start + MATCH_CHUNK) for start in range(0, len(texts), MATCH_CHUNK)]
        beside = self.index.has_encoder and background_encoding.worthwhile(len(chunks))
        with background_encoding.BackgroundEncoding() if beside else nullcontext() as background:
            behind = 1 if background is not None else 0  # chunks screened and waiting to be judged
            waiting: deque[tuple[slice, _Screened, Future[_Encoded]]] = deque()

            def judge_first_waiting() -> None:
                chunk, screened, vectors = waiting.popleft()
                judge(chunk, *self._finish_chunk(screened, vectors.result()))

            for chunk in chunks:
                # Only the candidates `_decide` reads are made (`examine` checks the best ALIGNED_CANDIDATES).
                screened = self._screen_chunk(lookups[chunk], limit=ALIGNED_CANDIDATES)
                pending = [looked_up[chunk][position] for position in screened.pending]
                encode = partial(self._encode_pending, screened)
                if background is not None:
                    vectors = background.submit(encode, pending)
                else:
                    vectors = background_encoding.done(encode(pending))
                waiting.append((chunk, screened, vectors))
                if len(waiting) > behind:
                    judge_first_waiting()
            while waiting:
                judge_first_waiting()
        return results

    def _statement_of(self, text: str, analysis: ClaimAnalysis) -> str:
        """The text a claim is looked up with where it reports a statement (`attribution`): without the
        frame of where it was made, and without its speaker where no baseline claim uses any of the
        speaker's words. The claim itself otherwise (`analysis`, its words: most claims have no word of
        saying, and are not read further)."""
        if self.index.lexicon.saying.isdisjoint(analysis.words):
            return text
        report = read_report(text, self.index.lexicon)
        if report is None:
            return text
        speaker = analyze_claim(report.speaker, self.index.lexicon)
        known = len(self.index.query_terms(speaker).term_ids) > 0
        return looked_up_as(report, known)

    def rank_many(self, texts: Sequence[str], analyses: Sequence[ClaimAnalysis]) -> list[list[ScoredCandidate]]:
        """`rank` for each claim, the sentence encoders run in one batch over the claims that need them
        (see `needs_encoder`)."""
        return self._rank_many(texts, analyses)[0]

    def _rank_many(
        self, texts: Sequence[str], analyses: Sequence[ClaimAnalysis], *, limit: int | None = None
    ) -> tuple[list[list[ScoredCandidate]], list[list[Examined] | None]]:
        """`rank_many`, and for each claim the gate stopped, its candidates as the gate examined them.
        `limit`: only each claim's best this many candidates (see `rank`)."""
        screened = self._screen_chunk(analyses, limit=limit)
        return self._finish_chunk(screened, self._encode_pending(screened, [texts[i] for i in screened.pending]))

    def _screen_chunk(self, analyses: Sequence[ClaimAnalysis], *, limit: int | None) -> _Screened:
        """The first half of `_rank_many`: every claim ranked on the cheap signals, and the gate's choice
        of the claims that need the sentence encoders (`_Screened.pending`)."""
        examined: list[list[Examined] | None] = [None] * len(analyses)
        pending: list[int] = []
        if not len(self.index):
            empty = [frozenset[str]()] * len(analyses)
            return _Screened(
                list(analyses), [None] * len(analyses), [[] for _ in analyses], examined, pending, limit, empty
            )
        stages = [self._lexical_stage(analysis, {}) for analysis in analyses]
        foreseen = [self._foreseen(analysis) for analysis in analyses]
        ranked = [self._scored(stage, {}, limit, events) for stage, events in zip(stages, foreseen, strict=True)]
        if self.index.has_encoder:
            for position, cheap in enumerate(ranked):
                needed, examined[position] = self._screen(cheap, analyses[position])
                if needed:
                    pending.append(position)
                    examined[position] = None  # ranked anew with the encoders (`_finish_chunk`)
        return _Screened(list(analyses), stages, ranked, examined, pending, limit, foreseen)

    def _encode_pending(self, screened: _Screened, texts: Sequence[str]) -> _Encoded:
        """The sentence vectors of a chunk's pending claims (`texts`, as looked up, in the order of
        `screened.pending`). Where e5 is spared where it cannot matter (see ENCODER_GATE_SHARE), MiniLM
        encodes the English claims first; each is ranked with it, and only those with a candidate that
        could still reach the threshold (`_may_reach_threshold`) are encoded with e5 as well, in one batch
        with the Cyrillic claims."""
        if not self._e5_where_it_matters:
            return _Encoded(self.index.encode_queries(texts), {})
        vectors = self.index.encode_queries(texts, roles={"english"})  # nothing for a Cyrillic claim
        settled: dict[int, list[ScoredCandidate]] = {}
        for place, (position, query) in enumerate(zip(screened.pending, vectors, strict=True)):
            if not query:
                continue
            analysis = screened.analyses[position]
            ranked = self._ranked_with(screened, position, query, limit=None, e5_scale=True)
            if not self._may_reach_threshold(analysis, ranked):
                settled[place] = ranked
        rest = [place for place in range(len(texts)) if place not in settled]
        extra = self.index.encode_queries([texts[place] for place in rest], roles={"multilingual"})
        for place, more in zip(rest, extra, strict=True):
            vectors[place] = {**vectors[place], **more}
        return _Encoded(vectors, settled)

    def _ranked_with(
        self, screened: _Screened, position: int, query: QueryVectors, *, limit: int | None, e5_scale: bool = False
    ) -> list[ScoredCandidate]:
        """A screened claim ranked with its sentence vectors `query` (`e5_scale`: see `_scored`)."""
        # With a dense scan of every claim, the scan proposes candidates of its own: the stage is made
        # anew; otherwise candidates come from the cheap signals alone, and their lexical stage is reused.
        stage = (
            self._lexical_stage(screened.analyses[position], query)
            if self.index.fully_encoded
            else screened.stages[position]
        )
        return self._scored(stage, query, limit, screened.foreseen[position], e5_scale=e5_scale)

    def _may_reach_threshold(self, analysis: ClaimAnalysis, ranked: Sequence[ScoredCandidate]) -> bool:
        """Whether any candidate of an English claim, ranked without e5, could reach the alert threshold
        once e5 ranks it too: the model reads the claim's MiniLM cosine, lexical score and novelty, which
        e5 does not change; the margin (which e5 moves) is taken at its cap and the conflicts (read later,
        for the best few) at none. Bounded are the candidates ranked without e5: where a dense scan of
        every claim proposes candidates, those e5's scan alone would add are not (each signal proposes the
        best 50; a claim only e5 finds near shares less with it, in words and by MiniLM, than 50 others).
        On the real sentences and evaluation files measured (see ENCODER_GATE_SHARE) no verdict differed."""
        model = self.model
        if model is None:
            return True
        threshold = self.threshold_for(analysis, ranked) / 100
        novelty = self.index.novelty(analysis)
        return any(
            model.highest_probability(
                {"english": candidate.english or 0.0, "lexical": candidate.lexical, "novelty": novelty, "cyrillic": 0.0}
            )
            >= threshold
            for candidate in ranked
        )

    def _finish_chunk(
        self, screened: _Screened, encoded: _Encoded
    ) -> tuple[list[list[ScoredCandidate]], list[list[Examined] | None]]:
        """The second half of `_rank_many`: the pending claims ranked anew with their sentence vectors
        (`encoded`, in the order of `screened.pending`), or as `_encode_pending` ranked them already."""
        ranked, limit = screened.ranked, screened.limit
        for place, (position, query) in enumerate(zip(screened.pending, encoded.vectors, strict=True)):
            settled = encoded.settled.get(place)
            ranked[position] = (
                settled[:limit] if settled is not None else self._ranked_with(screened, position, query, limit=limit)
            )
        return ranked, screened.examined

    def _named_only(self, new: ClaimAnalysis, base: ClaimAnalysis, common: frozenset[str]) -> list[str]:
        """The shared words, as the baseline claim writes them, where every shared term beyond the beat's
        vocabulary is part of a name in both claims (see `designation_words`); empty otherwise."""
        specific = [term for term in common if term not in self.index.beat_terms]
        if not specific:
            return []
        # The new claim's side first: it rules most pairs out, and the baseline claim's names, read anew
        # for each pair, are then not read at all.
        names_new = designation_words(new.text)
        if not all(set(new.surface_of(term).split()) <= names_new for term in specific):
            return []
        names_base = designation_words(base.text)
        if not all(set(base.surface_of(term).split()) <= names_base for term in specific):
            return []
        return sorted(base.surface_of(term) for term in specific)

    def _background(self, own: ClaimAnalysis) -> tuple[frozenset[str], list[str]]:
        """The terms a claim names only in phrases that set its time or cause (`[clauses] background`:
        "after Russia's invasion of Ukraine", up to the next comma) or that tell what it leaves unsaid
        (`[clauses] unsaid`: "without saying how many were involved"), and those phrases as written
        (folded); nothing where it has none."""
        lexicon = self.index.lexicon
        cues, unsaid = lexicon.background, lexicon.unsaid
        words = set(own.words)
        if not (words & cues or (unsaid and any(phrase.split()[0] in words for phrase in unsaid))):
            return frozenset(), []
        pattern = _background_pattern(cues | unsaid)
        phrases = [match.group().strip(" .!?") for match in pattern.finditer(own.folded)]
        if not phrases:
            return frozenset(), []
        rest = analyze_claim(pattern.sub(" ", own.folded), lexicon).term_set
        return own.term_set - rest, phrases

    def _too_little_in_common(
        self, own: ClaimAnalysis, base: ClaimAnalysis, common: frozenset[str], *, reaches: bool
    ) -> str | None:
        """Why a claim is no alert with its nearest baseline claim although the words it shares with it may
        score high (`reaches`: its score reaches the threshold), or None."""
        if is_cyrillic(own.text):
            # A Russian, Ukrainian or Belarusian claim reaches the English baseline through e5 and the
            # lexicon's bridges (names, places, concepts), so one bridged word is evidence; with none, the
            # alert would rest on a sentence vector alone and show the reader nothing to check. On
            # dev-cyrillic no claim alerts so.
            if reaches and not common:
                return "nothing in common with the nearest claim that the lexicon reads (names, places, concepts)"
            if reaches and common <= self.index.lexicon.country_keys:
                # As for English: the countries' names alone say nothing of what either claim asserts
                # ("Литва укрепила границу с Беларусью" against "Belarus is actively participating").
                words = ", ".join(base.surface_of(term) for term in sorted(common))
                return f"only the countries' names in common with the nearest claim ({words})"
            return None
        named = self._named_only(own, base, common)
        if named:
            # The words in common beyond the beat's own are a person's name and office: the same person
            # ("Foreign Minister Vladimir Makei") saying or doing something else is not the same claim.
            # Said whatever the score: it tells the reader more than a score below the threshold.
            return f"only a name in common with the nearest claim ({', '.join(named)})"
        if not reaches:
            return None
        background, phrases = self._background(own)
        reason = self._too_little(own, base, common - background)
        if reason is not None and common & background:
            # Said, so that a reader sees why words both claims use do not count.
            set_aside = ", ".join(base.surface_of(term) for term in sorted(common & background))
            unsaid = [phrase for phrase in phrases if phrase.startswith(tuple(self.index.lexicon.unsaid))]
            what = "which says when or why" if not unsaid else "which tells what is left unsaid"
            if unsaid and len(unsaid) < len(phrases):
                what = "which say when, why or what is left unsaid"
            reason += f'; {set_aside} shared only in "{"; ".join(phrases)}", {what}'
        return reason

    def _too_little(self, own: ClaimAnalysis, base: ClaimAnalysis, common: frozenset[str]) -> str | None:
        """`_too_little_in_common`'s rules for an English claim reaching the threshold, on the words in
        common that count."""
        words = ", ".join(base.surface_of(term) for term in sorted(common))
        if len(common) < MIN_SHARED_TERMS:
            # One word in common ("volunteers") is a shared topic, not a shared proposition. A claim
            # whose subject is a pronoun is judged with the subject it borrowed from the sentence before
            # (`common` holds its words); with none to borrow, one word is as little as for any claim:
            # "But they have so far remained steadfastly in Belarus" alone has only "remains" in common
            # with "Still, Ukrainian authorities remains vigilant".
            return f"only {len(common)} word in common with the nearest claim ({words or 'none'})"
        if common <= self.index.lexicon.country_keys:
            return f"only the countries' names in common with the nearest claim ({words})"
        lexicon = self.index.lexicon
        if common <= lexicon.country_keys | lexicon.direction_keys:
            # Which way something moved says nothing of what moved: "Russia increased gas prices for
            # Belarus" is not "Russian forces are increasing their presence in Belarus".
            return f"only the countries' names and which way something moved in common with the nearest claim ({words})"
        if len(common) < MIN_BEAT_ONLY_TERMS and common <= self.topic_terms and not both_count(own, base):
            return f"only words every article on this beat uses in common with the nearest claim ({words})"
        return None

    def _decide(
        self,
        analysis: ClaimAnalysis,
        ranked: list[ScoredCandidate],
        top_k: int,
        *,
        claim: bool = True,
        own: ClaimAnalysis | None = None,
        examined: list[Examined] | None = None,
    ) -> MatchResult:
        """The result for one claim from its ranked candidates. `claim`: whether the text is a claim at
        all (see `is_matchable`); a text that is not gets "none", with its nearest candidates listed.
        `own`: the claim's own words where `analysis` is what it was looked up with (its subject borrowed
        from the sentence before): the verdict reads them. `examined`: the candidates as the encoder gate
        examined them, where it did."""
        own = own or analysis
        text = own.text
        judged = self._judge(analysis, ranked, examined)
        candidates = tuple(
            Candidate(self.index.refs[j.candidate.doc], round(100 * j.probability, 1)) for j in judged[: max(top_k, 1)]
        )
        if not claim:
            reason = "not a claim: a fragment, byline, dateline, heading or question is never matched"
            return MatchResult(text, "none", 0.0, None, {"reason": reason}, candidates[:top_k])
        if not judged:
            return MatchResult(
                text, "none", 0.0, None, {"reason": "no baseline claim shares a term"}, candidates[:top_k]
            )
        best = judged[0]
        base = self.index.analysis(best.candidate.doc)
        score = round(100 * best.probability, 1)
        threshold = self.threshold_for(analysis, ranked)
        common = shared_terms(analysis, base)
        too_little = self._too_little_in_common(own, base, common, reaches=score >= threshold)
        refused: dict[str, Any] | None = None if too_little is None else {"reason": too_little}
        if refused is None and score >= threshold and any(c.kind in DISQUALIFYING for c in best.conflicts):
            refused = {
                "reason": "the nearest claim states another proposition: their parts disagree",
                "conflicts": [conflict.describe() for conflict in best.conflicts],
            }
        if refused is not None:
            nearest = self.index.refs[best.candidate.doc]
            return MatchResult(text, "none", score, nearest, refused, candidates[:top_k])
        if score < threshold:
            shared = rarest_first(shared_terms(analysis, base), self.index.term_idf)
            evidence: dict[str, Any] = {
                "reason": f"match score {score:g} is below the threshold {threshold:g}",
                "shared_terms": [base.surface_of(term) for term in shared[:8]],
            }
            if best.conflicts:
                evidence["conflicts"] = [conflict.describe() for conflict in best.conflicts]
            # Below the threshold the verdict is none, but the nearest claim is still named unless nothing
            # is close (DESIGN.md: `baseline` is the best candidate, or null where nothing is close): a
            # reader checking by hand wants to see what came closest.
            close = self.index.refs[best.candidate.doc] if score >= NEAREST_SCORE else None
            return MatchResult(text, "none", score, close, evidence, candidates[:top_k])
        clause = self.index.clause_analysis(best.candidate.unit)
        verdict, evidence = decide(self.index.lexicon, own, base, self.index.term_idf, clause=clause)
        if clause is not None:
            evidence["matched_clause"] = clause.text
        model = self.model_for(analysis, ranked)
        if model is not None:
            evidence["confidence"] = confidence_label(best.probability, model)
        if best.conflicts:
            evidence["conflicts"] = [conflict.describe() for conflict in best.conflicts]
        return MatchResult(text, verdict, score, self.index.refs[best.candidate.doc], evidence, candidates[:top_k])


@lru_cache(maxsize=16_384)  # per baseline claim: read once, not for each forecast it is a candidate of
def _has_stance_cue(text: str, lexicon: Lexicon) -> bool:
    """Whether a claim's words hold a cue of its stance (a negation, a negative word, a refutation...)."""
    return next(iter(lexicon.stance.find(word_tokens(fold_text(text)))), None) is not None


def _likely_doubts_first(items: list[Examined], model: RelevanceModel, threshold: float) -> list[Examined]:
    """The examined candidates, a doubt that went first only for its doubt (`DOUBT_BONUS`) put back in its
    own place when it is no likely match itself (its probability below `threshold`): a forecast is set
    against a doubt only where the doubt is of the same thing ("Officials warned of a renewed offensive from
    the north" against "no indications that Russia is preparing to attack Ukraine from Belarus": unlikely),
    and otherwise still matches the claims it repeats."""
    items = list(items)
    moved: set[int] = set()
    while items[0].candidate.lifted and items[0].candidate.doc not in moved:
        first = items.pop(0)
        if model.probability(first.signals) >= threshold:
            items.insert(0, first)
            break
        moved.add(first.candidate.doc)
        place = first.candidate.score - first.candidate.lifted
        at = next((i for i, item in enumerate(items) if item.candidate.score < place), len(items))
        items.insert(at, first)
    return items


@lru_cache(maxsize=8)  # one per lexicon: the pattern is built once, not for every claim that reaches the threshold
def _background_pattern(cues: frozenset[str]) -> re.Pattern[str]:
    """A phrase that sets a claim's time or cause, or tells what it leaves unsaid: a cue word or phrase, up to
    the next comma, semicolon or colon."""
    return re.compile(
        r"\b(?:" + "|".join(re.escape(cue) for cue in sorted(cues, key=len, reverse=True)) + r")\b[^,;:]*"
    )


def _top(values: np.ndarray, count: int) -> np.ndarray:
    if len(values) <= count:
        return np.arange(len(values), dtype=np.int32)
    return np.argpartition(-values, count)[:count].astype(np.int32)
