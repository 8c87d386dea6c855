"""The article pipeline: from an extracted article to stored article, claims and matches.

Plain classes over plain data, with no knowledge of Scrapy, in two parts built once per crawl run (the
baseline index is built then, not per article):

- `ArticleAnalyzer`: the watch-term filter, claim splitting and matching. CPU work that reads nothing
  but the article, so a crawl runs several analyzers side by side in worker processes;
- `ArticleWriter`: what needs the database (seen URLs, near-duplicates, storage, the hook). One per
  crawl run, so that it sees every article the run stored before deciding on the next.

`ArticleIngestor` runs both in the calling process (tests, demo data, a crawl without worker processes),
asking the database before analysing, so that a copy is never matched. For each article, in order:

1. not on topic (no watch term in title or text): counted, not stored;
2. already seen (its canonical URL is stored): counted, not stored again;
3. a near-identical copy of a stored article (syndication): stored, linked by `duplicate_of_id`, and not
   matched again;
4. otherwise new: stored with its claims and their matches, and the `on_matches` hook is called inside
   the same transaction, so whatever the hook writes (the alerts outbox) commits with the matches.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import html as htmllib
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.catalog.baseline_store import baseline_refs
from monitor.catalog.watch_terms import WatchTermMatcher
from monitor.matching import BaselineIndex, ClaimMatcher, MatchResult, analyze_claim
from monitor.storage.engine import session_scope
from monitor.storage.models import Article, Claim, Match, WatchTerm, utcnow
from monitor.text.claims import extract_claims
from monitor.text.fold import fold

__all__ = [
    "AnalyzedArticle",
    "ArticleAnalyzer",
    "ArticleIngestor",
    "ArticleWriter",
    "IncomingArticle",
    "IngestOutcome",
    "IngestResult",
    "MatchHook",
    "NearDuplicateIndex",
    "StoredCopy",
    "TextFingerprint",
    "WatchTermScreen",
    "content_hash",
    "text_sketch",
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
    return _word_shingle_hashes(_words(text))


def _word_shingle_hashes(words: list[str]) -> set[int]:
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


def text_sketch(text: str, size: int = SKETCH_SIZE) -> frozenset[int]:
    """The bottom-`size` sketch of the text's shingle hashes, as `NearDuplicateIndex` keeps them."""
    return frozenset(heapq.nsmallest(size, _shingle_hashes(text)))


@dataclass(frozen=True)
class TextFingerprint:
    """What deduplication needs of a text: its `content_hash` and its sketch (the words folded once)."""

    digest: str
    sketch: frozenset[int]

    @classmethod
    def of(cls, text: str) -> TextFingerprint:
        words = _words(text)
        digest = hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()
        return cls(digest, frozenset(heapq.nsmallest(SKETCH_SIZE, _word_shingle_hashes(words))))


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

    def _sketch(self, text: str, known: frozenset[int] | None) -> frozenset[int]:
        # A sketch made elsewhere (`TextFingerprint`, in an analyzer process) saves folding the text again.
        return known if known is not None and self.sketch_size == SKETCH_SIZE else text_sketch(text, self.sketch_size)

    def add(self, article_id: int, text: str, *, sketch: frozenset[int] | None = None) -> None:
        """Index a text; `sketch`: its `TextFingerprint.sketch`, when known."""
        sketch = self._sketch(text, sketch)
        self._sketches[article_id] = sketch
        for value in sketch:
            self._postings.setdefault(value, set()).add(article_id)

    def candidates(self, text: str, *, sketch: frozenset[int] | None = None) -> list[int]:
        """Ids of indexed articles that are probably near-identical to `text`, most similar first."""
        sketch = self._sketch(text, sketch)
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
# The raw-page screen


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


@functools.cache
def _loose_fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", char).casefold())
    return "".join(part for part in decomposed if not unicodedata.combining(part))


def _loose_fold(text: str) -> str:
    """`fold`, coarser: every combining mark is dropped (Cyrillic й, ё, ї, ў too), character by character.

    Whatever `fold(text)` contains, `_loose_fold(text)` contains loosely folded, so a word missing from the
    loose fold of a page is missing from its `fold` as well. Only the distinct non-ASCII characters of the
    text are looked at one by one; the rest is C string methods (a 40 KB page takes a few milliseconds).
    """
    folded = text.casefold()
    if folded.isascii():
        return folded
    characters = set().union(*_NON_ASCII_RE.findall(folded))
    changed = {ord(char): loose for char in characters if (loose := _loose_fold_char(char)) != char}
    return folded.translate(changed) if changed else folded


# A tag, comment or declaration: "<" then a letter, "/", "!" or "?", as HTML parsers read them; a bare "<"
# in text ("profits < 5%") starts none, so no text is cut away with the markup.
_TAG_RE = re.compile(r"<[A-Za-z/!?][^<>]*>")
_JSON_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _page_text_loosely(html: str) -> str:
    """The characters of a page's text as an extractor could put them together: tags removed (a word may
    be split by one, "<b>B</b>elarus"), then entities and JSON string escapes (JSON-LD headlines) decoded."""
    text = htmllib.unescape(_TAG_RE.sub("", html))
    return _JSON_ESCAPE_RE.sub(lambda match: chr(int(match.group(1), 16)), text)


class WatchTermScreen:
    """A necessary condition for `WatchTermMatcher.matches` on a page's extracted text, tested on its raw
    HTML: some word of some watch term's spelling occurs in it, anywhere, in any case or accent.

    Extraction only keeps, drops and re-spaces what the page has, so a page without any such word cannot
    be on topic and need not be extracted. The test is loose on purpose (any one word of a spelling, no
    word boundaries, every accent dropped): it may pass a page the matcher rejects later, never the reverse.
    """

    def __init__(self, terms: Iterable[tuple[str, Sequence[str]]]) -> None:
        needles: set[str] = set()
        for term, aliases in terms:
            for spelling in (term, *aliases):
                words = _loose_fold(fold(spelling.rstrip("*"))).split()
                # One word is enough to be necessary; the longest is the rarest in pages.
                needles.add(max(words, key=len) if words else "")
        # A needle containing another is found whenever that one is: only the shortest are searched for.
        kept: list[str] = []
        for needle in sorted(needles, key=len):
            if not any(shorter in needle for shorter in kept):
                kept.append(needle)
        self._needles = tuple(kept)

    def may_match(self, html: str, *texts: str | None) -> bool:
        """Whether the page (its HTML and `texts` that will join its text, such as a feed's title) may
        contain a watch term."""
        extra = "\n".join(text for text in texts if text)
        # Most on-topic pages have a term as written in the markup: a plain case-folded pass finds it.
        if self._contains_needle(f"{html}\n{extra}".casefold()):
            return True
        return self._contains_needle(_loose_fold(f"{_page_text_loosely(html)}\n{extra}"))

    def _contains_needle(self, haystack: str) -> bool:
        return any(needle in haystack for needle in self._needles)


# ---------------------------------------------------------------------------------------------------------
# Analysis: watch terms, claims and matches (no database)


@dataclass(frozen=True)
class AnalyzedArticle:
    """An on-topic article with everything decided that needs no database: its watch terms, fingerprint,
    claims and their matches (`matches[i]` for `claims[i]`; None where no baseline claim shares a term
    with the claim, so the matcher was not asked). Claims are left empty when the caller already knew the
    article is stored, or a copy of a stored one."""

    article: IncomingArticle
    watch_terms: tuple[str, ...]
    fingerprint: TextFingerprint
    claims: tuple[str, ...] = ()
    matches: tuple[MatchResult | None, ...] = ()


class ArticleAnalyzer:
    """The database-free part of the pipeline: the watch-term filter, claim splitting and matching.

    Pure CPU work with no side effects, so a crawl runs several analyzers side by side, in worker
    processes (`spiders.pipelines`), and hands their results to one `ArticleWriter`.
    """

    def __init__(
        self,
        *,
        watch_terms: WatchTermMatcher,
        claim_matcher: ClaimMatcher,
        page_screen: WatchTermScreen | None = None,
        top_k: int = 3,
    ) -> None:
        self.watch_terms = watch_terms
        self.claim_matcher = claim_matcher
        self.page_screen = page_screen
        self.top_k = top_k

    @classmethod
    def from_database(cls, engine: Engine) -> ArticleAnalyzer:
        """An analyzer with the enabled watch terms and an index of the baseline claims."""
        with session_scope(engine) as session:
            rows = [row for row in session.exec(select(WatchTerm).order_by(col(WatchTerm.id))) if row.enabled]
            index = BaselineIndex.build_with_installed(baseline_refs(session))
        spellings = [(row.term, list(row.aliases)) for row in rows]
        return cls(
            watch_terms=WatchTermMatcher(spellings),
            claim_matcher=ClaimMatcher(index),
            page_screen=WatchTermScreen(spellings),
        )

    def page_may_be_on_topic(self, html: str, *texts: str | None) -> bool:
        """False only for a page that cannot pass the watch-term filter whatever extraction finds in it."""
        return self.page_screen is None or self.page_screen.may_match(html, *texts)

    def watch_terms_in(self, article: IncomingArticle) -> tuple[str, ...]:
        return tuple(self.watch_terms.matches(f"{article.title or ''}\n{article.text}"))

    def analyze(self, article: IncomingArticle) -> AnalyzedArticle | None:
        """The article's watch terms, claims and matches; None when it is not on topic."""
        terms = self.watch_terms_in(article)
        if not terms:
            return None
        return self.with_claims(AnalyzedArticle(article, terms, TextFingerprint.of(article.text)))

    def with_claims(self, analyzed: AnalyzedArticle) -> AnalyzedArticle:
        claims = tuple(extract_claims(analyzed.article.text))
        return replace(analyzed, claims=claims, matches=self.match_claims(claims))

    def match_claims(self, claims: Sequence[str]) -> tuple[MatchResult | None, ...]:
        """The matcher's result per claim, None for a claim it could only answer "none" for.

        A claim that shares no term with any baseline claim has no lexical candidate; matching it anyway
        would run the most expensive stages (sentence encoding, a dense scan) to conclude that, since
        lexical evidence leads the detection score. The claims that remain go to the matcher in one call,
        so it can batch them.
        """
        index = self.claim_matcher.index
        analyses = [analyze_claim(claim, index.lexicon) for claim in claims]
        retrievable = [
            position for position, analysis in enumerate(analyses) if len(index.query_terms(analysis).term_ids)
        ]
        results: list[MatchResult | None] = [None] * len(claims)
        if retrievable:
            found = self.claim_matcher.match_many(
                [claims[i] for i in retrievable], top_k=self.top_k, analyses=[analyses[i] for i in retrievable]
            )
            for position, result in zip(retrievable, found, strict=True):
                results[position] = result
        return tuple(results)


# ---------------------------------------------------------------------------------------------------------
# Storage: seen URLs, copies, articles with claims and matches


@dataclass(frozen=True)
class StoredCopy:
    """What the database already holds of an incoming article: the same canonical URL (already seen), or
    the original that the article's text copies (duplicate)."""

    outcome: IngestOutcome
    original_id: int | None = None


class ArticleWriter:
    """Stores analyzed articles: one writer per crawl run, so that the near-duplicate sketches it keeps see
    every article the run stored, in the order stored.

    Each `write` is its own transaction: an article is stored whole (with claims, matches and whatever
    `on_matches` writes) or not at all.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        crawl_run_id: int | None = None,
        on_matches: MatchHook | None = None,
        duplicates: NearDuplicateIndex | None = None,
    ) -> None:
        self.engine = engine
        self.crawl_run_id = crawl_run_id
        self.on_matches = on_matches
        self.duplicates = duplicates if duplicates is not None else NearDuplicateIndex()

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
    ) -> ArticleWriter:
        """A writer with the sketches of the recent original articles."""
        since = (now or utcnow()) - recent_window
        duplicates = NearDuplicateIndex()
        with session_scope(engine) as session:
            recent = session.exec(
                select(Article.id, Article.text)
                .where(col(Article.duplicate_of_id).is_(None), col(Article.fetched_at) >= since)
                .order_by(col(Article.id).desc())
                .limit(recent_limit)
            )
            for article_id, text in recent:
                if article_id is not None:
                    duplicates.add(article_id, text)
        return cls(engine, crawl_run_id=crawl_run_id, on_matches=on_matches, duplicates=duplicates)

    def find_stored(self, article: IncomingArticle, fingerprint: TextFingerprint) -> StoredCopy | None:
        """The stored article with the same canonical URL or copied text, else None (the article is new)."""
        with session_scope(self.engine) as session:
            if _stored_id(session, article.canonical_url) is not None:
                return StoredCopy(IngestOutcome.already_seen)
            original_id = self._copy_of(session, article.text, fingerprint)
        return None if original_id is None else StoredCopy(IngestOutcome.duplicate, original_id)

    def write(self, analyzed: AnalyzedArticle) -> IngestResult:
        """Store an analyzed article as new, as a linked copy, or not at all when already seen.

        Errors from the database or from `on_matches` propagate after the transaction is rolled back.
        """
        return self.store(analyzed, self.find_stored(analyzed.article, analyzed.fingerprint))

    def store(self, analyzed: AnalyzedArticle, stored: StoredCopy | None) -> IngestResult:
        """`write`, with what `find_stored` just said about the article."""
        if stored is not None and stored.outcome is IngestOutcome.already_seen:
            return IngestResult(IngestOutcome.already_seen, watch_terms=analyzed.watch_terms)
        duplicate_of_id = stored.original_id if stored is not None else None
        article, terms = analyzed.article, analyzed.watch_terms
        try:
            with session_scope(self.engine) as session:
                # Checked again inside the writing transaction: another crawl may have stored it meanwhile.
                if _stored_id(session, article.canonical_url) is not None:
                    return IngestResult(IngestOutcome.already_seen, watch_terms=terms)
                row = self._article_row(article, terms, analyzed.fingerprint.digest, duplicate_of_id)
                session.add(row)
                session.flush()
                assert row.id is not None
                matches: list[Match] = []
                if duplicate_of_id is None:
                    matches = self._store_claims(session, row.id, analyzed.claims, analyzed.matches)
                if matches and self.on_matches is not None:
                    self.on_matches(session, matches, self.crawl_run_id)
        except IntegrityError:
            # The unique canonical URL lost a race with a concurrent crawl: that copy is the stored one.
            return IngestResult(IngestOutcome.already_seen, watch_terms=terms)
        if duplicate_of_id is not None:
            return IngestResult(IngestOutcome.duplicate, row.id, duplicate_of_id, terms)
        self.duplicates.add(row.id, article.text, sketch=analyzed.fingerprint.sketch)
        return IngestResult(
            IngestOutcome.new, row.id, None, terms, len(analyzed.claims), dict(Counter(m.verdict for m in matches))
        )

    def _copy_of(self, session: Session, text: str, fingerprint: TextFingerprint) -> int | None:
        """The id of the stored original this text copies (same words, or near-identical), else None."""
        same = session.exec(
            select(Article.id)
            .where(Article.content_hash == fingerprint.digest, col(Article.duplicate_of_id).is_(None))
            .order_by(col(Article.id))
        ).first()
        if same is not None:
            return same
        for candidate_id in self.duplicates.candidates(text, sketch=fingerprint.sketch):
            stored = session.get(Article, candidate_id)
            if stored is not None and shingle_similarity(stored.text, text) >= self.duplicates.threshold:
                return candidate_id
        return None

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
        self, session: Session, article_id: int, claims: Sequence[str], results: Sequence[MatchResult | None]
    ) -> list[Match]:
        claim_rows = [Claim(article_id=article_id, position=i, text=text) for i, text in enumerate(claims)]
        session.add_all(claim_rows)
        session.flush()
        matches: list[Match] = []
        pairs: set[tuple[int, int]] = set()
        for claim_row, result in zip(claim_rows, results, strict=True):
            if result is None or result.verdict == "none" or result.baseline is None:
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


def _truncate(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value[:limit] or None


def _stored_id(session: Session, canonical_url: str) -> int | None:
    return session.exec(select(Article.id).where(Article.canonical_url == canonical_url)).first()


# ---------------------------------------------------------------------------------------------------------
# The ingestor: analysis and storage in one process


class ArticleIngestor:
    """Analyzes and stores articles one at a time in the calling process; one instance per crawl run.

    Unlike the crawl's worker processes, it asks the database first, so an article already stored (or a
    copy of one) is never split into claims nor matched.
    """

    def __init__(self, analyzer: ArticleAnalyzer, writer: ArticleWriter) -> None:
        self.analyzer = analyzer
        self.writer = writer

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
        writer = ArticleWriter.for_crawl_run(
            engine,
            crawl_run_id=crawl_run_id,
            on_matches=on_matches,
            recent_window=recent_window,
            recent_limit=recent_limit,
            now=now,
        )
        return cls(ArticleAnalyzer.from_database(engine), writer)

    def ingest(self, article: IncomingArticle) -> IngestResult:
        """Filter, deduplicate and store one article; see the module docstring for the order of decisions.

        Errors from the database or from `on_matches` propagate after the transaction is rolled back.
        """
        terms = self.analyzer.watch_terms_in(article)
        if not terms:
            return IngestResult(IngestOutcome.not_on_topic)
        analyzed = AnalyzedArticle(article, terms, TextFingerprint.of(article.text))
        stored = self.writer.find_stored(article, analyzed.fingerprint)
        if stored is None:
            analyzed = self.analyzer.with_claims(analyzed)
        return self.writer.store(analyzed, stored)
