"""Distributed mode on scrapy-redis: the Redis keys, the item codec and the ingest consumer.

Crawl workers (``crawler/distributed/worker.py``, ``newswatch crawl``) run the feed, site
and Telegram spiders with scrapy-redis's scheduler and dupefilter, so every worker shares one
request queue and one "seen" set; they push what they find to one Redis list.
One ingest process (``newswatch ingest``) owns the SQLite file. Each of its cycles:

1. takes the run lock and opens the ``runs`` row (``cycle.cycle_with``);
2. resets the previous crawl (start data, request queues, dupefilters), ingests
   pages left in the item list, and mirrors ``article_urls`` into the Redis set of
   known URLs that workers check before fetching a link;
3. seeds one start datum per source (scrapy-redis's JSON form
   ``{"url": ..., "meta": {"source": ..., "etag": ..., "last_modified": ...}}``; a
   Telegram channel's carries how far it is read, ``"progress"``), which a worker
   turns into the source's entry requests, and one per stored article due for a
   revisit (``{"url": ..., "meta": {"source": ..., "revisit": {...}}}``,
   ``crawler/run/revisit.py``), which a worker fetches conditionally;
4. pops items until the crawl has drained (no start data, no queued request, no
   item, no busy worker, for ``SETTLE_SECONDS``) or ``wait`` seconds have passed:
   pages and Telegram posts go through ``Ingest`` exactly as in-process (so does a
   channel's progress), source events through ``SourceHealth``;
5. hands back to the cycle, which writes source health, delivers and records the run.

Redis must be private to newswatch: scrapy-redis stores queued requests pickled,
so whoever can write to it can run code on the workers.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from itertools import islice
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import redis
from scrapy_redis import connection, defaults

from crawler import clock
from crawler.config import Config, ConfigError, Source
from crawler.extraction.telegram import Post, Progress
from crawler.extraction.urls import canonicalize
from crawler.models import Page
from crawler.run import revisit
from crawler.run.cycle import RunSummary, cycle_with
from crawler.run.health import SourceEvent, SourceHealth
from crawler.run.ingest import Ingest
from crawler.spiders.feeds import FeedSpider
from crawler.spiders.sites import SiteSpider
from crawler.spiders.telegram import TelegramSpider
from crawler.storage.store import source_state
from crawler.storage.telegram import load_progress

log = logging.getLogger(__name__)

# Keys, all under one prefix; give each installation its own Redis database (/N in the URL).
PREFIX = "newswatch"
START_URLS_KEY = PREFIX + ":%(name)s:start_urls"  # scrapy-redis REDIS_START_URLS_KEY
QUEUE_KEY = PREFIX + ":%(spider)s:requests"  # SCHEDULER_QUEUE_KEY
DUPEFILTER_KEY = PREFIX + ":%(spider)s:dupefilter"  # SCHEDULER_DUPEFILTER_KEY
ITEMS_KEY = PREFIX + ":items"  # REDIS_ITEMS_KEY: pages and source events, in one list
KNOWN_KEY = PREFIX + ":known_urls"  # every URL of a stored article (article_urls)
# URL -> JSON KnownArticle (id, when last fetched or confirmed, validators): a link whose
# sitemap lastmod / feed updated date is later is fetched again.
KNOWN_ARTICLES_KEY = PREFIX + ":known_articles"
BUSY_KEY = PREFIX + ":busy:%(worker)s"  # set by a worker while it has work in hand
SPIDERS = (FeedSpider.name, SiteSpider.name, TelegramSpider.name)

POLL_SECONDS = 0.5  # how long one wait for an item blocks
SETTLE_SECONDS = 2.0  # how long the crawl must look drained before the cycle ends
DEFAULT_WAIT = 900.0  # seconds an ingest cycle waits for the crawl at most (cron: 15 min)


class RedisUnavailable(Exception):
    """Redis cannot be reached; the message names the server, never its password."""


def redacted(url: str) -> str:
    """The Redis URL as it may be shown: any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:" if parts.username else ":"
    host = parts.hostname or ""
    netloc = f"{user}***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(url: str) -> redis.Redis:
    """A client for the Redis at ``url`` (the one scrapy-redis builds), checked with a PING."""
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            [f"--redis: expected a redis://, rediss:// or unix:// URL, got {redacted(url)!r}"]
        )
    server = cast(redis.Redis, connection.get_redis(url=url, **defaults.REDIS_PARAMS))
    try:
        server.ping()
    except redis.RedisError as exc:
        raise RedisUnavailable(f"cannot reach Redis at {redacted(url)}: {exc}") from None
    return server


def start_key(spider: str) -> str:
    """The list a spider's start data waits in."""
    return START_URLS_KEY % {"name": spider}


def spider_for(source: Source) -> str:
    """Which spider crawls a source."""
    if source.telegram:
        return TelegramSpider.name
    return FeedSpider.name if source.feed else SiteSpider.name


Item = Page | Post | Progress | SourceEvent
_KINDS: dict[type[Any], str] = {
    Page: "page",
    Post: "post",
    Progress: "telegram_progress",
    SourceEvent: "source_event",
}


def encode_item(item: Item) -> str:
    """An item as a worker pushes it (scrapy-redis REDIS_ITEMS_SERIALIZER); the raw body of
    a page (or of the preview a post was read from) travels as base64."""
    data = asdict(item)
    if isinstance(item, Page | Post):
        data["body"] = base64.b64encode(item.body).decode("ascii")
    return json.dumps({"type": _KINDS[type(item)], "data": data}, ensure_ascii=False)


def decode_item(data: bytes | str) -> Item:
    """The item ``encode_item`` wrote; ValueError if it is not one."""
    try:
        envelope = json.loads(data)
        kind, fields = envelope["type"], envelope["data"]
        if kind == "page":
            fields["body"] = base64.b64decode(fields.get("body") or "")
            fields["headers"] = tuple(tuple(pair) for pair in fields.get("headers") or ())
            return Page(**fields)
        if kind == "post":
            fields["body"] = base64.b64decode(fields.get("body") or "")
            fields["headers"] = tuple(tuple(pair) for pair in fields.get("headers") or ())
            return Post(**{**fields, "links": tuple(fields.get("links") or ())})
        if kind == "telegram_progress":
            return Progress.from_data(fields)
        if kind == "source_event":
            return SourceEvent(**fields)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise ValueError(f"not a newswatch item: {exc}") from None
    raise ValueError(f"not a newswatch item: type {kind!r}")


def is_known(server: redis.Redis, url: str) -> bool:
    """True if the URL, or its canonical form, leads to a stored article (workers ask this)."""
    return any(server.smismember(KNOWN_KEY, [url, canonicalize(url)]))


def known_article(server: redis.Redis, url: str) -> revisit.KnownArticle | None:
    """What the ingest side knows of the stored article a URL leads to (workers ask this)."""
    for name in dict.fromkeys([url, canonicalize(url)]):
        data = server.hget(KNOWN_ARTICLES_KEY, name)
        if data is not None:
            try:
                return revisit.KnownArticle.from_data(json.loads(cast(bytes, data)))
            except (ValueError, KeyError, TypeError):
                return None
    return None


def _batches(values: Iterable[str], size: int = 10_000) -> Iterator[list[str]]:
    iterator = iter(values)
    while batch := list(islice(iterator, size)):
        yield batch


class Consumer:
    """The ingest side of one cycle: seeds the crawl, then ingests what workers push."""

    def __init__(
        self, server: redis.Redis, config: Config, ingest: Ingest, health: SourceHealth
    ) -> None:
        self.server = server
        self.config = config
        self.ingest = ingest
        self.health = health
        self.pages = 0

    def run(self, wait: float) -> int:
        """Seed, consume until the crawl drains or ``wait`` seconds pass; return pages ingested."""
        self.reset()
        self.take_leftovers()
        self.sync_known_urls()
        self.seed()
        if not self.consume(wait):
            log.warning(
                "the crawl did not finish within %.0f s (are crawl workers running? "
                "see `newswatch crawl`); what is still queued is dropped",
                wait,
            )
            self.reset()
        return self.pages

    def reset(self) -> None:
        """Forget the previous crawl: its start data, queued requests and seen requests."""
        keys = [start_key(name) for name in SPIDERS]
        for name in SPIDERS:
            keys += [QUEUE_KEY % {"spider": name}, DUPEFILTER_KEY % {"spider": name}]
        self.server.delete(*keys)

    def take_leftovers(self) -> None:
        """Ingest pages an earlier cycle left; its source events are stale and dropped."""
        while (data := self.server.lpop(ITEMS_KEY)) is not None:
            self.handle(cast(bytes, data), events=False)

    def sync_known_urls(self) -> None:
        """Mirror ``article_urls`` into the known set, and what a worker needs to decide a
        re-fetch into the known-articles hash (each swapped in whole, never half-built)."""
        staging = KNOWN_KEY + ":staging"
        self.server.delete(staging)
        rows = (row[0] for row in self.ingest.db.execute("SELECT url FROM article_urls"))
        for batch in _batches(rows):
            self.server.sadd(staging, *batch)
        if self.server.exists(staging):
            self.server.rename(staging, KNOWN_KEY)
        else:
            self.server.delete(KNOWN_KEY)
        staging = KNOWN_ARTICLES_KEY + ":staging"
        self.server.delete(staging)
        known = revisit.known_articles(self.ingest.db)
        while chunk := list(islice(known, 10_000)):
            self.server.hset(
                staging, mapping={url: json.dumps(item.as_data()) for url, item in chunk}
            )
        if self.server.exists(staging):
            self.server.rename(staging, KNOWN_ARTICLES_KEY)
        else:
            self.server.delete(KNOWN_ARTICLES_KEY)

    def seed(self) -> None:
        """One start datum per source (feeds carry their stored ETag / Last-Modified,
        Telegram channels how far they are read), then one per article due for a revisit
        (with its own validators)."""
        pipe = self.server.pipeline(transaction=False)
        sources = {source.name: source for source in self.config.sources}
        for source in self.config.sources:
            meta: dict[str, Any] = {"source": source.name}
            if source.feed:
                state = source_state(self.ingest.db, source.name)
                meta |= {"etag": state.etag, "last_modified": state.last_modified}
            if source.telegram:
                progress = load_progress(self.ingest.db, source.name, source.telegram)
                meta["progress"] = asdict(progress)
            datum = json.dumps({"url": source.url, "meta": meta})
            pipe.rpush(start_key(spider_for(source)), datum)
        for due in revisit.due(self.ingest.db, self.config):
            datum = json.dumps(
                {"url": due.url, "meta": {"source": due.source, "revisit": due.as_data()}}
            )
            pipe.rpush(start_key(spider_for(sources[due.source])), datum)
        pipe.execute()

    def consume(self, wait: float) -> bool:
        """Handle items until the crawl drains (True) or ``wait`` seconds pass (False)."""
        deadline = clock.monotonic() + wait
        quiet_since: float | None = None
        while True:
            popped = self.server.blpop([ITEMS_KEY], timeout=POLL_SECONDS)
            now = clock.monotonic()
            if popped is not None:
                self.handle(popped[1])
                quiet_since = None
            elif self.crawl_pending():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= SETTLE_SECONDS:
                return True
            if now >= deadline:
                return False

    def crawl_pending(self) -> bool:
        """Start data, a queued request, an item, or a worker with work in hand."""
        pipe = self.server.pipeline(transaction=False)
        for name in SPIDERS:
            pipe.llen(start_key(name))
            pipe.zcard(QUEUE_KEY % {"spider": name})
        pipe.llen(ITEMS_KEY)
        if any(pipe.execute()):
            return True
        busy = BUSY_KEY % {"worker": "*"}
        return next(self.server.scan_iter(match=busy, count=1000), None) is not None

    def handle(self, data: bytes | str, *, events: bool = True) -> None:
        """Ingest one page, or count one source event; a bad item is logged and skipped."""
        try:
            item = decode_item(data)
        except ValueError as exc:
            log.warning("skipping an item in %s: %s", ITEMS_KEY, exc)
            return
        if isinstance(item, SourceEvent):
            if events:
                self.health.record(item)
            return
        if isinstance(item, Progress):
            self.ingest.record_progress(item)
            return
        self.pages += 1
        try:
            if isinstance(item, Post):
                result = self.ingest.process_post(item)
            else:
                result = self.ingest.process(item)
        except Exception:  # as in-process, one bad page never stops the cycle
            log.exception("could not ingest %s (source %s)", item.url, item.source)
            return
        revisit_of = item.revisit_of if isinstance(item, Page) else 0
        article_id = revisit_of or (result.saved.article_id if result.saved else None)
        if article_id:
            urls = [
                row[0]
                for row in self.ingest.db.execute(
                    "SELECT url FROM article_urls WHERE article_id = ?", [article_id]
                )
            ]
            known = revisit.known_article(self.ingest.db, urls[:1])
            if urls:
                self.server.sadd(KNOWN_KEY, *urls)
            if urls and known is not None:
                record = json.dumps(known.as_data())
                self.server.hset(KNOWN_ARTICLES_KEY, mapping=dict.fromkeys(urls, record))


def ingest_cycle(config: Config, server: redis.Redis, *, wait: float = DEFAULT_WAIT) -> RunSummary:
    """One cron cycle of the ingest side; ``lock.Locked`` if another run holds the lock."""
    return cycle_with(
        config, lambda ingest, health: Consumer(server, config, ingest, health).run(wait)
    )
