"""The item pipeline: fetched article pages -> extraction -> `monitor.pipeline.ArticleIngestor`.

Extraction, claim splitting, matching and storage are CPU work that would stall Scrapy's event loop, so by
default they run in one worker process (`CrawlLimits.ingest_workers`), using the machine's second core
while the crawl process keeps downloading. One worker also means one writer, which suits SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy.crawler import Crawler

from monitor.pipeline import ArticleIngestor, IncomingArticle, IngestResult
from monitor.storage.engine import make_engine
from spiders.extraction import decode_html, extract_article
from spiders.items import FetchedArticle
from spiders.job import CrawlJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessedArticle:
    """The pipeline's answer for one page: an ingest result, or the reason there is none."""

    result: IngestResult | None = None
    error: str | None = None


def incoming_article(item: FetchedArticle) -> IncomingArticle | None:
    """Extract the article in a fetched page; None when the page has no main text."""
    page = extract_article(decode_html(item.body, item.content_type), item.final_url)
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


class ArticleProcessor:
    """Extracts and ingests pages; every failure becomes a `ProcessedArticle.error`, never an exception."""

    def __init__(self, ingestor: ArticleIngestor) -> None:
        self.ingestor = ingestor

    @classmethod
    def for_job(cls, job: CrawlJob) -> ArticleProcessor:
        engine = make_engine(job.database_url)
        return cls(ArticleIngestor.for_crawl_run(engine, crawl_run_id=job.crawl_run_id, on_matches=job.on_matches))

    def process(self, item: FetchedArticle) -> ProcessedArticle:
        try:
            article = incoming_article(item)
        except Exception as exc:  # a page that breaks the extractor must not break the crawl
            logger.exception("extraction failed for %s", item.final_url)
            return ProcessedArticle(error=f"extraction failed: {type(exc).__name__}")
        if article is None:
            return ProcessedArticle(error="no article text found on the page")
        try:
            return ProcessedArticle(result=self.ingestor.ingest(article))
        except Exception as exc:  # the article is rolled back and reported; the next run retries it
            logger.exception("storing failed for %s", item.final_url)
            return ProcessedArticle(error=f"storing failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


# The worker process's processor. A process pool hands work to plain functions, so the initializer keeps
# the per-process state here; it is never set in the crawl process itself.
_worker_processor: ArticleProcessor | None = None


def _start_worker(job: CrawlJob) -> None:
    global _worker_processor
    _worker_processor = ArticleProcessor.for_job(job)


def _process_in_worker(item: FetchedArticle) -> ProcessedArticle:
    assert _worker_processor is not None, "worker started without its initializer"
    return _worker_processor.process(item)


class MonitorPipeline:
    """Hands each `FetchedArticle` to the article processor and counts the outcome in the spider's tally."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._processor: ArticleProcessor | None = None
        self._executor: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def _spider(self) -> Any:
        return self.crawler.spider

    def open_spider(self) -> None:
        job: CrawlJob = self._spider.job
        if job.limits.ingest_workers > 0:
            self._executor = ProcessPoolExecutor(
                max_workers=job.limits.ingest_workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(job,),
            )
        else:
            self._processor = ArticleProcessor.for_job(job)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedArticle):
            return item
        processed = await self._process(item)
        tally = self._spider.tally
        if processed.result is not None:
            tally.article(processed.result)
        else:
            tally.error(
                source_id=item.source_id,
                source_url=item.source_url,
                url=item.final_url,
                reason=processed.error or "not processed",
            )
        return item

    async def _process(self, item: FetchedArticle) -> ProcessedArticle:
        if self._executor is None:
            assert self._processor is not None
            return self._processor.process(item)
        try:
            return await asyncio.wrap_future(self._executor.submit(_process_in_worker, item))
        except BrokenProcessPool:
            return ProcessedArticle(error="the article worker process died")

    def close_spider(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
