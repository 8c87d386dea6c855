"""The item pipeline: fetched article pages -> extraction -> analysis -> storage (`monitor.ingest.pipeline`).

Extraction, claim splitting and matching are CPU work that would stall Scrapy's event loop, and they have
no side effects, so by default they run in a pool of analyzer processes (`CrawlLimits.ingest_workers`)
that use the machine's other cores while the crawl process keeps downloading. Storage stays with one
writer process: it alone decides what is new, already seen or a copy of another article, so two copies
of a syndicated story analyzed at the same moment are still linked, and a canonical URL is stored once;
one writer also suits SQLite. With `ingest_workers=0` everything runs in the crawl process (tests).
The work itself is in `spiders.workers`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Self

from scrapy.crawler import Crawler
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.crawling.catalog_version import catalog_version
from monitor.crawling.job import CrawlJob
from monitor.storage.engine import make_engine
from spiders.items import FetchedArticle
from spiders.spiders.news import RUN_META
from spiders.workers import (
    ArticleProcessor,
    ProcessedArticle,
    analyze_batch_in_worker,
    incoming_article,
    ready,
    start_analyzer,
    start_writer,
    write_batch_for_runs,
)

__all__ = ["MonitorPipeline", "incoming_article"]

# Pages go to an analyzer, and analyzed articles to the writer, in batches of up to this many (whatever has
# come in within BATCH_WAIT seconds of the first): an analyzer matches a batch's claims together, so the
# sentence encoders run over many articles at once, and the writer stores a batch in one transaction.
ANALYSIS_BATCH = 8
WRITE_BATCH = 16
BATCH_WAIT = 0.05
# How often a crawler that stays up checks whether the watch terms or the baseline changed.
CATALOG_CHECK_SECONDS = 30.0


# The analyzers' parallelism is their processes. A BLAS library's own threads (the sentence encoder's
# matrix products), one per core in every analyzer, only fight them and the crawl for the same cores:
# measured on 2 cores, 2 analyzers with the sentence encoder crawl 4.9 pages/s with one thread each, 3.3
# with OpenBLAS's default (a thread per core).
SINGLE_THREADED_MATH = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextmanager
def _spawn_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Environment variables for the processes started inside, where the environment does not set them
    already (a spawned process copies the environment when it starts: BLAS reads it when loaded)."""
    added = {name: value for name, value in values.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _pool(
    workers: int, initializer: Callable[[CrawlJob], None], job: CrawlJob, environment: Mapping[str, str]
) -> ProcessPoolExecutor:
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=initializer,
        initargs=(job,),
    )
    # Processes start on demand, each as a task is submitted: one no-op task each starts them all now,
    # with `environment`, and they build their indexes while the crawl fetches its first feeds.
    with _spawn_environment(environment):
        for _ in range(workers):
            executor.submit(ready)
    return executor


class MonitorPipeline:
    """Hands each `FetchedArticle` to the analyzers, then the writer, and counts the outcome in the tally."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._processor: ArticleProcessor | None = None
        self._analyzers: ProcessPoolExecutor | None = None
        self._writer: ProcessPoolExecutor | None = None
        self._analysis: _Batches | None = None
        self._writing: _Batches | None = None
        self._engine: Engine | None = None
        self._version = ""
        self._checked = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def _spider(self) -> Any:
        return self.crawler.spider

    def open_spider(self) -> None:
        job: CrawlJob = self._spider.job
        if job.feed is not None:  # a crawler that stays up: rebuilt when the watch terms or baseline change
            self._engine = make_engine(job.database_url)
            self._version = catalog_version(self._engine)
            self._checked = time.monotonic()
        self._start_work(job)

    def _start_work(self, job: CrawlJob) -> None:
        if job.limits.ingest_workers > 0:
            self._analyzers = _pool(job.limits.ingest_workers, start_analyzer, job, SINGLE_THREADED_MATH)
            self._writer = _pool(1, start_writer, job, {})
            self._analysis = _Batches(self._analyzers, analyze_batch_in_worker, ANALYSIS_BATCH)
            self._writing = _Batches(self._writer, write_batch_for_runs, WRITE_BATCH)
        else:
            self._processor = ArticleProcessor.for_job(job)

    def _refresh_if_changed(self) -> None:
        """In a crawler that stays up: new analyzers (and writer) when the watch terms or baseline changed.

        The old pools finish the articles they hold and then exit; new articles go to the new ones.
        """
        every = self.crawler.settings.getfloat("MONITOR_CATALOG_CHECK_SECONDS", CATALOG_CHECK_SECONDS)
        if self._engine is None or time.monotonic() - self._checked < every:
            return
        self._checked = time.monotonic()
        try:
            version = catalog_version(self._engine)
        except SQLAlchemyError:
            return  # checked again later; the analyzers go on as they are
        if version == self._version:
            return
        self._version = version
        # Batches still waiting go to the old pools before they close (a pool shut down takes no more work,
        # but finishes what it was given).
        for batches in (self._analysis, self._writing):
            if batches is not None:
                batches.flush()
        for executor in (self._analyzers, self._writer):
            if executor is not None:
                executor.shutdown(wait=False)
        self._analyzers = self._writer = self._processor = None
        self._start_work(self._spider.job)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedArticle):
            return item
        self._refresh_if_changed()
        try:
            self._count(item, await self._process(item))
        finally:
            # The article's pass (in a crawler that stays up) may be over once this article is.
            ended = getattr(self._spider, "item_ended", None)
            if ended is not None:
                ended(item.crawl_run_id)
        return item

    def _count(self, item: FetchedArticle, processed: ProcessedArticle) -> None:
        tally = self._spider.tally_for({RUN_META: item.crawl_run_id})
        if processed.result is not None:
            tally.article(processed.result, item.source_id)
            fetched = self._spider.fetched
            if fetched is not None:
                fetched.remember(item.url, processed.result.outcome.value)
            feed = self._spider.feed
            if feed is not None:
                feed.page_read(item.url)
        else:
            tally.error(
                source_id=item.source_id,
                source_url=item.source_url,
                url=item.final_url,
                reason=processed.error or "not processed",
            )

    async def _process(self, item: FetchedArticle) -> ProcessedArticle:
        if self._processor is not None:
            if item.crawl_run_id is not None:
                self._processor.ingestor.writer.crawl_run_id = item.crawl_run_id
            return self._processor.process(item)
        assert self._analysis is not None and self._writing is not None
        analyzed = await self._analysis.run(item)
        if analyzed is None:
            return ProcessedArticle(error="the article worker process died")
        if isinstance(analyzed, ProcessedArticle):
            return analyzed
        written = await self._writing.run((item.crawl_run_id, analyzed))
        return written if written is not None else ProcessedArticle(error="the article writer process died")

    def close_spider(self) -> None:
        fetched = self._spider.fetched
        if fetched is not None:
            fetched.flush()
        for executor in (self._analyzers, self._writer):
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)


class _Batches:
    """Runs `function` (a list of arguments -> a list of results, in order) in a pool on batches of the
    arguments that callers of `run` hand in: a batch leaves when `size` are waiting, or BATCH_WAIT seconds
    after its first came. `run` gives one argument's result, None when the pool's process died."""

    def __init__(self, executor: ProcessPoolExecutor, function: Callable[[list[Any]], list[Any]], size: int) -> None:
        self.executor = executor
        self.function = function
        self.size = size
        self._waiting: list[tuple[Any, asyncio.Future[Any]]] = []
        self._timer: asyncio.TimerHandle | None = None

    async def run(self, argument: Any) -> Any:
        loop = asyncio.get_running_loop()
        result: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((argument, result))
        if len(self._waiting) >= self.size:
            self._send()
        elif self._timer is None:
            self._timer = loop.call_later(BATCH_WAIT, self._send)
        return await result

    def flush(self) -> None:
        """Send what is waiting now, without waiting for the batch to fill."""
        self._send()

    def _send(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._waiting = self._waiting, []
        if not batch:
            return
        try:
            done = asyncio.wrap_future(self.executor.submit(self.function, [argument for argument, _ in batch]))
        except (BrokenProcessPool, RuntimeError):  # the pool died, or is shut down
            self._settle(batch, None, died=True)
            return
        done.add_done_callback(lambda finished: self._finished(batch, finished))

    def _finished(self, batch: list[tuple[Any, asyncio.Future[Any]]], finished: asyncio.Future[Any]) -> None:
        if finished.cancelled():
            self._settle(batch, None, died=True)
            return
        error = finished.exception()
        if isinstance(error, BrokenProcessPool):
            self._settle(batch, None, died=True)
        elif error is not None:
            for _, waiting in batch:
                if not waiting.done():
                    waiting.set_exception(error)
        else:
            self._settle(batch, finished.result())

    @staticmethod
    def _settle(batch: list[tuple[Any, asyncio.Future[Any]]], results: list[Any] | None, *, died: bool = False) -> None:
        for position, (_, waiting) in enumerate(batch):
            if not waiting.done():
                waiting.set_result(None if died or results is None else results[position])
