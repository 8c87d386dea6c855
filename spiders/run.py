"""The crawl's child process: runs Scrapy for one `CrawlJob` and sends progress and the report back.

Twisted's reactor cannot be restarted in one process, so every crawl run gets a fresh process
(`monitor.crawling.runs` starts it with multiprocessing's `spawn`). Messages on the connection are tuples:
`("progress", snapshot)`, then exactly one of `("report", report_dict)` or `("failed", reason)`.
"""

from __future__ import annotations

import logging
import os
from multiprocessing.connection import Connection
from typing import Any

from monitor.crawling.job import CrawlJob, CrawlLimits, CrawlReport
from monitor.errors import error_line
from monitor.storage.engine import make_engine
from spiders.known_urls import FetchedUrlRecorder, KnownUrlLookup
from spiders.lifetime import die_with_parent
from spiders.tally import CrawlTally, ProgressCallback


class OneLineErrors(logging.Filter):
    """Keeps a log record's message and drops its stack trace.

    Scrapy's robots.txt middleware logs every unreachable host (offline: every source) with a full
    traceback; the crawl already records that failure per source, with its address and reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


# Loggers whose errors the crawl report states already, so their tracebacks are noise on a console.
ONE_LINE_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt",)


def scrapy_settings(limits: CrawlLimits) -> Any:
    """The project settings (`spiders.settings`) with the run's limits applied on top."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    overrides: dict[str, Any] = {
        "DOWNLOAD_TIMEOUT": limits.download_timeout,
        "RETRY_TIMES": limits.retry_times,
        "RETRY_BACKOFF_BASE": limits.backoff_base,
        "RETRY_BACKOFF_MAX": limits.backoff_max,
        "RETRY_AFTER_MAX": limits.retry_after_max,
        "DOWNLOAD_MAXSIZE": limits.max_page_bytes,
        "DOWNLOAD_WARNSIZE": min(limits.max_page_bytes, 2 * 1024 * 1024),
        "CONCURRENT_REQUESTS_PER_DOMAIN": limits.concurrent_per_domain,
        "AUTOTHROTTLE_START_DELAY": limits.autothrottle_start_delay,
        "CLOSESPIDER_TIMEOUT": limits.time_limit or 0,
        "CRAWL_ALLOWED_NETWORKS": list(limits.allowed_networks),
        "CRAWL_MAX_ITEMS_PER_SOURCE": limits.max_items_per_source,
        **limits.extra_settings,
    }
    settings.setdict(overrides, priority="cmdline")
    return settings


def crawl(job: CrawlJob, *, progress: ProgressCallback | None = None) -> CrawlReport:
    """Run the job's crawl to its end in this process (once per process) and return its report."""
    from scrapy.crawler import CrawlerProcess

    from spiders.spiders.news import NewsSpider

    tally = CrawlTally(progress=progress, progress_every=job.limits.progress_every)
    engine = make_engine(job.database_url)
    process = CrawlerProcess(scrapy_settings(job.limits))
    for name in ONE_LINE_LOGGERS:
        logging.getLogger(name).addFilter(OneLineErrors())
    crawler = process.create_crawler(NewsSpider)
    process.crawl(crawler, job=job, tally=tally, stored_urls=KnownUrlLookup(engine), fetched=FetchedUrlRecorder(engine))
    process.start()
    engine.dispose()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    tally.report.finish_reason = str(stats.get("finish_reason") or "finished")
    tally.report.time_limit = job.limits.time_limit
    return tally.report


def run_crawl_job(job: CrawlJob, connection: Connection) -> None:
    """Entry point of the child process: crawl, then send the report (or the reason it failed)."""
    # A process group of its own, so the parent can stop this process and its article workers together.
    os.setpgid(0, 0)
    # A parent killed outright cannot stop the group: the kernel's signal on its death does.
    die_with_parent()
    try:
        report = crawl(job, progress=lambda snapshot: connection.send(("progress", snapshot)))
        connection.send(("report", report.to_message()))
    except Exception as exc:
        logging.getLogger(__name__).exception("the crawl failed")
        connection.send(("failed", error_line(exc, with_type=True, limit=300)))
        raise SystemExit(1) from None
    finally:
        connection.close()
