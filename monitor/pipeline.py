"""The article pipeline: from an extracted article to stored article, claims and matches.

Plain classes over plain data, with no knowledge of Scrapy: the crawler's item pipeline, the benchmark and
the tests all hand `IncomingArticle`s to one `ArticleIngestor`, built once per crawl run (the baseline
index is built then, not per article). For each article the ingestor decides, in order:

1. not on topic (no watch term in title or text): counted, not stored;
2. already seen (its canonical URL is stored): counted, not stored again;
3. a near-identical copy of a stored article (syndication): stored, linked by `duplicate_of_id`, and not
   matched again;
4. otherwise new: stored with its claims and their matches, and the `on_matches` hook is called inside
   the same transaction, so whatever the hook writes (the alerts outbox) commits with the matches.
"""

from __future__ import annotations

import hashlib
import heapq
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.baseline_store import baseline_refs
from monitor.claims import extract_claims
from monitor.matching import BaselineIndex, ClaimMatcher, MatchResult
from monitor.storage.engine import session_scope
from monitor.storage.models import Article, Claim, Match, WatchTerm, utcnow
from monitor.textfold import fold
from monitor.watchlist import WatchTermMatcher

__all__ = [
    "ArticleIngestor",
    "IncomingArticle",
    "IngestOutcome",
    "IngestResult",
    "MatchHook",
    "NearDuplicateIndex",
    "content_hash",
]

MatchHook = Callable[[Session, Sequence[Match], "int | None"], None]
"""Called with (session, the new Match rows just flushed, crawl_run_id) inside the writing transaction."""

# Two texts sharing this share of their word 5-gram shingles are copies of one article (syndication
# rewrites a headline or a credit line, not the body).
DUPLICATE_THRESHOLD = 0.9
SHINGLE_WORDS = 5
SKETCH_SIZE = 128
_WORD_RE = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class IncomingArticle:
    """An article as extraction produced it, before the pipeline decides what to do with it."""

    url: str
    canonical_url: str
    text: str
    title: str | None = None
    outlet: str | None = None
    author: str | None = None
    published: datetime | None = None
    language: str | None = None
    source_id: int | None = None


class IngestOutcome(StrEnum):
    new = "new"
    already_seen = "already_seen"
    not_on_topic = "not_on_topic"
    duplicate = "duplicate"


@dataclass(frozen=True)
class IngestResult:
    """What happened to one article; `verdicts` counts the stored matches by verdict."""

    outcome: IngestOutcome
    article_id: int | None = None
    duplicate_of_id: int | None = None
    watch_terms: tuple[str, ...] = ()
    claims: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------
# Near-duplicate detection


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(fold(text))


def content_hash(text: str) -> str:
    """SHA-256 of the text's folded words: equal for texts differing only in case, accents or spacing."""
    return hashlib.sha256(" ".join(_words(text)).encode("utf-8")).hexdigest()


def _shingle_hashes(text: str) -> set[int]:
    words = _words(text)
    if len(words) < SHINGLE_WORDS:
        return {zlib.crc32(" ".join(words).encode("utf-8"))} if words else set()
    return {
        zlib.crc32(" ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8"))
        for i in range(len(words) - SHINGLE_WORDS + 1)
    }


def shingle_similarity(first: str, second: str) -> float:
    """Exact Jaccard similarity of the two texts' word 5-gram shingle sets (0 for two empty texts)."""
    a, b = _shingle_hashes(first), _shingle_hashes(second)
    return len(a & b) / len(a | b) if a or b else 0.0


class NearDuplicateIndex:
    """Bottom-k sketches of recent articles' shingles, to find a stored copy of a text quickly.

    `candidates` returns article ids whose estimated similarity reaches the threshold; the caller confirms
    with `shingle_similarity` on the stored text, so an estimate never links two different articles.
    """

    def __init__(self, *, threshold: float = DUPLICATE_THRESHOLD, sketch_size: int = SKETCH_SIZE) -> None:
        self.threshold = threshold
        self.sketch_size = sketch_size
        self._sketches: dict[int, frozenset[int]] = {}
        self._postings: dict[int, set[int]] = {}

    def __len__(self) -> int:
        return len(self._sketches)

    def _sketch(self, text: str) -> frozenset[int]:
        return frozenset(heapq.nsmallest(self.sketch_size, _shingle_hashes(text)))

    def add(self, article_id: int, text: str) -> None:
        sketch = self._sketch(text)
        self._sketches[article_id] = sketch
        for value in sketch:
            self._postings.setdefault(value, set()).add(article_id)

    def candidates(self, text: str) -> list[int]:
        """Ids of indexed articles that are probably near-identical to `text`, most similar first."""
        sketch = self._sketch(text)
        if not sketch:
            return []
        shared: Counter[int] = Counter()
        for value in sketch:
            shared.update(self._postings.get(value, ()))
        # Margin below the threshold: the estimate's error is about 0.03 at 0.9 with 128 values.
        floor = self.threshold - 0.1
        # Texts that similar share most of their sketches; the rest only share common phrases.
        least_shared = floor * len(sketch) / 2
        scored = []
        for article_id, count in shared.most_common():
            if count < least_shared:
                break
            estimate = self._estimate(sketch, self._sketches[article_id])
            if estimate >= floor:
                scored.append((estimate, article_id))
        return [article_id for _estimate, article_id in sorted(scored, reverse=True)]

    def _estimate(self, first: frozenset[int], second: frozenset[int]) -> float:
        union_smallest = heapq.nsmallest(self.sketch_size, first | second)
        both = sum(1 for value in union_smallest if value in first and value in second)
        return both / len(union_smallest) if union_smallest else 0.0


# ---------------------------------------------------------------------------------------------------------
# The ingestor


def _truncate(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value[:limit] or None


class ArticleIngestor:
    """Decides what to do with each incoming article and stores it; one instance per crawl run.

    Each `ingest` call is its own transaction: an article is stored whole (with claims, matches and
    whatever `on_matches` writes) or not at all.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        watch_terms: WatchTermMatcher,
        claim_matcher: ClaimMatcher,
        crawl_run_id: int | None = None,
        on_matches: MatchHook | None = None,
        duplicates: NearDuplicateIndex | None = None,
        top_k: int = 3,
    ) -> None:
        self.engine = engine
        self.watch_terms = watch_terms
        self.claim_matcher = claim_matcher
        self.crawl_run_id = crawl_run_id
        self.on_matches = on_matches
        self.duplicates = duplicates if duplicates is not None else NearDuplicateIndex()
        self.top_k = top_k

    @classmethod
    def for_crawl_run(
        cls,
        engine: Engine,
        *,
        crawl_run_id: int | None = None,
        on_matches: MatchHook | None = None,
        recent_window: timedelta = timedelta(days=14),
        recent_limit: int = 2000,
        now: datetime | None = None,
    ) -> ArticleIngestor:
        """An ingestor with the enabled watch terms, the baseline index and the recent articles' sketches."""
        since = (now or utcnow()) - recent_window
        duplicates = NearDuplicateIndex()
        with session_scope(engine) as session:
            terms = WatchTermMatcher.from_rows(session.exec(select(WatchTerm).order_by(col(WatchTerm.id))))
            index = BaselineIndex.build(baseline_refs(session))
            recent = session.exec(
                select(Article.id, Article.text)
                .where(col(Article.duplicate_of_id).is_(None), col(Article.fetched_at) >= since)
                .order_by(col(Article.id).desc())
                .limit(recent_limit)
            )
            for article_id, text in recent:
                if article_id is not None:
                    duplicates.add(article_id, text)
        return cls(
            engine,
            watch_terms=terms,
            claim_matcher=ClaimMatcher(index),
            crawl_run_id=crawl_run_id,
            on_matches=on_matches,
            duplicates=duplicates,
        )

    def ingest(self, article: IncomingArticle) -> IngestResult:
        """Filter, deduplicate and store one article; see the module docstring for the order of decisions.

        Errors from the database or from `on_matches` propagate after the transaction is rolled back.
        """
        terms = tuple(self.watch_terms.matches(f"{article.title or ''}\n{article.text}"))
        if not terms:
            return IngestResult(IngestOutcome.not_on_topic)
        digest = content_hash(article.text)
        with session_scope(self.engine) as session:
            if self._stored_id(session, article.canonical_url) is not None:
                return IngestResult(IngestOutcome.already_seen, watch_terms=terms)
            original_id = self._copy_of(session, article.text, digest)
        if original_id is not None:
            return self._store(article, terms, digest, duplicate_of_id=original_id, claims=[], results=[])
        claims = extract_claims(article.text)
        results = self.claim_matcher.match_many(claims, top_k=self.top_k) if claims else []
        return self._store(article, terms, digest, duplicate_of_id=None, claims=claims, results=results)

    def _stored_id(self, session: Session, canonical_url: str) -> int | None:
        return session.exec(select(Article.id).where(Article.canonical_url == canonical_url)).first()

    def _copy_of(self, session: Session, text: str, digest: str) -> int | None:
        """The id of the stored original this text copies (same words, or near-identical), else None."""
        same = session.exec(
            select(Article.id)
            .where(Article.content_hash == digest, col(Article.duplicate_of_id).is_(None))
            .order_by(col(Article.id))
        ).first()
        if same is not None:
            return same
        for candidate_id in self.duplicates.candidates(text):
            stored = session.get(Article, candidate_id)
            if stored is not None and shingle_similarity(stored.text, text) >= self.duplicates.threshold:
                return candidate_id
        return None

    def _store(
        self,
        article: IncomingArticle,
        terms: tuple[str, ...],
        digest: str,
        *,
        duplicate_of_id: int | None,
        claims: Sequence[str],
        results: Sequence[MatchResult],
    ) -> IngestResult:
        try:
            with session_scope(self.engine) as session:
                # Checked again inside the writing transaction: another crawl may have stored it meanwhile.
                if self._stored_id(session, article.canonical_url) is not None:
                    return IngestResult(IngestOutcome.already_seen, watch_terms=terms)
                row = self._article_row(article, terms, digest, duplicate_of_id)
                session.add(row)
                session.flush()
                assert row.id is not None
                matches = self._store_claims(session, row.id, claims, results)
                if matches and self.on_matches is not None:
                    self.on_matches(session, matches, self.crawl_run_id)
        except IntegrityError:
            # The unique canonical URL lost a race with a concurrent crawl: that copy is the stored one.
            return IngestResult(IngestOutcome.already_seen, watch_terms=terms)
        if duplicate_of_id is not None:
            return IngestResult(IngestOutcome.duplicate, row.id, duplicate_of_id, terms)
        self.duplicates.add(row.id, article.text)
        return IngestResult(
            IngestOutcome.new, row.id, None, terms, len(claims), dict(Counter(m.verdict for m in matches))
        )

    def _article_row(
        self, article: IncomingArticle, terms: Iterable[str], digest: str, duplicate_of_id: int | None
    ) -> Article:
        return Article(
            canonical_url=article.canonical_url,
            url=article.url,
            title=_truncate(article.title, 1000),
            outlet=_truncate(article.outlet, 200),
            author=_truncate(article.author, 500),
            published=article.published,
            language=_truncate(article.language, 16),
            text=article.text,
            content_hash=digest,
            duplicate_of_id=duplicate_of_id,
            watch_terms=list(terms),
            source_id=article.source_id,
            crawl_run_id=self.crawl_run_id,
        )

    def _store_claims(
        self, session: Session, article_id: int, claims: Sequence[str], results: Sequence[MatchResult]
    ) -> list[Match]:
        claim_rows = [Claim(article_id=article_id, position=i, text=text) for i, text in enumerate(claims)]
        session.add_all(claim_rows)
        session.flush()
        matches: list[Match] = []
        pairs: set[tuple[int, int]] = set()
        for claim_row, result in zip(claim_rows, results, strict=True):
            if result.verdict == "none" or result.baseline is None:
                continue
            assert claim_row.id is not None
            pair = (claim_row.id, result.baseline.claim_id)
            if pair in pairs:
                continue
            pairs.add(pair)
            matches.append(
                Match(
                    claim_id=claim_row.id,
                    baseline_claim_id=result.baseline.claim_id,
                    verdict=result.verdict,
                    score=min(100.0, max(0.0, float(result.score))),
                    evidence=dict(result.evidence),
                )
            )
        session.add_all(matches)
        session.flush()
        return matches
