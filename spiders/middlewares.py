"""Downloader middleware: retries with exponential backoff that honour `Retry-After`.

Replaces Scrapy's RetryMiddleware, which retries at once: a server answering 503 or 429 is asking us to
wait, and hammering it again is neither polite nor useful. The wait is asynchronous (other downloads go
on), and a `Retry-After` longer than `RETRY_AFTER_MAX` gives the page up for this run instead of stalling
the crawl; the next scheduled run tries again.
"""

from __future__ import annotations

from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object
from scrapy.utils.response import response_status_message
from twisted.internet.task import deferLater

from monitor.http.fetch import retry_after_seconds

# Why a page was finally given up is kept in its meta, so the error report can say it.
GAVE_UP_META = "monitor_gave_up"


def _after_retries(request: Request) -> str:
    count = int(request.meta.get("retry_times", 0))
    return f"after {count} {'retry' if count == 1 else 'retries'}"


class BackoffRetryMiddleware:
    """Retry 5xx/429 responses and network failures up to RETRY_TIMES, waiting between attempts.

    The wait is `Retry-After` when the server sends one, else RETRY_BACKOFF_BASE * 2**attempt seconds,
    capped at RETRY_BACKOFF_MAX.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.max_retry_times = settings.getint("RETRY_TIMES")
        self.retry_http_codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.exceptions_to_retry = tuple(
            load_object(path) if isinstance(path, str) else path for path in settings.getlist("RETRY_EXCEPTIONS")
        )
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _backoff(self, request: Request) -> float:
        attempt = int(request.meta.get("retry_times", 0))
        return float(min(self.backoff_max, self.backoff_base * (2**attempt)))

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            # Imported here: importing the reactor at module level would install the default one before
            # Scrapy installs the asyncio reactor.
            from twisted.internet import reactor

            await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))

    def _retry(self, request: Request, reason: str | Exception) -> Request | None:
        assert self.crawler.spider is not None
        return get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
        )

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        reason = f"HTTP {response_status_message(response.status)}"
        delay = retry_after_seconds(response.headers.get(b"Retry-After"))
        if delay is not None and delay > self.retry_after_max:
            request.meta[GAVE_UP_META] = f"{reason}; the server asked to retry after {delay:.0f} s"
            return response
        retry = self._retry(request, reason)
        if retry is None:
            request.meta[GAVE_UP_META] = f"{reason} {_after_retries(request)}"
            return response
        await self._wait(self._backoff(request) if delay is None else delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Any:
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            request.meta[GAVE_UP_META] = _after_retries(request)
            return None
        await self._wait(self._backoff(request))
        return retry
