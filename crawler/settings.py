"""Scrapy settings for newswatch; the run command layers the config's [crawl] table on top."""

from crawler.config.keys import CrawlSettings

BOT_NAME = "newswatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# USER_AGENT, ROBOTSTXT_OBEY, CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_TIMEOUT,
# DOWNLOAD_MAXSIZE, RETRY_TIMES and AUTOTHROTTLE_ENABLED come from the [crawl] keys
# declared in crawler/config/keys.py, defaults included (CrawlSettings.scrapy_settings).
globals().update(CrawlSettings().scrapy_settings())

CONCURRENT_REQUESTS = 16
DOWNLOAD_DELAY = 0
DOWNLOAD_WARNSIZE = 0
RETRY_ENABLED = True

# AutoThrottle adapts the delay to each site's latency; the start delay is small
# because a cycle fetches few pages per site and cron spaces the cycles.
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

COOKIES_ENABLED = False

# Scrapy's check for a generator callback with "return value" reads the callback's source
# and parses it on every response (its cache holds bound methods weakly, so it never hits):
# about 5 ms a feed or page on the crawl's one thread. Ruff and the tests catch that bug.
WARN_ON_GENERATOR_RETURN_VALUE = False
HTTPCACHE_ENABLED = False

# Scrapy starts CONCURRENT_ITEMS asyncio tasks for every response's output (2.19's
# _parallel_asyncio), though an article page yields one item and the pipeline bounds the
# pages in the worker pool itself: the default 100 was 111,100 tasks for 1,100 responses,
# and 8 made a 1,000-article run 15% faster (bench/README.md, crawl_bench).
CONCURRENT_ITEMS = 8

# Only http(s) is fetched: a feed item may link file:///etc/passwd or s3://, and what
# a download handler reads would be stored and sent out in an alert. The spiders skip
# such links and PrivateAddressMiddleware refuses them too; no handler remains for them.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

# PrivateAddressMiddleware comes before RobotsTxtMiddleware (100), so a refused request
# never fetches a robots.txt first; every redirect, retry and meta refresh is a new
# request and passes it again. RedirectLoopMiddleware sees responses just before
# RedirectMiddleware (600) does, so a loop fails its request instead of vanishing.
DOWNLOADER_MIDDLEWARES = {
    "crawler.downloadermiddlewares.private.PrivateAddressMiddleware": 80,
    "crawler.downloadermiddlewares.redirectloop.RedirectLoopMiddleware": 650,
}

# No extension that listens on a port, in any mode: Scrapy's telnet console and its
# remote-control HTTP server (2.19: runs Python code sent to it, and writes its port and
# token to a file in the user's state directory). Scrapy's own list is restated without
# them, as a name in EXTENSIONS is imported even when set to None (the remote control's
# import, aiohttp, cost every run 0.3 s); the flags cover a layer that lists them again.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.memusage.MemoryUsage": 0,
    "scrapy.extensions.memdebug.MemoryDebugger": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.feedexport.FeedExporter": 0,
    "scrapy.extensions.logstats.LogStats": 0,
    "scrapy.extensions.spiderstate.SpiderState": 0,
}
EXTENSIONS = {
    # AutoThrottle (not in the list above), but a 304 to a conditional GET lowers the
    # delay as a 200 does.
    "crawler.extensions.throttle.NotModifiedThrottle": 0,
}

LOG_LEVEL = "WARNING"

ITEM_PIPELINES = {"crawler.pipelines.IngestPipeline": 300}

FEED_EXPORT_ENCODING = "utf-8"
