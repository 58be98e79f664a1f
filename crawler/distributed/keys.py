"""The Redis keys distributed mode uses, all under one prefix (give each installation its own
Redis database: ``/N`` in the URL)."""

from __future__ import annotations

PREFIX = "newswatch"
START_URLS_KEY = PREFIX + ":%(name)s:start_urls"  # scrapy-redis REDIS_START_URLS_KEY
# SCHEDULER_QUEUE_KEY: a Redis stream per spider, read by the consumer group GROUP.
QUEUE_KEY = PREFIX + ":%(spider)s:requests"
GROUP = "workers"
DUPEFILTER_KEY = PREFIX + ":%(spider)s:dupefilter"  # SCHEDULER_DUPEFILTER_KEY
ITEMS_KEY = PREFIX + ":items"  # REDIS_ITEMS_KEY: pages and source events, in one list
# The batch of items the ingest has taken and not yet stored (put back if it dies).
TAKEN_ITEMS_KEY = PREFIX + ":items:taken"
KNOWN_KEY = PREFIX + ":known_urls"  # every URL of a stored article (article_urls)
# URL -> JSON KnownArticle (id, when last fetched or confirmed, validators): a link whose
# sitemap lastmod / feed updated date is later is fetched again.
KNOWN_ARTICLES_KEY = PREFIX + ":known_articles"
CYCLE_KEY = PREFIX + ":cycle"  # the number of the ingest cycle now running
# source -> requests of the cycle queued and not yet done (acknowledged)
OUTSTANDING_KEY = PREFIX + ":cycle:%(cycle)s:outstanding"
BUSY_KEY = PREFIX + ":busy:%(worker)s"  # set by a worker while it has work in hand
WORKER_KEY = PREFIX + ":worker:%(worker)s"  # a live worker's heartbeat (JSON), with a TTL
# FeedSpider.name, SiteSpider.name, TelegramSpider.name (tests/test_distributed.py checks)
SPIDERS = ("feeds", "sites", "telegram")


def start_key(spider: str) -> str:
    """The list a spider's start data waits in."""
    return START_URLS_KEY % {"name": spider}


def queue_key(spider: str) -> str:
    """The stream a spider's requests wait in."""
    return QUEUE_KEY % {"spider": spider}


def outstanding_key(cycle: int | str) -> str:
    """The hash counting each source's unfinished requests in a cycle."""
    return OUTSTANDING_KEY % {"cycle": cycle}
