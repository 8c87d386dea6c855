"""Candidate retrieval: an inverted index over the baseline claims and their clauses.

Each claim is indexed as one or more *units*: the whole sentence and, for a compound sentence, each of
its clauses (`clauses.split_clauses`). News often repeats one clause of a long baseline sentence; a
clause unit lets that clause match on its own instead of being diluted by the rest of the sentence. A
claim's score is the best of its units' scores, and the matching unit is reported in the evidence.

Postings are kept as flat numpy arrays (one slice per term), so scoring a query against every unit that
shares a term is a few vectorised gathers and one `bincount`, not a Python loop per claim: this is what
keeps matching fast at 100,000 baseline claims. Two term weights are computed from it: BM25 (the classic
retrieval score) and the IDF mass two texts share, from which `scoring` builds its overlap feature. IDF
counts claims, not units, so a term is not made commoner by also sitting in a clause of the same claim.

Dense similarity (optional) is per claim, one matrix per sentence encoder the caller passes in
(`encoders.Encoders`: the multilingual e5 and the English MiniLM). Every baseline claim's vectors are in
the matrix from the moment the index is built: computed once, when the baseline is added (`encode_baseline`,
which `monitor baseline add` runs with a progress display) or when the model changes, kept on disk by the
encoder (`encoder_cache.VectorStore`), and read back by every later index. Matching never encodes a
baseline claim. Up to `EAGER_ENCODE_LIMIT` claims a dense scan of all of them proposes candidates too;
beyond it dense similarity re-scores the candidates retrieval found, up to `DENSE_MAX_CLAIMS`. WordLlama's
static vectors (`semantic`) stand in where no encoder is installed or the baseline is larger.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.matching.clauses import split_clauses
from monitor.matching.encoders import NO_ENCODERS, CachedEncoder, Encoders, Progress
from monitor.matching.lexicon import Lexicon, default_lexicon
from monitor.matching.model import BaselineClaimRef
from monitor.matching.normalize import ClaimAnalysis, analyze_claim, is_figure_term
from monitor.matching.semantic import StaticEmbeddings, load_embeddings
from monitor.matching.text import is_cyrillic, word_tokens

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]

# BM25 parameters: the usual k1; a lower b because claims are sentences of similar length.
BM25_K1 = 1.2
BM25_B = 0.5
# A figure shares less than a word: two claims about different numbers of troops are still related.
FIGURE_WEIGHT = 0.5
# Up to this many claims, both encoders are used and a dense scan of every claim proposes candidates too;
# beyond it, only the English encoder re-scores the candidates retrieval proposes (the cheap signals pick
# them), as `ClaimMatcher` does for a baseline that is not `fully_encoded`. (The name is from when larger
# baselines were encoded lazily, while matching; their vectors are now all computed with the baseline.)
EAGER_ENCODE_LIMIT = 500
# Beyond this many claims the matcher reads the claims' vectors only for the candidates retrieval found
# (it scans every claim up to `matcher.DENSE_SCAN_LIMIT`, the same number), so the sentence and static
# vectors are kept as float16: half the memory (for 100,000 claims, 122 MB less), cosines within 1e-3 of
# float32's (CheckThat! MAP@5 with float16 vectors: dev 0.856, train 0.868, as with float32).
COMPACT_VECTORS_ABOVE = 50_000
# Rows converted to float32 at a time where every claim of a float16 matrix is compared.
SCAN_CHUNK = 8192
# A baseline term in at least this share of its claims (and in at least BEAT_MIN_CLAIMS of them) is part
# of the beat's common vocabulary, like the lexicon's [beat] words: no evidence of a match by itself.
BEAT_SHARE = 0.10
BEAT_MIN_CLAIMS = 5
# Terms whose `specific_weight` an index keeps (the new claims' distinct terms: a few tens of thousands
# over a large batch).
SPECIFIC_CACHE = 65_536
# Beyond this many claims the sentence encoder is not used (the static vectors stand in, if installed).
# With the baseline's vectors computed once, a query costs its own encoding and a gather of its
# candidates' rows, whatever the size; the limit is memory: 1.5 KB a claim (100,000 claims: 154 MB, in
# every process that matches), and the one-off encoding, about 8 ms a claim on one core.
DENSE_MAX_CLAIMS = 200_000


# A new claim's sentence vector per encoder role ("multilingual", "english"); a role is missing where its
# encoder is not installed or does not read the claim's language.
QueryVectors = dict[str, FloatArray]


class DenseVectors:
    """One encoder's unit vectors of every baseline claim, computed when the index is built: read from the
    encoder's vector store, and the claims it has none for (a new baseline, a new model) encoded then and
    kept there (`CachedEncoder.encode_kept`). `scan`: whether a dense scan over all of them proposes
    candidates (a small baseline) or they only re-score the candidates retrieval found."""

    def __init__(
        self, encoder: CachedEncoder, texts: Sequence[str], *, scan: bool, progress: Progress | None = None
    ) -> None:
        self.encoder = encoder
        self.scan = scan
        self.matrix: npt.NDArray[np.floating[Any]] = _compact(encoder.encode_kept(texts, progress=progress))

    @property
    def fully_encoded(self) -> bool:
        return self.scan

    def similarities(self, vector: FloatArray, docs: IntArray | None = None) -> FloatArray:
        """Cosine of the claims `docs` (default: all) to a query vector."""
        return cosines(self.matrix, vector, docs)


def _compact(matrix: FloatArray) -> npt.NDArray[np.floating[Any]]:
    """The vectors of a baseline's claims as kept: float16 beyond COMPACT_VECTORS_ABOVE claims."""
    return matrix.astype(np.float16) if len(matrix) > COMPACT_VECTORS_ABOVE else matrix


def cosines(matrix: npt.NDArray[np.floating[Any]], vector: FloatArray, docs: IntArray | None = None) -> FloatArray:
    """Dot products (cosines, for unit vectors) of the rows `docs` (default: all) of `matrix` with
    `vector`, in float32 whatever the matrix keeps (a float16 one is converted a chunk at a time)."""
    if matrix.dtype == np.float32:
        return np.asarray((matrix if docs is None else matrix[docs]) @ vector, dtype=np.float32)
    if docs is not None:
        return matrix[docs].astype(np.float32) @ vector
    out = np.empty(len(matrix), dtype=np.float32)
    for start in range(0, len(matrix), SCAN_CHUNK):
        out[start : start + SCAN_CHUNK] = matrix[start : start + SCAN_CHUNK].astype(np.float32) @ vector
    return out


def uses_static_vectors(claims: int, encoders: Encoders) -> bool:
    """Whether an index of `claims` claims with `encoders` installed uses the static vectors. Next to a
    sentence encoder that scans every claim they add nothing to the score; they stand in for it where it
    is missing, and for a large baseline (where the encoder only re-scores candidates) they still weigh
    in the score and propose candidates cheaply."""
    return not dense_encoders(claims, encoders).present or claims > EAGER_ENCODE_LIMIT


def dense_encoders(claims: int, encoders: Encoders) -> Encoders:
    """The encoders an index of `claims` baseline claims uses out of `encoders` (see `BaselineIndex.build`)."""
    if claims > DENSE_MAX_CLAIMS:
        return NO_ENCODERS
    if claims > EAGER_ENCODE_LIMIT and encoders.english is not None:
        # For a large baseline only the English encoder (a quarter of e5's cost) re-scores candidates: a
        # large baseline then matches English claims (as fitted and measured on CheckThat!).
        return Encoders(english=encoders.english)
    return encoders


def installed_encoders(claims: int) -> Encoders:
    """The installed encoders an index of `claims` baseline claims uses (`dense_encoders`), each loaded
    (once per process) only if it is used: a large baseline loads MiniLM alone, not e5, which would hold
    its tokenizer and weights (about 120 MB) in every process that matches."""
    from monitor.matching.encoder import load_encoder

    if claims > DENSE_MAX_CLAIMS:
        return NO_ENCODERS
    if claims > EAGER_ENCODE_LIMIT:
        english = load_encoder()
        if english is not None:
            return Encoders(english=english)
    return Encoders.installed()


def encode_baseline(
    texts: Sequence[str], encoders: Encoders, *, progress: Callable[[str, int, int], None] | None = None
) -> dict[str, int]:
    """Compute and keep the vectors of baseline claims `texts` (the whole baseline) for the encoders an
    index of them uses, so that building it later only reads them: run when a baseline is added.
    `progress(encoder name, done, to_do)` after each chunk. Returns how many texts each encoder encoded
    (0 where every vector was kept already)."""
    done: dict[str, int] = {}
    used = dense_encoders(len(texts), encoders)
    for encoder in (used.multilingual, used.english):
        if encoder is None:
            continue
        to_do = encoder.missing_kept(texts)
        done[encoder.name] = to_do
        if to_do:
            encoder.encode_kept(texts, progress=partial(progress, encoder.name) if progress else None)
    return done


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


@dataclass(frozen=True)
class Unit:
    """One indexed unit of a claim: the whole claim (span None) or one clause (its span in the text)."""

    terms: IndexedTerms
    span: tuple[int, int] | None = None


def claim_units(text: str, lexicon: Lexicon, extra: str | None = None) -> list[Unit]:
    """The units to index for one claim: the whole text (with `extra` context) and, for a compound
    sentence, each of its clauses."""
    whole = f"{text}\n{extra}" if extra else text
    units = [Unit(IndexedTerms.of(analyze_claim(whole, lexicon)))]
    clauses = split_clauses(text)
    if len(clauses) > 1:
        units += [Unit(IndexedTerms.of(analyze_claim(c.text, lexicon)), (c.start, c.end)) for c in clauses]
    return units


def first_copies(texts: Sequence[str]) -> IntArray | None:
    """For each claim, the first claim of the baseline in the same words (case, punctuation and quote marks
    aside: a fact-check imported twice, once with 'single' and once with "double" quotes), or None where
    every claim is worded differently. A claim the baseline holds twice is one claim to a reader: it is
    proposed as the copy first added, rather than as a near-tie of two entries."""
    first: dict[str, int] = {}
    copies = np.arange(len(texts), dtype=np.int32)
    for doc, text in enumerate(texts):
        copies[doc] = first.setdefault(" ".join(word_tokens(text.casefold())), doc)
    return copies if len(first) < len(texts) else None


class BaselineIndex:
    """The baseline claims, their normalised terms and an inverted index over them. Immutable once built
    (the sentence vectors of every claim included)."""

    def __init__(
        self,
        refs: Sequence[BaselineClaimRef],
        units: Sequence[Sequence[Unit]],
        lexicon: Lexicon,
        embeddings: StaticEmbeddings | None = None,
        encoders: Encoders = NO_ENCODERS,
    ) -> None:
        """Index `refs` from their units (same order, at least one unit each); with `embeddings`, also
        one static vector per claim; with `encoders`, sentence vectors per encoder (every claim's, read
        from the vector store or encoded now: see module)."""
        self.refs: tuple[BaselineClaimRef, ...] = tuple(refs)
        self.lexicon = lexicon
        self.embeddings = embeddings
        self.encoders = encoders
        counts = [len(claim) for claim in units]
        self.unit_offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.unit_owner: IntArray = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        self.first_copy: IntArray | None = first_copies([ref.text for ref in self.refs])
        flat = [unit for claim in units for unit in claim]
        self.unit_spans: list[tuple[int, int] | None] = [unit.span for unit in flat]
        self.unit_is_clause = np.array([unit.span is not None for unit in flat], dtype=bool)
        self.score_texts: list[str] = [" ".join(unit.terms.terms) for unit in flat]
        self._vocabulary: dict[str, int] = {}
        self._build_postings([unit.terms.terms for unit in flat])
        self.vectors: npt.NDArray[np.floating[Any]] | None = None
        if embeddings is not None:
            vectors = np.zeros((len(self.refs), embeddings.dimensions), dtype=np.float32)
            for doc, claim in enumerate(units):
                vectors[doc] = self._embed(claim[0].terms)
            self.vectors = _compact(vectors)
        texts = [ref.text for ref in self.refs]
        scan = len(self.refs) <= EAGER_ENCODE_LIMIT
        self.dense: dict[str, DenseVectors] = {
            role: DenseVectors(encoder, texts, scan=scan)
            for role, encoder in (("multilingual", encoders.multilingual), ("english", encoders.english))
            if encoder is not None
        }

    def _build_postings(self, term_lists: Sequence[Sequence[str]]) -> None:
        doc_ids: list[int] = []
        term_ids: list[int] = []
        frequencies: list[int] = []
        lengths = np.zeros(len(term_lists), dtype=np.float32)
        for unit, terms in enumerate(term_lists):
            counts: dict[int, int] = {}
            for term in terms:
                term_id = self._vocabulary.setdefault(term, len(self._vocabulary))
                counts[term_id] = counts.get(term_id, 0) + 1
            doc_ids += [unit] * len(counts)
            term_ids += counts.keys()
            frequencies += counts.values()
            lengths[unit] = len(terms)
        self._terms = list(self._vocabulary)
        self._index_postings(
            np.asarray(doc_ids, dtype=np.int32),
            np.asarray(term_ids, dtype=np.int32),
            np.asarray(frequencies, dtype=np.float32),
            lengths,
        )

    def _index_postings(self, unit_ids: IntArray, term_ids: IntArray, tf: FloatArray, lengths: FloatArray) -> None:
        claims = len(self.refs)
        units = len(lengths)
        vocabulary_size = len(self._terms)
        order = np.argsort(term_ids, kind="stable")
        self._post_units: IntArray = unit_ids[order]
        post_terms = term_ids[order]
        self._post_offsets = np.concatenate(([0], np.cumsum(np.bincount(term_ids, minlength=vocabulary_size))))
        # Document frequency in claims: (term, owning claim) pairs, each counted once.
        owner_pairs = np.unique(post_terms.astype(np.int64) * max(claims, 1) + self.unit_owner[self._post_units])
        df = np.bincount(owner_pairs // max(claims, 1), minlength=vocabulary_size).astype(np.float32)
        self.idf: FloatArray = np.log1p((claims - df + 0.5) / (df + 0.5)).astype(np.float32)
        # The IDF of a term no claim uses (the highest), asked for with every term a new claim has.
        self._unseen_idf = math.log1p((claims + 0.5) / 0.5)
        self._specific: dict[str, float] = {}
        common = max(BEAT_MIN_CLAIMS, BEAT_SHARE * claims)
        self.beat_terms: frozenset[str] = self.lexicon.beat_keys | {
            term for term, count in zip(self._terms, df, strict=True) if count >= common
        }
        figure = np.array([is_figure_term(term) for term in self._terms], dtype=bool)
        self.term_weight: FloatArray = np.where(figure, self.idf * FIGURE_WEIGHT, self.idf).astype(np.float32)
        average = float(lengths.mean()) if units else 1.0
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths / max(average, 1.0))
        post_tf = tf[order]
        self._post_bm25: FloatArray = (
            self.idf[post_terms] * post_tf * (BM25_K1 + 1) / (post_tf + norm[self._post_units])
        ).astype(np.float32)
        # The IDF mass of each unit's distinct terms: the denominator of its share of an overlap.
        self.unit_weight: FloatArray = np.bincount(
            self._post_units, weights=self.term_weight[post_terms], minlength=units
        ).astype(np.float32)

    @classmethod
    def build(
        cls,
        claims: Iterable[BaselineClaimRef],
        *,
        lexicon: Lexicon | None = None,
        encoders: Encoders = NO_ENCODERS,
        embeddings: StaticEmbeddings | None = None,
        context: Callable[[BaselineClaimRef], str | None] | None = None,
    ) -> BaselineIndex:
        """Normalise every claim (and its clauses) with `lexicon` (default: the bundled one) and index them.

        `encoders`: the sentence encoders to use (none: lexical matching); beyond `DENSE_MAX_CLAIMS`
        claims none is used (see `dense_encoders`). Their vectors of every claim are read from their
        vector stores, and any not kept there are encoded now (`encode_baseline` does that ahead, with
        progress, when a baseline is added). `embeddings`: static word vectors, used where no encoder is (or where
        the encoder only re-scores candidates, to propose candidates from the whole baseline cheaply). `context`
        gives extra text to index with a claim (a fact-check's title, say): it helps find the claim but
        is never shown, and verdicts look at the claim's own text only."""
        lexicon = lexicon or default_lexicon()
        refs = list(claims)
        units = [claim_units(ref.text, lexicon, context(ref) if context is not None else None) for ref in refs]
        if not uses_static_vectors(len(refs), encoders):
            embeddings = None
        return cls(refs, units, lexicon, embeddings, dense_encoders(len(refs), encoders))

    @classmethod
    def build_with_installed(
        cls,
        claims: Iterable[BaselineClaimRef],
        *,
        lexicon: Lexicon | None = None,
        context: Callable[[BaselineClaimRef], str | None] | None = None,
    ) -> BaselineIndex:
        """`build` with every optional model that is installed: the sentence encoders and static vectors
        (these loaded only where the index uses them: they hold 50 MB in every process that matches)."""
        refs = list(claims)
        encoders = installed_encoders(len(refs))
        embeddings = load_embeddings() if uses_static_vectors(len(refs), encoders) else None
        return cls.build(refs, lexicon=lexicon, encoders=encoders, embeddings=embeddings, context=context)

    # --- dense similarity -------------------------------------------------------------------------

    def _embed(self, analysis: ClaimAnalysis | IndexedTerms) -> FloatArray:
        assert self.embeddings is not None
        return self.embeddings.embed(
            (surface, self.term_idf(term))
            for term, surface in zip(analysis.terms, analysis.surfaces, strict=True)
            if not is_figure_term(term)
        )

    def claim_vector(self, analysis: ClaimAnalysis) -> FloatArray | None:
        """The static vector of a new claim, or None when the index has no static vectors."""
        return self._embed(analysis) if self.embeddings is not None else None

    def similarities(self, vector: FloatArray | None, docs: IntArray | None = None) -> FloatArray | None:
        """Static-vector cosine of the claims `docs` (default: all) to a claim vector, or None without."""
        if self.vectors is None or vector is None:
            return None
        return cosines(self.vectors, vector, docs)

    @property
    def has_encoder(self) -> bool:
        return bool(self.dense)

    @property
    def fully_encoded(self) -> bool:
        """Whether every claim has its sentence vectors (so a dense scan over all of them is possible)."""
        return bool(self.dense) and all(vectors.fully_encoded for vectors in self.dense.values())

    def encode_queries(self, texts: Sequence[str], roles: Collection[str] | None = None) -> list[QueryVectors]:
        """Sentence vectors of new claims, per encoder that reads each claim's language (the English
        encoder reads Latin-script claims only); an empty mapping each without encoders. `roles`: only
        these encoders (default: all)."""
        if not self.dense:
            return [{} for _ in texts]
        result: list[QueryVectors] = [{} for _ in texts]
        for role, vectors in self.dense.items():
            if roles is not None and role not in roles:
                continue
            chosen = [i for i, text in enumerate(texts) if vectors.encoder.multilingual or not is_cyrillic(text)]
            if not chosen:
                continue
            matrix = vectors.encoder.encode([texts[i] for i in chosen])
            for row, position in enumerate(chosen):
                result[position][role] = matrix[row]
        return result

    def dense_similarities(self, query: QueryVectors, docs: IntArray | None = None) -> dict[str, FloatArray]:
        """Per encoder role the query has a vector for: cosine of the claims `docs` (default: all),
        encoding claims not yet encoded."""
        return {
            role: self.dense[role].similarities(vector, docs) for role, vector in query.items() if role in self.dense
        }

    # --- terms and postings -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.refs)

    @property
    def unit_count(self) -> int:
        return len(self.score_texts)

    @property
    def vocabulary_size(self) -> int:
        return len(self._terms)

    def units_of(self, docs: IntArray) -> IntArray:
        """The unit ids of the claims `docs`, claim by claim."""
        if not len(docs):
            return np.zeros(0, dtype=np.int32)
        starts, ends = self.unit_offsets[docs], self.unit_offsets[docs + 1]
        return np.concatenate([np.arange(s, e, dtype=np.int32) for s, e in zip(starts, ends, strict=True)])

    def claim_max(self, unit_values: FloatArray) -> FloatArray:
        """Per claim, the largest of its units' values (`unit_values` over every unit)."""
        if not len(self.refs):
            return np.zeros(0, dtype=np.float32)
        return np.maximum.reduceat(unit_values, self.unit_offsets[:-1]).astype(np.float32)

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
        if term_id is None:
            return self._unseen_idf
        return float(self.idf[term_id])

    def specific_weight(self, term: str) -> float:
        """A term's weight as evidence beyond the beat's vocabulary, in rare-word equivalents (1 for a
        term the baseline never or once uses): 0 for the beat's common words and for figures."""
        # Asked for every term of every candidate pair a claim is judged on: kept per index (a cache on
        # the method would keep a replaced index alive), and emptied when it grows past SPECIFIC_CACHE.
        weight = self._specific.get(term)
        if weight is None:
            if len(self._specific) >= SPECIFIC_CACHE:
                self._specific.clear()
            common = term in self.beat_terms or is_figure_term(term)
            weight = 0.0 if common else self.term_idf(term) / self._unseen_idf
            self._specific[term] = weight
        return weight

    def novelty(self, analysis: ClaimAnalysis) -> float:
        """The share (0-1) of a claim's distinct word terms (figures aside) that no baseline claim uses.
        The words of its stance cues ("it is difficult to find", "denied", "it remains unclear") are not
        counted: they say how the claim stands to a proposition, not which proposition it is."""
        stance = {
            position for start, end, _ in self.lexicon.stance.find(analysis.words) for position in range(start, end)
        }
        words = {
            term
            for term, start in zip(analysis.terms, analysis.term_starts, strict=True)
            if not is_figure_term(term) and start not in stance
        }
        if not words:
            return 0.0
        return sum(term not in self._vocabulary for term in words) / len(words)

    def accumulate(self, query: QueryTerms) -> tuple[IntArray, FloatArray, npt.NDArray[np.float64]]:
        """The units sharing a term with the query (sorted), their BM25 scores against it, and the shared
        term weight of every unit (zeros where nothing is shared; float64, as summed: callers take the few
        units they read as float32).

        A query shares terms with a tenth of the units or so: the units are found by sorting its postings
        (a radix sort, fast for int32), not by a scan of every unit, and only theirs are converted."""
        count = self.unit_count
        if not len(query.term_ids):
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32), np.zeros(count)
        starts = self._post_offsets[query.term_ids]
        ends = self._post_offsets[query.term_ids + 1]
        slices = [slice(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]
        units = np.concatenate([self._post_units[part] for part in slices])
        bm25 = np.concatenate([self._post_bm25[part] for part in slices])
        weights = np.repeat(query.weights, (ends - starts).astype(np.int64))
        ordered = np.sort(units)
        sharing = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered
        unit_bm25 = np.bincount(units, weights=bm25, minlength=count)[sharing].astype(np.float32)
        shared = np.bincount(units, weights=weights, minlength=count).astype(np.float64, copy=False)
        return sharing, unit_bm25, shared

    def unit_text(self, unit: int) -> str:
        """The text of a unit as written: the claim, or the clause of it."""
        text = self.refs[int(self.unit_owner[unit])].text
        span = self.unit_spans[unit]
        return text if span is None else text[span[0] : span[1]]

    @lru_cache(maxsize=4096)  # noqa: B019 - the index lives as long as its cache should
    def analysis(self, doc: int) -> ClaimAnalysis:
        """The full analysis of one baseline claim, made again on demand (the index keeps only terms)."""
        return analyze_claim(self.refs[doc].text, self.lexicon)

    def clause_analysis(self, unit: int) -> ClaimAnalysis | None:
        """The analysis of a unit that is one clause of its claim (what a verdict reads polarity and status
        in); None for a unit that is the whole claim."""
        return self.unit_analysis(unit) if self.unit_spans[unit] is not None else None

    @lru_cache(maxsize=4096)  # noqa: B019
    def unit_analysis(self, unit: int) -> ClaimAnalysis:
        """The full analysis of one unit's text (claim or clause), made on demand."""
        return analyze_claim(self.unit_text(unit), self.lexicon)
