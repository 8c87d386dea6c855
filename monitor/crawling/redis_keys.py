"""The Redis keys of a scaled-out deployment: the passes waiting, scrapy-redis's shared queue and filter, pass counts.

Apart from the launcher and the workers (`monitor.crawling.scaleout`, `spiders.redis_scheduler`), so that
both can name them without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import redis

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

    @property
    def read_pages(self) -> str:
        """The fingerprints of article pages a pass fetched and read, scored by when
        (`spiders.redis_scheduler.PassDupeFilter`)."""
        return f"{self.dupefilter}:read"

    def pass_fingerprints(self, crawl_run_id: int) -> str:
        """The fingerprints a pass added to the shared duplicate filter (`spiders.redis_scheduler`)."""
        return f"{self.dupefilter}:pass:{crawl_run_id}"

    @property
    def open_passes(self) -> str:
        """Passes taken by a worker whose fingerprints are not released yet."""
        return f"{self.prefix}:passes"

    def finished(self, crawl_run_id: int) -> str:
        return f"{self.prefix}:run:{crawl_run_id}:recorded"


def release_fingerprints(client: redis.Redis, keys: RedisKeys, crawl_run_id: int) -> int:
    """Drop the fingerprints an ended pass added to the shared duplicate filter; return how many."""
    own = keys.pass_fingerprints(crawl_run_id)
    fingerprints = list(cast(Iterable[str], client.smembers(own)))
    with client.pipeline(transaction=True) as pipe:
        if fingerprints:
            pipe.srem(keys.dupefilter, *fingerprints)
        pipe.delete(own)
        pipe.srem(keys.open_passes, crawl_run_id)
        pipe.execute()
    return len(fingerprints)
