"""What the crawl's worker processes do with a fetched page: extract, analyze, store.

The analyzer processes screen, extract and analyze pages (`PageAnalyzer`); the one writer process stores
what they found (`write_article`). With no worker processes, `ArticleProcessor` does all of it in the
crawl process. No Scrapy here: a worker process only imports what its work needs, and starts sooner.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from monitor.crawling.job import CrawlJob
from monitor.errors import error_line
from monitor.ingest.analyse import AnalyzedArticle, ArticleAnalyzer
from monitor.ingest.model import IncomingArticle, IngestOutcome, IngestResult
from monitor.ingest.pipeline import ArticleIngestor
from monitor.ingest.write import ArticleWriter
from monitor.storage.engine import make_engine
from monitor.text.decode import decode_html
from spiders.extraction import extract_article
from spiders.items import FetchedArticle
from spiders.lifetime import die_with_parent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessedArticle:
    """The pipeline's answer for one page: an ingest result, or the reason there is none."""

    result: IngestResult | None = None
    error: str | None = None


NOT_ON_TOPIC = ProcessedArticle(result=IngestResult(IngestOutcome.not_on_topic))


def incoming_article(item: FetchedArticle, html: str | None = None) -> IncomingArticle | None:
    """Extract the article in a fetched page (`html`: its body, decoded already); None when the page has
    no main text."""
    if html is None:
        html = decode_html(item.body, item.content_type)
    page = extract_article(html, item.final_url)
    if page is None:
        return None
    return IncomingArticle(
        url=item.url,
        canonical_url=page.canonical_url,
        text=page.text,
        title=page.title or item.feed_title,
        outlet=item.outlet or page.sitename or urlsplit(item.final_url).hostname,
        author=page.author,
        published=page.published or item.feed_published,
        language=page.language or item.language,
        source_id=item.source_id,
    )


class PageAnalyzer:
    """Screens, extracts and analyzes pages; every failure becomes a `ProcessedArticle`, never an exception."""

    def __init__(self, analyzer: ArticleAnalyzer) -> None:
        self.analyzer = analyzer

    def extract(self, item: FetchedArticle) -> IncomingArticle | ProcessedArticle:
        """The page's article, or the final answer for a page that has none to store."""
        try:
            html = decode_html(item.body, item.content_type)
            # Extraction is the costliest step for a page that turns out to be off topic: skip it when the
            # page cannot pass the watch-term filter (such a page counts as off topic, text or not).
            if not self.analyzer.page_may_be_on_topic(html, item.feed_title):
                return NOT_ON_TOPIC
            article = incoming_article(item, html)
        except Exception as exc:  # a page that breaks the extractor must not break the crawl
            logger.exception("extraction failed for %s", item.final_url)
            return ProcessedArticle(error=f"extraction failed: {type(exc).__name__}")
        if article is None:
            return ProcessedArticle(error="no article text found on the page")
        return article

    def analyze(self, item: FetchedArticle) -> AnalyzedArticle | ProcessedArticle:
        """The page's analyzed article (watch terms, claims, matches), or the final answer for the page."""
        article = self.extract(item)
        if isinstance(article, ProcessedArticle):
            return article
        try:
            analyzed = self.analyzer.analyze(article)
        except Exception as exc:
            logger.exception("analysis failed for %s", item.final_url)
            return ProcessedArticle(error=f"analysis failed: {error_line(exc, with_type=True, limit=200)}")
        return NOT_ON_TOPIC if analyzed is None else analyzed

    def analyze_many(self, items: Sequence[FetchedArticle]) -> list[AnalyzedArticle | ProcessedArticle]:
        """`analyze` for each page, in order, the claims of all of them matched together (the sentence
        encoders then run in batches across the pages, not page by page). Should matching the batch fail,
        each page is analyzed on its own, so the failure is reported for its page only."""
        extracted = [self.extract(item) for item in items]
        articles = [article for article in extracted if isinstance(article, IncomingArticle)]
        try:
            analyzed = iter(self.analyzer.analyze_many(articles))
        except Exception:
            logger.exception("analysing %d pages together failed; analysing them one by one", len(articles))
            return [self.analyze(item) for item in items]
        results: list[AnalyzedArticle | ProcessedArticle] = []
        for article in extracted:
            if isinstance(article, ProcessedArticle):
                results.append(article)
            else:
                found = next(analyzed)
                results.append(NOT_ON_TOPIC if found is None else found)
        return results


def write_article(writer: ArticleWriter, analyzed: AnalyzedArticle) -> ProcessedArticle:
    return write_articles(writer, [analyzed])[0]


def write_articles(writer: ArticleWriter, batch: Sequence[AnalyzedArticle]) -> list[ProcessedArticle]:
    """Store a batch of analyzed articles in one transaction (`ArticleWriter.write_many`); an article that
    cannot be stored is rolled back and reported in its place (the next run retries it)."""
    try:
        results = writer.write_many(batch)
    except Exception as exc:
        results = [exc] * len(batch)
    processed = []
    for analyzed, result in zip(batch, results, strict=True):
        if isinstance(result, Exception):
            logger.error("storing failed for %s: %s", analyzed.article.url, error_line(result, with_type=True))
            processed.append(ProcessedArticle(error=f"storing failed: {error_line(result, with_type=True, limit=200)}"))
        else:
            processed.append(ProcessedArticle(result=result))
    return processed


class ArticleProcessor:
    """The whole pipeline in the calling process, page by page (`ingest_workers=0`)."""

    def __init__(self, ingestor: ArticleIngestor) -> None:
        self.ingestor = ingestor
        self.pages = PageAnalyzer(ingestor.analyzer)

    @classmethod
    def for_job(cls, job: CrawlJob) -> ArticleProcessor:
        engine = make_engine(job.database_url)
        return cls(
            ArticleIngestor.for_crawl_run(
                engine,
                crawl_run_id=job.crawl_run_id,
                on_matches=job.on_matches,
                threshold=job.limits.match_threshold,
            )
        )

    def process(self, item: FetchedArticle) -> ProcessedArticle:
        article = self.pages.extract(item)
        if isinstance(article, ProcessedArticle):
            return article
        try:
            return ProcessedArticle(result=self.ingestor.ingest(article))
        except Exception as exc:  # the article is rolled back and reported; the next run retries it
            logger.exception("storing failed for %s", item.final_url)
            return ProcessedArticle(error=f"storing failed: {error_line(exc, with_type=True, limit=200)}")


# ---------------------------------------------------------------------------------------------------------
# In the worker processes. A process pool hands work to plain functions, so the initializers keep each
# process's state here; it is never set in the crawl process itself.
_page_analyzer: PageAnalyzer | None = None
_article_writer: ArticleWriter | None = None
_open_while_writing: Connection | None = None


def start_analyzer(job: CrawlJob) -> None:
    global _page_analyzer
    die_with_parent()
    analyzer = ArticleAnalyzer.from_database(make_engine(job.database_url), threshold=job.limits.match_threshold)
    _page_analyzer = PageAnalyzer(analyzer)


def analyze_in_worker(item: FetchedArticle) -> AnalyzedArticle | ProcessedArticle:
    assert _page_analyzer is not None, "analyzer started without its initializer"
    return _page_analyzer.analyze(item)


def analyze_batch_in_worker(items: list[FetchedArticle]) -> list[AnalyzedArticle | ProcessedArticle]:
    """The pages a worker has in hand, analyzed together (`PageAnalyzer.analyze_many`)."""
    assert _page_analyzer is not None, "analyzer started without its initializer"
    return _page_analyzer.analyze_many(items)


def start_writer(job: CrawlJob) -> None:
    global _article_writer, _open_while_writing
    die_with_parent()
    engine = make_engine(job.database_url)
    if engine.dialect.name == "sqlite":
        # SQLite engines open a connection per unit of work, and the last connection to close checkpoints
        # and removes the write-ahead log: that was half of each write's time. One idle connection held
        # for the writer's life keeps the log open (it holds no lock: readers and writers are unaffected).
        _open_while_writing = engine.connect()
    _article_writer = ArticleWriter.for_crawl_run(engine, crawl_run_id=job.crawl_run_id, on_matches=job.on_matches)


def write_in_worker(analyzed: AnalyzedArticle) -> ProcessedArticle:
    assert _article_writer is not None, "writer started without its initializer"
    return write_article(_article_writer, analyzed)


def write_batch_in_worker(batch: list[AnalyzedArticle]) -> list[ProcessedArticle]:
    """A batch of analyzed articles stored in one transaction (`write_articles`)."""
    assert _article_writer is not None, "writer started without its initializer"
    return write_articles(_article_writer, batch)


def write_batch_for_runs(batch: list[tuple[int | None, AnalyzedArticle]]) -> list[ProcessedArticle]:
    """`write_batch_in_worker` for articles tagged with their pass (`crawl_run_id`, None for the writer's
    own): a crawler that stays up writes the articles of many runs with one writer process, and each
    article is stored under its own run. Consecutive articles of one run are written together."""
    writer = _article_writer
    assert writer is not None, "writer started without its initializer"
    results: list[ProcessedArticle] = []
    start = 0
    while start < len(batch):
        run_id = batch[start][0]
        end = start
        while end < len(batch) and batch[end][0] == run_id:
            end += 1
        if run_id is not None:
            writer.crawl_run_id = run_id
        results.extend(write_batch_in_worker([analyzed for _, analyzed in batch[start:end]]))
        start = end
    return results


def ready() -> None:
    """A task that does nothing: submitted once per process to start the pools' processes early."""
