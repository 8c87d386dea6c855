"""The Redis keys of a scaled-out deployment: the passes waiting, scrapy-redis's shared queue and filter, pass counts.

Apart from the launcher and the workers (`monitor.crawling.scaleout`, `spiders.redis_scheduler`), so that
both can name them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_KEY_PREFIX = "claim-monitor"


@dataclass(frozen=True)
class RedisKeys:
    """Every Redis key of one deployment, under `prefix` (tests use a random prefix each); none per worker."""

    prefix: str = DEFAULT_KEY_PREFIX

    @property
    def sources(self) -> str:
        """The passes waiting for a worker (JSON `Assignment`s), as a `RedisSpider`'s `redis_key` holds URLs."""
        return f"{self.prefix}:sources"

    @property
    def requests(self) -> str:
        """scrapy-redis's request queue, shared by every worker."""
        return f"{self.prefix}:requests"

    @property
    def dupefilter(self) -> str:
        """scrapy-redis's request fingerprints, shared by every worker."""
        return f"{self.prefix}:dupefilter"

    def run(self, crawl_run_id: int) -> str:
        """The count of one pass (`spiders.redis_scheduler.RedisTally`)."""
        return f"{self.prefix}:run:{crawl_run_id}"

    def run_errors(self, crawl_run_id: int) -> str:
        return f"{self.prefix}:run:{crawl_run_id}:errors"

    def finished(self, crawl_run_id: int) -> str:
        return f"{self.prefix}:run:{crawl_run_id}:recorded"
