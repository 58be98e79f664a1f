"""Crawl worker of distributed mode: the feed, site and Telegram spiders fed from Redis, items
sent to Redis.

Run as many as you like (``newswatch crawl``), on as many machines: scrapy-redis
gives them one shared request queue and dupefilter, so a request is fetched by
one worker only. Workers never open the database; see ``crawler/distributed/consumer.py``
for the ingest side and the keys.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
import warnings
from collections.abc import Callable
from typing import Any, cast

import redis
import scrapy
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.settings import Settings
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy_redis.pipelines import RedisPipeline
from scrapy_redis.spiders import RedisSpider
from scrapy_redis.utils import bytes_to_str
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThread

from crawler.config import Config, Source
from crawler.distributed.consumer import (
    BUSY_KEY,
    DUPEFILTER_KEY,
    ITEMS_KEY,
    QUEUE_KEY,
    START_URLS_KEY,
    encode_item,
    is_known,
    known_article,
)
from crawler.extraction.telegram import Progress
from crawler.run.cycle import scrapy_settings
from crawler.run.health import SourceEvent, SourceHealth
from crawler.run.revisit import Revisit
from crawler.spiders.feeds import FeedSpider
from crawler.spiders.sites import SiteSpider
from crawler.spiders.telegram import TelegramSpider
from crawler.storage.store import SourceState

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5  # how often a worker says it is busy, and looks for start data when idle
BUSY_TTL_MS = 15_000  # a worker that dies stops counting as busy after this


def worker_settings(config: Config, redis_url: str, idle_exit: int, log_level: str) -> Settings:
    """newswatch's Scrapy settings with scrapy-redis's scheduler, dupefilter and item pipeline."""
    settings = scrapy_settings(config.crawl, log_level)
    settings.setdict(
        {
            "REDIS_URL": redis_url,
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            # The queue and dupefilter are shared: a worker leaving must not flush them.
            # The ingest process resets them when it starts a cycle.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": QUEUE_KEY,
            "SCHEDULER_DUPEFILTER_KEY": DUPEFILTER_KEY,
            "REDIS_START_URLS_KEY": START_URLS_KEY,
            "REDIS_ITEMS_KEY": ITEMS_KEY,
            "REDIS_ITEMS_SERIALIZER": "crawler.distributed.consumer.encode_item",
            "ITEM_PIPELINES": {"crawler.distributed.worker.ItemsToRedis": 300},
            # Added to, not instead of, crawler/settings.py's (which turns off the
            # extensions that listen on a port).
            "EXTENSIONS": {
                **settings.getdict("EXTENSIONS"),
                "crawler.distributed.worker.WorkerHeartbeat": 500,
            },
            "MAX_IDLE_TIME_BEFORE_CLOSE": idle_exit,
        },
        priority="cmdline",
    )
    return settings


class ItemsToRedis(RedisPipeline):  # type: ignore[misc]  # scrapy-redis has no type hints
    """scrapy-redis's RedisPipeline in the pipeline form Scrapy 2.13+ expects (no spider
    argument, a coroutine rather than a Deferred), so workers log no deprecation warnings.
    """

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ItemsToRedis:
        """RedisPipeline from the crawler's settings, keeping the crawler."""
        pipeline = super().from_crawler(crawler)
        pipeline.crawler = crawler
        return cast(ItemsToRedis, pipeline)

    async def process_item(self, item: Any) -> Any:
        """Push the item to the Redis list in a thread, as RedisPipeline does."""
        push = deferToThread(self._process_item, item, self.crawler.spider)
        return await maybe_deferred_to_future(push)


class ReportingHealth(SourceHealth):
    """A worker's source health: each outcome goes to the ingest process as a ``SourceEvent``."""

    def __init__(self, sources: tuple[Source, ...], server: redis.Redis) -> None:
        super().__init__(sources)
        self.server = server

    def record(self, event: SourceEvent) -> None:
        """Push the outcome to the item list (the ingest side counts and logs it)."""
        log.info("source %s: %s %s", event.source, event.outcome, event.error)
        self.server.rpush(ITEMS_KEY, encode_item(event))


class RedisEntries(RedisSpider):  # type: ignore[misc]  # scrapy-redis has no type hints
    """Mixin for a newswatch spider: sources arrive as start data in Redis, one at a time.

    scrapy-redis pops the start data (``make_request_from_data``); the spider's own
    ``entry_requests`` builds the requests, exactly as in-process. Each start datum
    begins a new cycle for its source: the per-source article count starts over. A
    datum with a ``revisit`` in its meta is one stored article to fetch again.
    """

    sources: tuple[Source, ...]
    queued: dict[str, set[str]]
    health: SourceHealth

    async def start(self) -> Any:
        """Whatever start data is waiting (Scrapy 2.13+ never calls ``start_requests``)."""
        for request in self.next_requests():
            yield request

    def setup_redis(self, crawler: Crawler | None = None) -> None:
        """scrapy-redis's set-up, then report health and check known URLs through Redis."""
        super().setup_redis(crawler)
        server: redis.Redis = self.server
        self.health = ReportingHealth(self.sources, server)
        self.is_known = lambda url: is_known(server, url)
        self.known_article = lambda url: known_article(server, url)

    def make_request_from_data(self, data: bytes) -> list[scrapy.Request]:
        """The entry requests of the source named in ``{"url": ..., "meta": {"source": ...}}``."""
        try:
            datum = json.loads(bytes_to_str(data, self.redis_encoding))
            meta = datum.get("meta") or {}
            name = str(meta["source"])
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignoring start data that names no source: %r", data[:200])
            return []
        source = next((s for s in self.sources if s.name == name), None)
        if source is None:
            self.health.failed(name, str(datum.get("url", "")), "not in the crawl worker's config")
            return []
        if meta.get("revisit"):
            try:
                return [self.revisit_request(Revisit.from_data(meta["revisit"]))]
            except (KeyError, TypeError, ValueError):
                log.warning("ignoring a revisit that names no article: %r", data[:200])
                return []
        self.begin_cycle(source, meta)
        return list(self.entry_requests(source))

    def begin_cycle(self, source: Source, meta: dict[str, Any]) -> None:
        """A new crawl of this source starts: forget the articles queued in the last one."""
        self.queued[source.name] = set()


class RedisFeedSpider(RedisEntries, FeedSpider):
    """FeedSpider fed from Redis; the start data carries the feed's stored validators."""

    def begin_cycle(self, source: Source, meta: dict[str, Any]) -> None:
        """Also take the ETag / Last-Modified the ingest side has stored for the feed."""
        super().begin_cycle(source, meta)
        self.states[source.name] = SourceState(
            etag=meta.get("etag"), last_modified=meta.get("last_modified")
        )


class RedisSiteSpider(RedisEntries, SiteSpider):
    """SiteSpider fed from Redis."""


class RedisTelegramSpider(RedisEntries, TelegramSpider):
    """TelegramSpider fed from Redis; the start data carries how far the channel is read."""

    def begin_cycle(self, source: Source, meta: dict[str, Any]) -> None:
        """Also take the channel's progress the ingest side has stored."""
        super().begin_cycle(source, meta)
        try:
            self.progress[source.name] = Progress.from_data(meta["progress"])
        except (KeyError, TypeError, ValueError):
            self.progress.pop(source.name, None)  # from the newest page, as a first run


class WorkerHeartbeat:
    """Marks the worker busy in Redis while it has work, so the ingest side knows the crawl
    has not drained; and, when idle, looks for start data every tick rather than only at
    Scrapy's 5-second idle signal. Also restarts scrapy-redis's idle clock on every busy
    tick, so ``--idle-exit`` counts from the last work done.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.key = ""
        self.busy = False
        self.loop = LoopingCall(self.tick)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerHeartbeat:
        """Hook the heartbeat to the spider's opening and closing, and to each download."""
        heartbeat = cls(crawler)
        crawler.signals.connect(heartbeat.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(heartbeat.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(
            heartbeat.request_reached_downloader, signal=signals.request_reached_downloader
        )
        return heartbeat

    def spider_opened(self, spider: Any) -> None:
        """Start ticking."""
        worker = f"{socket.gethostname()}:{os.getpid()}:{spider.name}"
        self.key = BUSY_KEY % {"worker": worker}
        spider.spider_idle_start_time = int(time.time())
        self.loop.start(TICK_SECONDS, now=False)

    def spider_closed(self, spider: Any) -> None:
        """Stop ticking; no longer busy."""
        if self.loop.running:
            self.loop.stop()
        with contextlib.suppress(redis.RedisError):  # else the key expires by itself
            spider.server.delete(self.key)

    def request_reached_downloader(self, request: scrapy.Request, spider: Any) -> None:
        """Busy from the moment a request leaves the shared queue, not from the next tick."""
        if not self.busy:
            self._guarded(self.mark_busy)

    def mark_busy(self) -> None:
        """Set (or refresh) this worker's busy key; restart the idle clock."""
        spider: Any = self.crawler.spider
        spider.server.set(self.key, "1", px=BUSY_TTL_MS)
        spider.spider_idle_start_time = int(time.time())
        self.busy = True

    def tick(self) -> None:
        """Refresh or clear the busy mark; when idle, take waiting start data."""
        self._guarded(self._tick)

    def _tick(self) -> None:
        spider: Any = self.crawler.spider
        if not self.crawler.engine.spider_is_idle():
            self.mark_busy()
        elif spider.count_size(spider.redis_key):
            self.mark_busy()  # before the start data leaves Redis for the request queue
            spider.schedule_next_requests()
        elif self.busy:
            spider.server.delete(self.key)
            self.busy = False

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except redis.RedisError as exc:
            log.warning("crawl worker cannot reach Redis: %s", exc)


def run_worker(config: Config, redis_url: str, *, idle_exit: int, log_level: str) -> None:
    """Crawl what the ingest side seeds until stopped, or idle for ``idle_exit`` s (0: never)."""
    # scrapy-redis's scheduler still passes ``spider`` to the stats collector.
    warnings.filterwarnings(
        "ignore", category=ScrapyDeprecationWarning, module="scrapy_redis.scheduler"
    )
    process = CrawlerProcess(worker_settings(config, redis_url, idle_exit, log_level))
    feeds = tuple(source for source in config.sources if source.feed)
    sites = tuple(source for source in config.sources if source.site)
    channels = tuple(source for source in config.sources if source.telegram)
    # Every spider runs even with no source of its kind: the config may differ from the
    # ingest side's, and a source it does not know is reported as failed.
    process.crawl(RedisFeedSpider, sources=feeds)
    process.crawl(RedisSiteSpider, sources=sites)
    process.crawl(
        RedisTelegramSpider,
        sources=channels,
        base=config.crawl.telegram_base,
        delay=config.crawl.telegram_delay,
    )
    process.start()
