"""Candidate retrieval: an inverted index over the baseline claims' normalised terms.

Postings are kept as flat numpy arrays (one slice per term), so scoring a query against every claim
that shares a term is a few vectorised gathers and one `bincount`, not a Python loop per claim: this is
what keeps matching fast at 100,000 baseline claims. Two term weights are computed from it: BM25 (the
classic retrieval score) and the IDF mass two claims share, from which `scoring` builds its overlap
feature.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from monitor.matching.lexicon import Lexicon, default_lexicon
from monitor.matching.model import BaselineClaimRef
from monitor.matching.normalize import ClaimAnalysis, analyze_claim, is_figure_term
from monitor.matching.semantic import StaticEmbeddings, load_embeddings

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]

# BM25 parameters: the usual k1; a lower b because claims are sentences of similar length.
BM25_K1 = 1.2
BM25_B = 0.5
# A figure shares less than a word: two claims about different numbers of troops are still related.
FIGURE_WEIGHT = 0.5


@dataclass(frozen=True)
class QueryTerms:
    """A new claim's terms as index ids, with the weight each carries (figures count half)."""

    term_ids: IntArray
    weights: FloatArray  # idf x figure factor, per term id
    unknown: tuple[str, ...]  # terms the baseline never uses

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())


@dataclass(frozen=True)
class IndexedTerms:
    """What the index keeps of a claim's analysis while it is built: its terms and their surfaces."""

    terms: tuple[str, ...]
    surfaces: tuple[str, ...]

    @classmethod
    def of(cls, analysis: ClaimAnalysis) -> IndexedTerms:
        return cls(analysis.terms, analysis.surfaces)


class BaselineIndex:
    """The baseline claims, their normalised terms and an inverted index over them. Immutable once built."""

    def __init__(
        self,
        refs: Sequence[BaselineClaimRef],
        analyses: Sequence[IndexedTerms],
        lexicon: Lexicon,
        embeddings: StaticEmbeddings | None = None,
    ) -> None:
        """Index `refs` from their terms (same order); with `embeddings`, also one vector per claim."""
        self.refs: tuple[BaselineClaimRef, ...] = tuple(refs)
        self.lexicon = lexicon
        self.embeddings = embeddings
        term_lists = [analysis.terms for analysis in analyses]
        self.score_texts: list[str] = [" ".join(terms) for terms in term_lists]
        self._vocabulary: dict[str, int] = {}
        doc_ids: list[int] = []
        term_ids: list[int] = []
        frequencies: list[int] = []
        lengths = np.zeros(len(self.refs), dtype=np.float32)
        for doc, terms in enumerate(term_lists):
            counts: dict[int, int] = {}
            for term in terms:
                term_id = self._vocabulary.setdefault(term, len(self._vocabulary))
                counts[term_id] = counts.get(term_id, 0) + 1
            doc_ids += [doc] * len(counts)
            term_ids += counts.keys()
            frequencies += counts.values()
            lengths[doc] = len(terms)
        self._terms = list(self._vocabulary)
        self._build_postings(
            np.asarray(doc_ids, dtype=np.int32),
            np.asarray(term_ids, dtype=np.int32),
            np.asarray(frequencies, dtype=np.float32),
            lengths,
        )
        self.vectors: FloatArray | None = None
        if embeddings is not None:
            self.vectors = np.zeros((len(self.refs), embeddings.dimensions), dtype=np.float32)
            for doc, analysis in enumerate(analyses):
                self.vectors[doc] = self._embed(analysis)

    def _build_postings(self, doc_ids: IntArray, term_ids: IntArray, tf: FloatArray, lengths: FloatArray) -> None:
        count = len(self.refs)
        vocabulary_size = len(self._terms)
        order = np.argsort(term_ids, kind="stable")
        self._post_docs: IntArray = doc_ids[order]
        post_terms = term_ids[order]
        df = np.bincount(term_ids, minlength=vocabulary_size).astype(np.float32)
        self._post_offsets = np.concatenate(([0], np.cumsum(df))).astype(np.int64)
        self.idf: FloatArray = np.log1p((count - df + 0.5) / (df + 0.5)).astype(np.float32)
        figure = np.array([is_figure_term(term) for term in self._terms], dtype=bool)
        self.term_weight: FloatArray = np.where(figure, self.idf * FIGURE_WEIGHT, self.idf).astype(np.float32)
        average = float(lengths.mean()) if count else 1.0
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths / max(average, 1.0))
        post_tf = tf[order]
        self._post_bm25: FloatArray = (
            self.idf[post_terms] * post_tf * (BM25_K1 + 1) / (post_tf + norm[self._post_docs])
        ).astype(np.float32)
        # The IDF mass of each claim's distinct terms: the denominator of its share of an overlap.
        self.doc_weight: FloatArray = np.bincount(
            self._post_docs, weights=self.term_weight[post_terms], minlength=count
        ).astype(np.float32)

    @classmethod
    def build(
        cls,
        claims: Iterable[BaselineClaimRef],
        *,
        lexicon: Lexicon | None = None,
        semantic: bool = True,
        context: Callable[[BaselineClaimRef], str | None] | None = None,
    ) -> BaselineIndex:
        """Normalise every claim with `lexicon` (default: the bundled one) and index its terms.

        With `semantic` (the default) and the optional embeddings installed, claims get vectors too.
        `context` gives extra text to index with a claim (a fact-check's title, say): it helps find the
        claim but is never shown, and verdicts look at the claim's own text only."""
        lexicon = lexicon or default_lexicon()
        refs = list(claims)
        embeddings = load_embeddings() if semantic else None

        def indexed_text(ref: BaselineClaimRef) -> str:
            extra = context(ref) if context is not None else None
            return f"{ref.text}\n{extra}" if extra else ref.text

        # Only terms and their surfaces are kept: a full analysis per claim would triple peak memory.
        analyses = [IndexedTerms.of(analyze_claim(indexed_text(ref), lexicon)) for ref in refs]
        return cls(refs, analyses, lexicon, embeddings)

    def _embed(self, analysis: ClaimAnalysis | IndexedTerms) -> FloatArray:
        assert self.embeddings is not None
        return self.embeddings.embed(
            (surface, self.term_idf(term))
            for term, surface in zip(analysis.terms, analysis.surfaces, strict=True)
            if not is_figure_term(term)
        )

    def claim_vector(self, analysis: ClaimAnalysis) -> FloatArray | None:
        """The semantic vector of a new claim, or None when the index has no vectors."""
        return self._embed(analysis) if self.embeddings is not None else None

    def similarities(self, vector: FloatArray | None, docs: IntArray | None = None) -> FloatArray | None:
        """Cosine similarity of the baseline claims `docs` (default: all) to a claim vector, or None
        without vectors."""
        if self.vectors is None or vector is None:
            return None
        return (self.vectors if docs is None else self.vectors[docs]) @ vector

    def __len__(self) -> int:
        return len(self.refs)

    @property
    def vocabulary_size(self) -> int:
        return len(self._terms)

    def query_terms(self, analysis: ClaimAnalysis) -> QueryTerms:
        """The known terms of a new claim (each once) with their weights, and the unknown ones."""
        known: list[int] = []
        unknown: list[str] = []
        for term in dict.fromkeys(analysis.terms):
            term_id = self._vocabulary.get(term)
            if term_id is None:
                unknown.append(term)
            else:
                known.append(term_id)
        ids = np.asarray(known, dtype=np.int32)
        return QueryTerms(ids, self.term_weight[ids], tuple(unknown))

    def term_idf(self, term: str) -> float:
        """The IDF of a term in this baseline; a term the baseline never uses gets the highest IDF."""
        term_id = self._vocabulary.get(term)
        count = len(self.refs)
        if term_id is None:
            return math.log1p((count + 0.5) / 0.5)
        return float(self.idf[term_id])

    def accumulate(self, query: QueryTerms) -> tuple[FloatArray, FloatArray]:
        """BM25 and shared term weight of every claim against the query (zeros where nothing is shared)."""
        count = len(self.refs)
        if not len(query.term_ids):
            zeros = np.zeros(count, dtype=np.float32)
            return zeros, zeros.copy()
        starts = self._post_offsets[query.term_ids]
        ends = self._post_offsets[query.term_ids + 1]
        slices = [slice(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]
        docs = np.concatenate([self._post_docs[part] for part in slices])
        bm25 = np.concatenate([self._post_bm25[part] for part in slices])
        shared = np.repeat(query.weights, (ends - starts).astype(np.int64))
        return (
            np.bincount(docs, weights=bm25, minlength=count).astype(np.float32),
            np.bincount(docs, weights=shared, minlength=count).astype(np.float32),
        )

    @lru_cache(maxsize=4096)  # noqa: B019 - the index lives as long as its cache should
    def analysis(self, doc: int) -> ClaimAnalysis:
        """The full analysis of one baseline claim, made again on demand (the index keeps only terms)."""
        return analyze_claim(self.refs[doc].text, self.lexicon)
