"""Crawl worker of distributed mode: the feed, site and Telegram spiders fed from Redis, each
page analysed here (extract, match) and sent to Redis with what was found.

Run as many as you like (``newswatch crawl``), on as many machines: scrapy-redis
gives them one shared request queue and dupefilter, so a request is fetched by
one worker only. Workers never open the database; see ``crawler/distributed/consumer.py``
for the ingest side, ``keys.py`` for the keys and ``streams.py`` for the queue.

What a worker promises:

- a request it takes from the queue (``StreamQueue``) is acknowledged only once
  everything it led to (analysed pages, further requests, source reports) is in
  Redis; one whose callback failed, or that it still holds when it stops, goes back
  to the queue. Its heartbeat key (``WorkerHeartbeat``) lives ``HEARTBEAT_TTL_MS``;
  when it expires the ingest side puts back what the worker held;
- nothing from an earlier cycle: each request carries the cycle it belongs to, and a
  worker that meets a newer one forgets its per-source bookkeeping and robots.txt;
- an idle worker looks for work every ``TICK_SECONDS``;
- Redis going away is one warning line, and its return another; meanwhile the worker
  keeps what it holds and sends it when Redis is back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any, cast

import redis
import scrapy
from scrapy import signals
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DontCloseSpider, DropItem, ScrapyDeprecationWarning
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler
from scrapy_redis.spiders import RedisSpider
from scrapy_redis.utils import bytes_to_str
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler import clock
from crawler.config import Config, Source
from crawler.distributed import streams
from crawler.distributed.consumer import is_known, known_article
from crawler.distributed.items import Item, analyse, analyse_post, encode_item
from crawler.distributed.keys import (
    BUSY_KEY,
    CYCLE_KEY,
    DUPEFILTER_KEY,
    GROUP,
    ITEMS_KEY,
    QUEUE_KEY,
    START_URLS_KEY,
    WORKER_KEY,
)
from crawler.extraction.telegram import Post, Progress
from crawler.logs import exception_line
from crawler.matching.matcher import Matcher
from crawler.models import Page
from crawler.run.analysis import Analyser
from crawler.run.cycle import scrapy_settings
from crawler.run.health import SourceEvent, SourceHealth
from crawler.run.revisit import Revisit
from crawler.spiders.feeds import FeedSpider
from crawler.spiders.sites import SiteSpider
from crawler.spiders.telegram import TelegramSpider
from crawler.storage.store import SourceState

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5  # heartbeat, and how often an idle worker looks for work
HEARTBEAT_TTL_MS = 10_000  # a worker silent this long is dead: its requests go back
ENTRY = "newswatch_entry"  # request meta: the stream entry the request was taken as
PARENT = "newswatch_parent"  # request meta: the entry whose response yielded the request
RETRY_FIRST, RETRY_MAX = 0.25, 5.0  # seconds between tries to push while Redis is away
CYCLE_STARTED = object()  # signal: a worker met a newer cycle (robots.txt is re-read)


class Outage:
    """Whether this worker can reach Redis: one warning when it cannot, one when it can again."""

    def __init__(self) -> None:
        self.since: float | None = None
        self._lock = threading.Lock()

    def down(self, exc: BaseException) -> None:
        """A Redis call failed."""
        with self._lock:
            if self.since is not None:
                return
            self.since = clock.monotonic()
        log.warning(
            "crawl worker cannot reach Redis (%s); holding its work until it is back",
            exception_line(exc),
        )

    def up(self) -> None:
        """A Redis call worked."""
        with self._lock:
            if self.since is None:
                return
            seconds, self.since = clock.monotonic() - self.since, None
        log.warning("crawl worker reaches Redis again after %.0f s", seconds)


OUTAGE = Outage()  # one per worker process: its three spiders share one Redis


def guarded(call: Callable[[], Any], default: Any = None) -> Any:
    """``call()``, or ``default`` while Redis is away (noted in ``OUTAGE``)."""
    try:
        result = call()
    except redis.RedisError as exc:
        if isinstance(exc, redis.ResponseError):
            raise
        OUTAGE.down(exc)
        return default
    OUTAGE.up()
    return result


def worker_name(spider: str) -> str:
    """This process's consumer name for one spider's stream (also its heartbeat key)."""
    return f"{socket.gethostname()}:{os.getpid()}:{spider}"


def worker_settings(config: Config, redis_url: str, idle_exit: int, log_level: str) -> Settings:
    """newswatch's Scrapy settings with scrapy-redis's scheduler, dupefilter and item list."""
    settings = scrapy_settings(config.crawl, log_level)
    settings.setdict(
        {
            "REDIS_URL": redis_url,
            "SCHEDULER": "crawler.distributed.worker.ReliableScheduler",
            "SCHEDULER_QUEUE_CLASS": "crawler.distributed.worker.StreamQueue",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            # The queue and dupefilter are shared: a worker leaving must not flush them.
            # The ingest process resets them when it starts a cycle.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": QUEUE_KEY,
            "SCHEDULER_DUPEFILTER_KEY": DUPEFILTER_KEY,
            "REDIS_START_URLS_KEY": START_URLS_KEY,
            "REDIS_ITEMS_KEY": ITEMS_KEY,
            "ITEM_PIPELINES": {"crawler.distributed.worker.AnalysedToRedis": 300},
            "SPIDER_MIDDLEWARES": {
                **settings.getdict("SPIDER_MIDDLEWARES"),
                "crawler.distributed.worker.CycleMiddleware": 50,
            },
            "DOWNLOADER_MIDDLEWARES": {
                **settings.getdict("DOWNLOADER_MIDDLEWARES"),
                "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
                "crawler.distributed.worker.CycleRobotsTxtMiddleware": 100,
            },
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


class StreamQueue(Base):  # type: ignore[misc]  # scrapy-redis has no type hints
    """scrapy-redis queue on a Redis stream read through a consumer group (``streams.py``).

    ``pop`` takes an entry for this worker and remembers it (``ENTRY`` in the request's
    meta); ``finish`` acknowledges it, or gives it back when its callback failed or the
    worker is stopping. A request pushed in place of a held one (a redirect, a retry)
    replaces it in one step.
    """

    def __init__(self, server: redis.Redis, spider: Any, key: str, serializer: Any = None):
        super().__init__(server, spider, key, serializer)
        self.consumer = worker_name(spider.name)
        self.held: dict[str, tuple[str, str]] = {}  # entry -> (source, cycle)
        self.spoiled: set[str] = set()  # entries whose results did not all reach Redis
        self.unsettled: dict[str, bool] = {}  # finished entries Redis was not told: ack?
        self.closing = False
        streams.ensure_group(server, self.key)

    def __len__(self) -> int:
        """Requests waiting for a worker (not those held by one)."""

        def waiting() -> int:
            pipe = self.server.pipeline(transaction=False)
            pipe.xlen(self.key)
            pipe.xpending(self.key, GROUP)
            try:
                length, pending = pipe.execute()
            except redis.ResponseError:  # no group: an ingest not yet run
                return 0
            return int(length) - int(pending["pending"])

        return int(guarded(waiting, 0))

    def push(self, request: scrapy.Request, seen: streams.Seen | None = None) -> bool:
        """Queue a request; one that replaces a held entry takes its place. With ``seen``
        it is queued only if not seen before, and marked seen in the same step (False:
        seen already, nothing queued)."""
        held = request.meta.pop(ENTRY, None)
        parent = request.meta.pop(PARENT, None)
        source = str(request.meta.get("source", ""))
        cycle = str(request.meta.get("cycle") or getattr(self.spider, "cycle", 0))
        fields = {"r": self._encode_request(request), "s": source, "u": request.url, "c": cycle}
        try:
            if held and held in self.held:
                replaced = streams.replace(self.server, self.key, held, fields, seen)
                if replaced == -1:
                    return False
                self.held.pop(held)
            elif not streams.add(self.server, self.key, fields, cycle, seen):
                return False
        except redis.RedisError as exc:
            if isinstance(exc, redis.ResponseError):
                raise
            OUTAGE.down(exc)
            # Lost: so whatever led to it is not done, and goes back to the queue.
            self.spoiled.update(entry for entry in (held, parent) if entry)
            if held:
                self.held.setdefault(held, (source, cycle))
            return True  # not "seen": the entries it came from go back, and it with them
        OUTAGE.up()
        return True

    def pop(self, timeout: int = 0) -> scrapy.Request | None:
        """Take the next waiting request for this worker, or None."""
        if self.closing:
            return None

        def read() -> Any:
            return self.server.xreadgroup(
                GROUP, self.consumer, {self.key: ">"}, count=1
            )

        try:
            found = guarded(read)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            streams.ensure_group(self.server, self.key)  # the ingest reset the stream
            return None
        if not found:
            return None
        entry_id, raw = found[0][1][0]
        entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        fields = streams.fields_of(raw)
        request = self._decode_request(raw[b"r"] if b"r" in raw else raw["r"])
        request.meta[ENTRY] = entry
        self.held[entry] = (fields.get("s", ""), fields.get("c", "0"))
        return cast(scrapy.Request, request)

    def spoil(self, entry: str) -> None:
        """The held entry's results did not all reach Redis: give it back, not acknowledge."""
        if entry in self.held:
            self.spoiled.add(entry)

    def finish(self, entry: str) -> None:
        """The held entry is done: acknowledge it (or give it back, if spoiled or stopping)."""
        if entry not in self.held:
            return
        self.unsettled[entry] = entry not in self.spoiled and not self.closing
        self.spoiled.discard(entry)
        self.settle()

    def settle(self) -> None:
        """Tell Redis about finished entries (again, after an outage)."""
        for entry, done in list(self.unsettled.items()):
            source, cycle = self.held[entry]
            try:
                if done:
                    streams.ack(self.server, self.key, entry, source, cycle)
                else:
                    streams.give_back(self.server, self.key, [entry])
            except redis.RedisError as exc:
                if isinstance(exc, redis.ResponseError):
                    raise
                OUTAGE.down(exc)
                return
            OUTAGE.up()
            del self.unsettled[entry], self.held[entry]

    def give_back_all(self) -> None:
        """Stopping: every entry still held goes back to the queue for another worker."""
        self.closing = True
        for entry in self.held:
            self.unsettled.setdefault(entry, False)
        self.settle()
        if self.held:
            log.warning(
                "crawl worker stops holding %d requests Redis could not take back; they "
                "are queued again once its heartbeat expires",
                len(self.held),
            )


class ReliableScheduler(Scheduler):  # type: ignore[misc]  # scrapy-redis has no type hints
    """scrapy-redis's scheduler, quiet and lossless while Redis is away: a request it cannot
    queue spoils the entry that led to it, and nothing is taken meanwhile."""

    queue: StreamQueue

    def open(self, spider: Any) -> Any:
        """Open as scrapy-redis does; the spider's heartbeat reaches the queue through it."""
        result = super().open(spider)
        spider.request_queue = self.queue
        return result

    def enqueue_request(self, request: scrapy.Request) -> bool:
        """Queue the request unless seen (seen and queued in one step: a worker killed
        between scrapy-redis's two would lose the request); while Redis is away, note it
        lost."""
        try:
            seen = None
            if not request.dont_filter:
                seen = streams.Seen(self.df.key, self.df.request_fingerprint(request))
            if not self.queue.push(request, seen):
                if seen is not None:
                    self.df.log(request, self.spider)
                return False
            if self.stats:
                self.stats.inc_value("scheduler/enqueued/redis")
            return True
        except redis.RedisError as exc:
            if isinstance(exc, redis.ResponseError):
                raise
            OUTAGE.down(exc)
            for entry in (request.meta.get(ENTRY), request.meta.get(PARENT)):
                if entry:
                    self.queue.spoil(entry)
            return False

    def has_pending_requests(self) -> bool:
        """Requests wait in the stream (none while Redis is away)."""
        return len(self.queue) > 0


class CycleMiddleware:
    """Spider middleware: a response of a newer cycle makes its spider start that cycle;
    the requests a response yields carry its cycle, and the entry they came from."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CycleMiddleware:
        """The middleware, for the crawler's spider."""
        return cls(crawler)

    def process_spider_input(self, response: Response) -> None:
        """Start a newer cycle before the response is parsed."""
        cycle = response.meta.get("cycle")
        spider: Any = self.crawler.spider
        if isinstance(cycle, int) and hasattr(spider, "start_cycle"):
            spider.start_cycle(cycle)

    async def process_spider_output_async(self, response: Response, result: Any) -> Any:
        """Tag each request with its cycle and the entry it came from."""
        async for output in result:
            yield self._tag(response, output)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Any:
        """As ``process_spider_output_async``, for a callback that is no coroutine."""
        for output in result:
            yield self._tag(response, output)

    @staticmethod
    def _tag(response: Response, output: Any) -> Any:
        if isinstance(output, scrapy.Request):
            if "cycle" in response.meta:
                output.meta.setdefault("cycle", response.meta["cycle"])
            if ENTRY in response.meta:
                output.meta[PARENT] = response.meta[ENTRY]
        return output


class CycleRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, reading each host's robots.txt again in every cycle:
    when its worker starts a new cycle, or first meets a request of one (which may come
    before the worker has heard of the cycle)."""

    cycle = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CycleRobotsTxtMiddleware:
        """The middleware, told when its worker starts a new cycle."""
        middleware = cls(crawler)
        crawler.signals.connect(middleware.forget, signal=CYCLE_STARTED)
        return middleware

    async def robot_parser(self, request: scrapy.Request) -> Any:
        """The host's parsed robots.txt, read again if the request is of a newer cycle."""
        cycle = request.meta.get("cycle")
        if isinstance(cycle, int):
            self.forget(cycle)
        return await super().robot_parser(request)

    def forget(self, cycle: int) -> None:
        """At a newer cycle, drop the parsed robots.txt files: the next request to each host
        fetches its again. One being fetched now (a Deferred) is this cycle's, and stays:
        Scrapy's middleware expects to find it when the answer comes."""
        if cycle <= self.cycle:
            return
        self.cycle = cycle
        for netloc, parser in list(self._parsers.items()):
            if not isinstance(parser, Deferred):
                del self._parsers[netloc]


class AnalysedToRedis:
    """Item pipeline: analyse each page here (``items.analyse``) and push it, or any other
    item, to the item list. While Redis is away it tries again with backoff, off the
    reactor thread, until it is back or the worker stops (the request then goes back)."""

    def __init__(self, crawler: Crawler, server: redis.Redis) -> None:
        self.crawler = crawler
        self.server = server
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AnalysedToRedis:
        """The pipeline, on the spider's Redis connection."""
        from scrapy_redis import connection

        pipeline = cls(crawler, connection.from_settings(crawler.settings))
        crawler.signals.connect(pipeline.stop, signal=signals.spider_closed)
        return pipeline

    def stop(self) -> None:
        """The worker stops: no more waiting for Redis."""
        self.stopping = True

    async def process_item(self, item: Any) -> Any:
        """Analyse the item here (as a plain run's pipeline does: CPU work in threads
        would only fight the reactor for the GIL), push it from a thread; DropItem if the
        worker stopped before Redis took it."""
        spider: Any = self.crawler.spider
        wire: Item = item
        if isinstance(item, Page):
            wire = analyse(spider.analyser, item, spider.is_known)
        elif isinstance(item, Post):
            wire = analyse_post(spider.analyser, item, spider.is_known)
        push = deferToThread(self._push, encode_item(wire))
        if not await maybe_deferred_to_future(push):
            raise DropItem("the crawl worker stopped before Redis was back")
        return item

    def _push(self, data: str) -> bool:
        delay = RETRY_FIRST
        while not self.stopping:
            try:
                self.server.rpush(ITEMS_KEY, data)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                OUTAGE.down(exc)
                clock.sleep(delay)  # in a thread of its own, not the reactor
                delay = min(delay * 2, RETRY_MAX)
                continue
            OUTAGE.up()
            return True
        return False


class ReportingHealth(SourceHealth):
    """A worker's source health: each outcome goes to the ingest process as a ``SourceEvent``
    (kept in order while Redis is away)."""

    def __init__(self, sources: tuple[Source, ...], server: redis.Redis) -> None:
        super().__init__(sources)
        self.server = server
        self.backlog: list[str] = []

    def record(self, event: SourceEvent) -> None:
        """Push the outcome to the item list (the ingest side counts and logs it)."""
        log.info("source %s: %s %s", event.source, event.outcome, event.error)
        self.backlog.append(encode_item(event))
        self.flush()

    def flush(self) -> None:
        """Push what is waiting, if Redis answers."""
        if self.backlog and guarded(lambda: self.server.rpush(ITEMS_KEY, *self.backlog)):
            self.backlog.clear()


class RedisEntries(RedisSpider):  # type: ignore[misc]  # scrapy-redis has no type hints
    """Mixin for a newswatch spider: sources arrive as start data in Redis, one at a time.

    scrapy-redis pops the start data (``make_request_from_data``); the spider's own
    ``entry_requests`` builds the requests, exactly as in-process. A datum names its
    cycle; a newer cycle than the spider's starts over its per-source bookkeeping
    (``start_cycle``). A datum with a ``revisit`` in its meta is one stored article to
    fetch again.
    """

    sources: tuple[Source, ...]
    queued: dict[str, set[str]]
    health: SourceHealth
    analyser: Analyser
    cycle = 0

    async def start(self) -> Any:
        """Whatever start data is waiting (Scrapy 2.13+ never calls ``start_requests``)."""
        for request in guarded(lambda: list(self.next_requests()), []):
            yield request

    def setup_redis(self, crawler: Crawler | None = None) -> None:
        """scrapy-redis's set-up, then report health and check known URLs through Redis."""
        super().setup_redis(crawler)
        server: redis.Redis = self.server
        self.health = ReportingHealth(self.sources, server)
        # While Redis is away a link counts as unknown: its request cannot be queued
        # either, which sends the page it came from back to the queue.
        self.is_known = lambda url: guarded(lambda: is_known(server, url), False)
        self.known_article = lambda url: guarded(lambda: known_article(server, url))

    def spider_idle(self) -> None:
        """scrapy-redis's: take waiting start data, keep the spider open; quiet while Redis
        is away."""
        try:
            super().spider_idle()
        except redis.RedisError as exc:
            if isinstance(exc, redis.ResponseError):
                raise
            OUTAGE.down(exc)
            raise DontCloseSpider from None

    def make_request_from_data(self, data: bytes) -> list[scrapy.Request]:
        """The entry requests of the source named in ``{"url": ..., "meta": {"source": ...}}``."""
        try:
            datum = json.loads(bytes_to_str(data, self.redis_encoding))
            meta = datum.get("meta") or {}
            name = str(meta["source"])
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignoring start data that names no source: %r", data[:200])
            return []
        cycle = meta.get("cycle")
        if isinstance(cycle, int):
            self.start_cycle(cycle)
        source = next((s for s in self.sources if s.name == name), None)
        if source is None:
            self.health.failed(name, str(datum.get("url", "")), "not in the crawl worker's config")
            return []
        if meta.get("revisit"):
            try:
                requests = [self.revisit_request(Revisit.from_data(meta["revisit"]))]
            except (KeyError, TypeError, ValueError):
                log.warning("ignoring a revisit that names no article: %r", data[:200])
                return []
        else:
            self.begin_source(source, meta)
            requests = list(self.entry_requests(source))
        for request in requests:
            if isinstance(cycle, int):
                request.meta["cycle"] = cycle
        return requests

    def start_cycle(self, cycle: int) -> None:
        """A newer cycle began: forget every source's queued articles and the hosts'
        robots.txt (a worker may parse a source whose start datum another one took)."""
        if cycle <= self.cycle:
            return
        self.cycle = cycle
        for name in self.queued:
            self.queued[name] = set()
        self.new_cycle()
        self.crawler.signals.send_catch_log(CYCLE_STARTED, cycle=cycle)

    def new_cycle(self) -> None:
        """What else a spider forgets at a new cycle (sites: the sitemaps listed)."""

    def begin_source(self, source: Source, meta: dict[str, Any]) -> None:
        """A new crawl of this source starts here (its start datum)."""


class RedisFeedSpider(RedisEntries, FeedSpider):
    """FeedSpider fed from Redis; the start data carries the feed's stored validators."""

    def begin_source(self, source: Source, meta: dict[str, Any]) -> None:
        """Take the ETag / Last-Modified the ingest side has stored for the feed."""
        self.states[source.name] = SourceState(
            etag=meta.get("etag"), last_modified=meta.get("last_modified")
        )


class RedisSiteSpider(RedisEntries, SiteSpider):
    """SiteSpider fed from Redis."""

    def new_cycle(self) -> None:
        """Forget the sitemaps earlier cycles listed and did not fetch."""
        for listed in self.listed_sitemaps.values():
            listed.clear()
        self.listed_in_flight.clear()


class RedisTelegramSpider(RedisEntries, TelegramSpider):
    """TelegramSpider fed from Redis; the start data carries how far the channel is read."""

    def begin_source(self, source: Source, meta: dict[str, Any]) -> None:
        """Take the channel's progress the ingest side has stored."""
        try:
            self.progress[source.name] = Progress.from_data(meta["progress"])
        except (KeyError, TypeError, ValueError):
            self.progress.pop(source.name, None)  # from the newest page, as a first run


class WorkerHeartbeat:
    """The worker's side of the shared queue, on a ``TICK_SECONDS`` loop.

    Keeps the worker's heartbeat key (``WORKER_KEY``, JSON for ``newswatch status``)
    alive, and its busy key while it has work, so the ingest side knows the crawl has
    not drained; follows the ingest's cycle; acknowledges each taken request when the
    scraper is done with it (its items pushed, its requests queued), gives back one
    whose callback failed, and on closing gives back whatever is still held.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.name = ""
        self.busy = False
        self.started = clock.iso_now()
        self.loop = LoopingCall(self.tick)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerHeartbeat:
        """Hook the heartbeat to the spider's opening and closing, and to each download."""
        heartbeat = cls(crawler)
        crawler.signals.connect(heartbeat.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(heartbeat.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(heartbeat.spider_error, signal=signals.spider_error)
        crawler.signals.connect(
            heartbeat.request_reached_downloader, signal=signals.request_reached_downloader
        )
        return heartbeat

    @property
    def queue(self) -> StreamQueue:
        """The spider's request queue."""
        return cast(StreamQueue, cast(Any, self.crawler.spider).request_queue)

    def spider_opened(self, spider: Any) -> None:
        """Start ticking; be told when the scraper is done with each response."""
        self.name = worker_name(spider.name)
        spider.spider_idle_start_time = int(time.time())
        slot = self.crawler.engine.scraper.slot
        assert slot is not None
        finish = slot.finish_response

        def finish_response(result: Response | Failure, request: scrapy.Request) -> None:
            finish(result, request)
            entry = request.meta.get(ENTRY)
            if entry:
                self.queue.finish(entry)

        # The scraper calls this once a response's items went through the pipelines and
        # its requests were queued: the one moment the request's work is in Redis.
        slot.finish_response = finish_response  # type: ignore[method-assign]
        guarded(self.beat)
        self.loop.start(TICK_SECONDS, now=False)

    def spider_closed(self, spider: Any) -> None:
        """Stop ticking; give back what is held; no longer busy, nor alive."""
        if self.loop.running:
            self.loop.stop()
        self.queue.give_back_all()
        with contextlib.suppress(redis.RedisError):  # else the keys expire by themselves
            spider.server.delete(
                BUSY_KEY % {"worker": self.name}, WORKER_KEY % {"worker": self.name}
            )

    def spider_error(self, failure: Failure, response: Response, spider: Any) -> None:
        """A callback failed: what its response led to may be half done; queue it again."""
        entry = response.meta.get(ENTRY) if response is not None else None
        if entry:
            self.queue.spoil(entry)

    def request_reached_downloader(self, request: scrapy.Request, spider: Any) -> None:
        """Busy from the moment a request leaves the shared queue, not from the next tick."""
        if not self.busy:
            guarded(self.mark_busy)

    def mark_busy(self) -> None:
        """Set (or refresh) this worker's busy key; restart the idle clock."""
        spider: Any = self.crawler.spider
        spider.server.set(BUSY_KEY % {"worker": self.name}, "1", px=HEARTBEAT_TTL_MS)
        spider.spider_idle_start_time = int(time.time())
        self.busy = True

    def beat(self) -> None:
        """Refresh the heartbeat key; follow the ingest's cycle."""
        spider: Any = self.crawler.spider
        record = {
            "worker": self.name,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "spider": spider.name,
            "busy": self.busy,
            "held": len(self.queue.held),
            "cycle": spider.cycle,
            "since": self.started,
        }
        pipe = spider.server.pipeline(transaction=False)
        pipe.set(WORKER_KEY % {"worker": self.name}, json.dumps(record), px=HEARTBEAT_TTL_MS)
        pipe.get(CYCLE_KEY)
        _, cycle = pipe.execute()
        if cycle is not None:
            spider.start_cycle(int(cycle))

    def tick(self) -> None:
        """Heartbeat; settle what Redis missed; refresh or clear the busy mark; when idle,
        take waiting start data."""
        guarded(self._tick)  # while Redis is away, nothing to do but wait

    def _tick(self) -> None:
        spider: Any = self.crawler.spider
        self.beat()
        self.queue.settle()
        if isinstance(spider.health, ReportingHealth):
            spider.health.flush()
        if not self.crawler.engine.spider_is_idle() or self.queue.held:
            self.mark_busy()
        elif spider.count_size(spider.redis_key):
            self.mark_busy()  # before the start data leaves Redis for the request queue
            spider.schedule_next_requests()
        elif self.busy:
            spider.server.delete(BUSY_KEY % {"worker": self.name})
            self.busy = False


def run_worker(config: Config, redis_url: str, *, idle_exit: int, log_level: str) -> None:
    """Crawl what the ingest side seeds until stopped, or idle for ``idle_exit`` s (0: never)."""
    # scrapy-redis's scheduler still passes ``spider`` to the stats collector.
    warnings.filterwarnings(
        "ignore", category=ScrapyDeprecationWarning, module="scrapy_redis.scheduler"
    )
    # The engine looks for a request in the scheduler at least this often when idle
    # (Scrapy's own 5 s would leave an idle worker waiting beside queued work).
    ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = TICK_SECONDS
    analyser = Analyser(Matcher.compile(config.watches), config.watches)  # once per worker
    process = CrawlerProcess(worker_settings(config, redis_url, idle_exit, log_level))
    feeds = tuple(source for source in config.sources if source.feed)
    sites = tuple(source for source in config.sources if source.site)
    channels = tuple(source for source in config.sources if source.telegram)
    # Every spider runs even with no source of its kind: the config may differ from the
    # ingest side's, and a source it does not know is reported as failed.
    process.crawl(RedisFeedSpider, sources=feeds, analyser=analyser)
    process.crawl(RedisSiteSpider, sources=sites, analyser=analyser)
    process.crawl(
        RedisTelegramSpider,
        sources=channels,
        analyser=analyser,
        base=config.crawl.telegram_base,
        delay=config.crawl.telegram_delay,
    )
    process.start()
