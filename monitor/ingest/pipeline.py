"""The article pipeline: from an extracted article to stored article, claims and matches.

Plain classes over plain data, with no knowledge of Scrapy, in two parts built once per crawl run (the
baseline index is built then, not per article), each in its module:

- `ArticleAnalyzer` (`monitor.ingest.analyse`): the watch-term filter (`monitor.ingest.screen`), claim
  splitting and matching. CPU work that reads nothing but the article, so a crawl runs several analyzers
  side by side in worker processes;
- `ArticleWriter` (`monitor.ingest.write`): what needs the database (seen URLs, near-duplicates from
  `monitor.ingest.dedup`, storage, the hook). One per crawl run, so that it sees every article the run
  stored before deciding on the next.

`ArticleIngestor` (here) runs both in the calling process (tests, demo data, a crawl without worker
processes), asking the database before analysing, so that a copy is never matched. For each article, in
order:

1. not on topic (no watch term in title or text): counted, not stored;
2. already seen (its canonical URL is stored): counted, not stored again;
3. a near-identical copy of a stored article (syndication): stored, linked by `duplicate_of_id`, and not
   matched again;
4. otherwise new: stored with its claims and their matches, and the `on_matches` hook is called inside
   the same transaction, so whatever the hook writes (the alerts outbox) commits with the matches.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from monitor.ingest.analyse import AnalyzedArticle, ArticleAnalyzer
from monitor.ingest.dedup import TextFingerprint
from monitor.ingest.model import IncomingArticle, IngestOutcome, IngestResult, MatchHook
from monitor.ingest.write import ArticleWriter

__all__ = ["ArticleIngestor"]


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
        threshold: float | None = None,
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
        return cls(ArticleAnalyzer.from_database(engine, threshold=threshold), writer)

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
