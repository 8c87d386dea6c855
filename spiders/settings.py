"""Scrapy settings of the Claim Monitor crawler: polite and bounded by default.

`spiders.run` loads this module and then applies the run's `CrawlLimits` on top (tests use tiny timeouts
and retry delays that way, never by editing this file).
"""

from monitor.http.fetch import USER_AGENT as MONITOR_USER_AGENT

BOT_NAME = "claim-monitor"
SPIDER_MODULES = ["spiders.spiders"]
NEWSPIDER_MODULE = "spiders.spiders"

# Politeness: say who we are, obey robots.txt, keep per-site load low and adapt to the site's latency.
USER_AGENT = MONITOR_USER_AGENT
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Bounds: no page may take the crawl hostage.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False

# Retries with backoff that honour Retry-After (spiders.middlewares); Scrapy's immediate retry is off.
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# A host that cannot be resolved or refuses (or never answers) the connection fails at once and is
# remembered until its source's next interval (spiders.spiders.news): retrying it within the pass only
# holds the pass up. Dropped connections, timeouts of an answering server and 5xx are still retried.
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectionLost",
    OSError,
    "scrapy.core.downloader.handlers.http11.TunnelError",
]
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 120.0
DOWNLOADER_MIDDLEWARES = {
    # First, so that no request to a refused destination reaches robots.txt fetching or the network.
    "spiders.safety.SafeDestinationMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
    # Nearer the downloader than retries: a refused name is not a lookup failure worth retrying.
    "spiders.safety.RefusedNameMiddleware": 560,
}

# Only http and https, ever (monitor.http.safety): a feed linking to file:///etc/passwd or data: gets
# nothing read. Every host is resolved through the guarded resolver, which hands Twisted only allowed
# addresses; CRAWL_ALLOWED_NETWORKS (from MONITOR_CRAWL_ALLOWED_NETWORKS) is applied by spiders.run.
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}
TWISTED_DNS_RESOLVER = "spiders.safety.GuardedResolver"
CRAWL_ALLOWED_NETWORKS: list[str] = []

# Every fetch is fresh; conditional GET (ETag / Last-Modified from the database) does the caching.
HTTPCACHE_ENABLED = False

ITEM_PIPELINES = {"spiders.pipelines.MonitorPipeline": 300}
# The item pipeline awaits work done in another process; asyncio's reactor lets it await a future.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# Every failure is in the crawl's error report (source, address, reason); the log stays for real trouble.
LOG_LEVEL = "ERROR"
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"
LOG_FORMAT = "crawl %(levelname)s %(name)s: %(message)s"
