"""Storage: seen URLs, copies, and new articles with their claims and matches: one transaction each, or a
batch of articles in one transaction (`write_many`, the crawl's writer process)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.ingest.analyse import AnalyzedArticle
from monitor.ingest.dedup import NearDuplicateIndex, TextFingerprint, shingle_similarity
from monitor.ingest.model import IncomingArticle, IngestOutcome, IngestResult, MatchHook
from monitor.matching import MatchResult
from monitor.storage.engine import session_scope
from monitor.storage.models import Article, Claim, Match, utcnow

logger = logging.getLogger(__name__)


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
            return self._find_in(session, article, fingerprint)

    def _find_in(
        self,
        session: Session,
        article: IncomingArticle,
        fingerprint: TextFingerprint,
        also: NearDuplicateIndex | None = None,
    ) -> StoredCopy | None:
        if _stored_id(session, article.canonical_url) is not None:
            return StoredCopy(IngestOutcome.already_seen)
        original_id = self._copy_of(session, article.text, fingerprint, also)
        return None if original_id is None else StoredCopy(IngestOutcome.duplicate, original_id)

    def write(self, analyzed: AnalyzedArticle) -> IngestResult:
        """Store an analyzed article as new, as a linked copy, or not at all when already seen.

        Errors from the database or from `on_matches` propagate after the transaction is rolled back.
        """
        return self.store(analyzed, self.find_stored(analyzed.article, analyzed.fingerprint))

    def write_many(self, batch: Sequence[AnalyzedArticle]) -> list[IngestResult | Exception]:
        """`write` for each article, in order, all in one transaction: one connection and one commit for
        the batch instead of two connections and a commit per article. Each article is still stored whole
        or not at all: when anything in the batch fails, the whole transaction is rolled back and every
        article of it written on its own (`write`), so an error costs its own article only, and is
        returned in its place."""
        if len(batch) > 1:
            try:
                return list(self._write_together(batch))
            except Exception as exc:
                logger.info("writing %d articles together failed (%s); writing them one by one", len(batch), exc)
        results: list[IngestResult | Exception] = []
        for analyzed in batch:
            try:
                results.append(self.write(analyzed))
            except Exception as exc:  # rolled back; reported in the article's place
                results.append(exc)
        return results

    def _write_together(self, batch: Sequence[AnalyzedArticle]) -> list[IngestResult]:
        # Articles stored earlier in the batch are found as copies too, but enter `self.duplicates` only
        # once the batch is committed (a rolled-back batch must leave no trace there).
        fresh = NearDuplicateIndex(threshold=self.duplicates.threshold, sketch_size=self.duplicates.sketch_size)
        added: list[tuple[int, str, frozenset[int]]] = []
        results: list[IngestResult] = []
        with session_scope(self.engine) as session:
            for analyzed in batch:
                stored = self._find_in(session, analyzed.article, analyzed.fingerprint, fresh)
                result = self._store_in(session, analyzed, stored)
                if result.outcome is IngestOutcome.new and result.article_id is not None:
                    fresh.add(result.article_id, analyzed.article.text, sketch=analyzed.fingerprint.sketch)
                    added.append((result.article_id, analyzed.article.text, analyzed.fingerprint.sketch))
                results.append(result)
        for article_id, text, sketch in added:
            self.duplicates.add(article_id, text, sketch=sketch)
        return results

    def store(self, analyzed: AnalyzedArticle, stored: StoredCopy | None) -> IngestResult:
        """`write`, with what `find_stored` just said about the article."""
        terms = analyzed.watch_terms
        if stored is not None and stored.outcome is IngestOutcome.already_seen:
            return IngestResult(IngestOutcome.already_seen, watch_terms=terms)
        try:
            with session_scope(self.engine) as session:
                # Checked again inside the writing transaction: another crawl may have stored it meanwhile.
                if _stored_id(session, analyzed.article.canonical_url) is not None:
                    return IngestResult(IngestOutcome.already_seen, watch_terms=terms)
                result = self._store_in(session, analyzed, stored)
        except IntegrityError:
            # The unique canonical URL lost a race with a concurrent crawl: that copy is the stored one.
            return IngestResult(IngestOutcome.already_seen, watch_terms=terms)
        if result.outcome is IngestOutcome.new and result.article_id is not None:
            self.duplicates.add(result.article_id, analyzed.article.text, sketch=analyzed.fingerprint.sketch)
        return result

    def _store_in(self, session: Session, analyzed: AnalyzedArticle, stored: StoredCopy | None) -> IngestResult:
        """Add the article (new, or a linked copy of `stored`) with its claims and matches to `session` and
        call the hook there; the caller commits."""
        article, terms = analyzed.article, analyzed.watch_terms
        if stored is not None and stored.outcome is IngestOutcome.already_seen:
            return IngestResult(IngestOutcome.already_seen, watch_terms=terms)
        duplicate_of_id = stored.original_id if stored is not None else None
        row = self._article_row(article, terms, analyzed.fingerprint.digest, duplicate_of_id)
        session.add(row)
        session.flush()
        assert row.id is not None
        if duplicate_of_id is not None:
            return IngestResult(IngestOutcome.duplicate, row.id, duplicate_of_id, terms)
        matches = self._store_claims(session, row.id, analyzed.claims, analyzed.matches)
        if matches and self.on_matches is not None:
            self.on_matches(session, matches, self.crawl_run_id)
        return IngestResult(
            IngestOutcome.new, row.id, None, terms, len(analyzed.claims), dict(Counter(m.verdict for m in matches))
        )

    def _copy_of(
        self, session: Session, text: str, fingerprint: TextFingerprint, also: NearDuplicateIndex | None = None
    ) -> int | None:
        """The id of the stored original this text copies (same words, or near-identical), else None.
        `also`: sketches of articles stored in this transaction, not yet in `self.duplicates`."""
        same = session.exec(
            select(Article.id)
            .where(Article.content_hash == fingerprint.digest, col(Article.duplicate_of_id).is_(None))
            .order_by(col(Article.id))
        ).first()
        if same is not None:
            return same
        candidates = self.duplicates.candidates(text, sketch=fingerprint.sketch)
        if also is not None:
            candidates += also.candidates(text, sketch=fingerprint.sketch)
        for candidate_id in candidates:
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
