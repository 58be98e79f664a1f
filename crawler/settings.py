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
TELNETCONSOLE_ENABLED = False
HTTPCACHE_ENABLED = False
LOG_LEVEL = "WARNING"

ITEM_PIPELINES = {"crawler.pipelines.IngestPipeline": 300}

FEED_EXPORT_ENCODING = "utf-8"
