"""Distributed mode on scrapy-redis: the ingest consumer, and what workers ask of Redis.

Crawl workers (``crawler/distributed/worker.py``, ``newswatch crawl``) run the feed, site
and Telegram spiders with scrapy-redis's scheduler and dupefilter, so every worker shares one
request queue (a Redis stream per spider, ``crawler/distributed/streams.py``) and one "seen"
set; they fetch, extract and match, and push what they found to one Redis list
(``crawler/distributed/items.py``). One ingest process (``newswatch ingest``) owns the
SQLite file. Each of its cycles:

1. takes the run lock and opens the ``runs`` row (``cycle.cycle_with``);
2. starts cycle N (``newswatch:cycle``), resets the previous crawl (start data, request
   streams, dupefilters), ingests items left in the item list, and mirrors
   ``article_urls`` into the Redis set of known URLs that workers check before fetching;
3. seeds one start datum per source (scrapy-redis's JSON form
   ``{"url": ..., "meta": {"source": ..., "cycle": N, "etag": ..., "last_modified": ...}}``;
   a Telegram channel's carries how far it is read, ``"progress"``), which a worker turns
   into the source's entry requests, and one per stored article due for a revisit
   (``{"url": ..., "meta": {"source": ..., "cycle": N, "revisit": {...}}}``), which a
   worker fetches conditionally;
4. takes items in batches until the crawl has drained (no start data, no request queued
   or held, no item, no busy worker, for ``SETTLE_SECONDS``) or ``wait`` seconds have
   passed: analysed pages are stored through ``Ingest.process(page, analysis)``, Telegram
   posts and a channel's progress as in-process, source events through ``SourceHealth``;
   requests held by a worker whose heartbeat expired are queued again;
5. hands back to the cycle, which writes source health (a source with requests still
   outstanding keeps its stored validators), delivers and records the run.

If Redis stops answering, the ingest tries again with backoff for ``outage_limit``
seconds, then ends the cycle with what it stored (``Fetched.interrupted``: exit 69).

Redis must be private to newswatch: scrapy-redis stores queued requests pickled,
so whoever can write to it can run code on the workers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from itertools import islice
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import redis
from scrapy_redis import connection, defaults

from crawler import clock
from crawler.config import Config, ConfigError, Source
from crawler.db import write_transaction
from crawler.distributed import streams
from crawler.distributed.items import AnalysedPage, AnalysedPost, decode_item, encode_item
from crawler.distributed.keys import (
    BUSY_KEY,
    CYCLE_KEY,
    DUPEFILTER_KEY,
    GROUP,
    ITEMS_KEY,
    KNOWN_ARTICLES_KEY,
    KNOWN_KEY,
    SPIDERS,
    TAKEN_ITEMS_KEY,
    outstanding_key,
    queue_key,
    start_key,
)
from crawler.extraction.telegram import Post, Progress
from crawler.extraction.urls import canonicalize
from crawler.logs import exception_line
from crawler.run import revisit
from crawler.run.cycle import Fetched, RunSummary, cycle_with
from crawler.run.health import SourceEvent, SourceHealth
from crawler.run.ingest import Ingest
from crawler.spiders.feeds import FeedSpider
from crawler.spiders.sites import SiteSpider
from crawler.spiders.telegram import TelegramSpider
from crawler.storage.store import source_state
from crawler.storage.telegram import load_progress

__all__ = [
    "ITEMS_KEY",
    "KNOWN_KEY",
    "Consumer",
    "RedisUnavailable",
    "connect",
    "decode_item",
    "encode_item",
    "ingest_cycle",
    "start_key",
]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5  # how long one wait for an item blocks
SETTLE_SECONDS = 2.0  # how long the crawl must look drained before the cycle ends
RECLAIM_SECONDS = 1.0  # how often dead workers' requests are looked for
BATCH = 200  # items taken from Redis at once
DEFAULT_WAIT = 900.0  # seconds an ingest cycle waits for the crawl at most (cron: 15 min)
DEFAULT_OUTAGE_LIMIT = 120.0  # seconds the ingest waits for Redis to come back
BACKOFF_FIRST, BACKOFF_MAX = 0.25, 5.0  # seconds between tries while Redis is away

# Forget the taken list (its items are stored), then move up to ARGV[1] items from the
# item list to the taken list and return them: a killed ingest's next cycle ingests the
# taken list first.
_TAKE = """
redis.call('DEL', KEYS[2])
local batch = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #batch > 0 then
  redis.call('LTRIM', KEYS[1], #batch, -1)
  redis.call('RPUSH', KEYS[2], unpack(batch))
end
return batch
"""

T = TypeVar("T")


class RedisUnavailable(Exception):
    """Redis cannot be reached; the message names the server, never its password."""


class RedisLost(Exception):
    """Redis stayed unreachable for longer than the ingest waits."""


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


def spider_for(source: Source) -> str:
    """Which spider crawls a source."""
    if source.telegram:
        return TelegramSpider.name
    return FeedSpider.name if source.feed else SiteSpider.name


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


def busy_workers(server: redis.Redis) -> bool:
    """True if some worker says it has work in hand."""
    busy = BUSY_KEY % {"worker": "*"}
    return next(server.scan_iter(match=busy, count=1000), None) is not None


class Consumer:
    """The ingest side of one cycle: seeds the crawl, then ingests what workers push."""

    def __init__(
        self,
        server: redis.Redis,
        config: Config,
        ingest: Ingest,
        health: SourceHealth,
        *,
        outage_limit: float = DEFAULT_OUTAGE_LIMIT,
    ) -> None:
        self.server = server
        self.config = config
        self.ingest = ingest
        self.health = health
        self.outage_limit = outage_limit
        self.pages = 0
        self.cycle = 0
        self._take = server.register_script(_TAKE)
        self._down_since: float | None = None
        self._known: dict[str, str] = {}  # URL -> known-article record, sent with the next ``take``

    def run(self, wait: float) -> Fetched:
        """Seed, consume until the crawl drains or ``wait`` seconds pass; return pages
        ingested (and why the crawl stopped short, if it did)."""
        try:
            self.cycle = int(self._redis(lambda: self.server.incr(CYCLE_KEY)))
            self._redis(self.reset)
            self._redis(self.take_leftovers)
            self._redis(self.sync_known_urls)
            self._redis(self.seed)
            drained = self.consume(wait)
        except RedisLost as exc:
            for source in self.config.sources:  # nothing known of what they left undone
                self.health.unfinished(source.name)
            return Fetched(self.pages, interrupted=str(exc))
        if not drained:
            log.warning(
                "the crawl did not finish within %.0f s (are crawl workers running? "
                "see `newswatch crawl`); what is still queued is dropped",
                wait,
            )
            try:
                self._redis(self.note_unfinished)
                self._redis(self.reset)
            except RedisLost as exc:
                return Fetched(self.pages, interrupted=str(exc))
        return Fetched(self.pages)

    def _redis(self, step: Callable[[], T]) -> T:
        """Run a step that talks to Redis; while Redis is away, try again with backoff for
        ``outage_limit`` seconds (one log line when it goes, one when it is back)."""
        delay = BACKOFF_FIRST
        while True:
            try:
                result = step()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                now = clock.monotonic()
                if self._down_since is None:
                    self._down_since = now
                    log.warning(
                        "ingest cannot reach Redis (%s); trying again for %.0f s",
                        exception_line(exc),
                        self.outage_limit,
                    )
                if now - self._down_since >= self.outage_limit:
                    raise RedisLost(
                        f"Redis unreachable for {self.outage_limit:.0f} s"
                    ) from None
                clock.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            if self._down_since is not None:
                log.warning(
                    "ingest reaches Redis again after %.0f s",
                    clock.monotonic() - self._down_since,
                )
                self._down_since = None
            return result

    def reset(self) -> None:
        """Forget the previous crawl: its start data, queued and held requests, seen
        requests, and the counts of older cycles; make this cycle's empty streams."""
        keys = [start_key(name) for name in SPIDERS]
        for name in SPIDERS:
            keys += [queue_key(name), DUPEFILTER_KEY % {"spider": name}]
        keys += [
            key
            for key in self.server.scan_iter(match=outstanding_key("*"), count=1000)
            if key.decode() != outstanding_key(self.cycle)
        ]
        pipe = self.server.pipeline(transaction=True)  # workers never see a stream without
        pipe.delete(*keys)  # its group
        for name in SPIDERS:
            pipe.xgroup_create(queue_key(name), GROUP, id="0", mkstream=True)
        pipe.execute()

    def take_leftovers(self) -> None:
        """Ingest items an earlier cycle took and did not store (it was killed), then those
        it left in the list; its source events are stale and dropped."""
        taken = cast(list[bytes], self.server.lrange(TAKEN_ITEMS_KEY, 0, -1))
        if taken:
            self.handle(taken, events=False)
        while batch := self.take():
            self.handle(batch, events=False)

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
        (with its own validators); each names the cycle."""
        pipe = self.server.pipeline(transaction=False)
        sources = {source.name: source for source in self.config.sources}
        for source in self.config.sources:
            meta: dict[str, Any] = {"source": source.name, "cycle": self.cycle}
            if source.feed:
                state = source_state(self.ingest.db, source.name)
                meta |= {"etag": state.etag, "last_modified": state.last_modified}
            if source.telegram:
                progress = load_progress(self.ingest.db, source.name, source.telegram)
                meta["progress"] = asdict(progress)
            datum = json.dumps({"url": source.url, "meta": meta})
            pipe.rpush(start_key(spider_for(source)), datum)
        for due in revisit.due(self.ingest.db, self.config):
            meta = {"source": due.source, "cycle": self.cycle, "revisit": due.as_data()}
            pipe.rpush(start_key(spider_for(sources[due.source])), json.dumps(
                {"url": due.url, "meta": meta}
            ))
        pipe.execute()

    def consume(self, wait: float) -> bool:
        """Handle items until the crawl drains (True) or ``wait`` seconds pass (False)."""
        deadline = clock.monotonic() + wait
        quiet_since: float | None = None
        next_reclaim = clock.monotonic()
        while True:
            batch = self._redis(self.take_or_wait)
            now = clock.monotonic()
            if batch:
                self.handle(batch)
                quiet_since = None
            elif self._redis(self.crawl_pending):
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= SETTLE_SECONDS:
                return True
            if now >= next_reclaim:
                self._redis(self.reclaim)
                next_reclaim = now + RECLAIM_SECONDS
            if now >= deadline:
                return False

    def take(self) -> list[bytes]:
        """Finish the batch in hand (tell Redis its articles' URLs, forget it), and take up
        to ``BATCH`` more items: one round trip."""
        known, self._known = self._known, {}
        pipe = self.server.pipeline(transaction=False)
        if known:
            pipe.sadd(KNOWN_KEY, *known)
            records = {url: record for url, record in known.items() if record}
            if records:
                pipe.hset(KNOWN_ARTICLES_KEY, mapping=cast(dict[Any, Any], records))
        self._take(keys=[ITEMS_KEY, TAKEN_ITEMS_KEY], args=[BATCH], client=pipe)
        try:
            return cast(list[bytes], pipe.execute()[-1])
        except redis.RedisError:
            self._known = known | self._known  # told again on the next try
            raise

    def take_or_wait(self) -> list[bytes]:
        """A batch of items, or the first to arrive within ``POLL_SECONDS``."""
        batch = self.take()
        if batch:
            return batch
        first = self.server.blmove(
            ITEMS_KEY, TAKEN_ITEMS_KEY, cast(int, POLL_SECONDS), "LEFT", "RIGHT"
        )
        return [cast(bytes, first)] if first is not None else []

    def crawl_pending(self) -> bool:
        """Start data, a queued or held request, an item, or a worker with work in hand."""
        pipe = self.server.pipeline(transaction=False)
        for name in SPIDERS:
            pipe.llen(start_key(name))
            pipe.xlen(queue_key(name))
        pipe.llen(ITEMS_KEY)
        return any(pipe.execute()) or busy_workers(self.server)

    def reclaim(self) -> None:
        """Queue again what dead workers held; count what was dropped as failed articles."""
        _, dropped = streams.reclaim(self.server)
        for entry in dropped:
            self.health.article_failed(
                entry.source, entry.url, f"crawl workers died on it {streams.MAX_RETURNS} times"
            )

    def note_unfinished(self) -> None:
        """Sources with requests still outstanding keep their stored validators."""
        counts = cast(dict[bytes, bytes], self.server.hgetall(outstanding_key(self.cycle)))
        for name, count in counts.items():
            if int(count) > 0:
                self.health.unfinished(name.decode())

    def handle(self, batch: list[bytes], *, events: bool = True) -> None:
        """Ingest a batch: pages and posts, progress, and (``events``) source events; a bad
        item is logged and skipped. Known URLs are told to Redis with the next ``take``.

        The batch is one write transaction (each article a savepoint in it): one commit,
        one fsync, per batch rather than per article; the taken list keeps the batch in
        Redis until it is committed."""
        with write_transaction(self.ingest.db):
            for data in batch:
                self.handle_one(data, events=events)

    def handle_one(self, data: bytes, *, events: bool) -> None:
        """Ingest one item of a batch."""
        try:
            item = decode_item(data)
        except ValueError as exc:
            log.warning("skipping an item in %s: %s", ITEMS_KEY, exc)
            return
        if isinstance(item, SourceEvent):
            if events:
                self.health.record(item)
        elif isinstance(item, Progress):
            self.ingest.record_progress(item)
        else:
            self.ingest_one(item)

    def ingest_one(self, item: AnalysedPage | AnalysedPost | Post | Any) -> None:
        """Store one page or post; remember the URLs of its article for the known set."""
        self.pages += 1
        page = item.page if isinstance(item, AnalysedPage) else item
        page = page.post if isinstance(page, AnalysedPost) else page
        try:
            if isinstance(item, AnalysedPage):
                result = self.ingest.process(item.page, item.analysis)
            elif isinstance(item, AnalysedPost):
                result = self.ingest.process_post(item.post, item.analysis)
            elif isinstance(item, Post):
                result = self.ingest.process_post(item)
            else:  # a page from a worker of an older version
                result = self.ingest.process(item)
        except Exception:  # as in-process, one bad page never stops the cycle
            log.exception("could not ingest %s (source %s)", page.url, page.source)
            return
        revisit_of = getattr(page, "revisit_of", 0)
        article_id = revisit_of or (result.saved.article_id if result.saved else None)
        if not article_id:
            return
        urls = [
            row[0]
            for row in self.ingest.db.execute(
                "SELECT url FROM article_urls WHERE article_id = ?", [article_id]
            )
        ]
        known = revisit.known_article(self.ingest.db, urls[:1])
        record = json.dumps(known.as_data()) if known is not None else ""
        self._known.update(dict.fromkeys(urls, record))


def ingest_cycle(
    config: Config,
    server: redis.Redis,
    *,
    wait: float = DEFAULT_WAIT,
    outage_limit: float = DEFAULT_OUTAGE_LIMIT,
) -> RunSummary:
    """One cron cycle of the ingest side; ``lock.Locked`` if another run holds the lock."""
    return cycle_with(
        config,
        lambda ingest, health: Consumer(
            server, config, ingest, health, outage_limit=outage_limit
        ).run(wait),
    )


def crawl_status(server: redis.Redis) -> dict[str, Any]:
    """What ``newswatch status`` shows: the cycle, live workers, what waits in Redis."""
    pipe = server.pipeline(transaction=False)
    pipe.get(CYCLE_KEY)
    for name in SPIDERS:
        pipe.llen(start_key(name))
    pipe.llen(ITEMS_KEY)
    pipe.llen(TAKEN_ITEMS_KEY)
    cycle, *starts, items, taken = pipe.execute()
    return {
        "cycle": int(cycle) if cycle is not None else 0,
        "workers": streams.workers(server),
        "start_data": dict(zip(SPIDERS, map(int, starts), strict=True)),
        "requests": streams.depth(server),
        "items_waiting": int(items),
        "items_taken": int(taken),
    }


def status_text(data: dict[str, Any]) -> str:
    """``crawl_status`` as lines for a terminal."""
    workers = data["workers"]
    processes = sorted({f"{beat['host']}:{beat['pid']}" for beat in workers})
    lines = [f"cycle {data['cycle']}; {len(processes)} crawl workers live"]
    for process in processes:
        beats = [b for b in workers if f"{b['host']}:{b['pid']}" == process]
        busy = [b["spider"] for b in beats if b.get("busy")]
        held = sum(int(b.get("held", 0)) for b in beats)
        since = min(str(b.get("since", "")) for b in beats)
        state = f"busy ({', '.join(busy)})" if busy else "idle"
        lines.append(f"  worker {process}: {state}, {held} requests held, up since {since}")
    for name in SPIDERS:
        queue = data["requests"][name]
        lines.append(
            f"{name}: {data['start_data'][name]} start data, {queue['waiting']} requests "
            f"waiting, {queue['held']} held"
        )
    lines.append(f"items: {data['items_waiting']} waiting for the ingest")
    return "\n".join(lines)
