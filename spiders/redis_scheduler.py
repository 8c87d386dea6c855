"""scrapy-redis's scheduler for crawler workers: the crawl's requests in Redis, article pages claimed by one worker.

Used only by `monitor crawler` workers (`monitor.crawling.scaleout.redis_scrapy_settings` selects it); a crawl
without Redis keeps Scrapy's own scheduler. The article requests of `NewsSpider` bypass dupefilters
(`dont_filter`, because the spider deduplicates them itself within a run), so the claim is taken here,
before the request is queued: a page claimed by another worker's run is dropped and counted as known.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy_redis.scheduler import Scheduler

from monitor.crawling.scaleout import ArticleClaims, RedisKeys


class SharedArticleScheduler(Scheduler):
    """scrapy-redis's `Scheduler` that claims every article URL across workers before queuing it.

    Needs the spider's `job.crawl_run_id` (the claims' owner) and the settings `SCALEOUT_KEY_PREFIX` and
    `SCALEOUT_CLAIM_TTL` (seconds).
    """

    claims: ArticleClaims

    def open(self, spider: Any) -> Any:
        opened = super().open(spider)
        settings = spider.settings
        self.claims = ArticleClaims(
            self.server,
            RedisKeys(settings.get("SCALEOUT_KEY_PREFIX")),
            crawl_run_id=spider.job.crawl_run_id,
            ttl=settings.getfloat("SCALEOUT_CLAIM_TTL"),
        )
        return opened

    def enqueue_request(self, request: Request) -> bool:
        # Redirects and retries of an article keep its role; the claim is granted again to the same run.
        if request.meta.get("role") == "article" and not self.claims.claim(self.df.request_fingerprint(request)):
            tally = getattr(self.spider, "tally", None)
            if tally is not None:
                tally.skipped_known(1)
            if self.stats:
                self.stats.inc_value("scheduler/claimed_by_another_worker", spider=self.spider)
            return False
        return bool(super().enqueue_request(request))
