"""TelegramSpider: reads public channels through their web preview, newest post first.

Each channel's run reads the preview (``{telegram_base}/s/<channel>``) and older pages
(``?before=<id>``) back to the newest post already read, then the gaps an earlier run
left (``crawler/extraction/telegram.py`` decides which pages). Every preview request
goes through one download slot: one request at a time, ``telegram_delay`` seconds
apart. A 429 pauses that slot for its ``Retry-After`` and the page is asked again, when
the wait is short; a longer one fails the source for this run, and the next run resumes
where this one stopped.

Posts are items (``Post``), stored by the ingest pipeline as articles; with
``follow_links`` the news articles they link are fetched as any article is. A channel's
``Progress`` item, after its posts, records how far it was read. A post due for a
revisit is read again alone (``embed_url``), in the same slot; the ingest side compares
it (``Ingest._revisit``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import clock
from crawler.config import Source
from crawler.extraction.telegram import (
    TELEGRAM,
    ChannelReader,
    Progress,
    embed_url,
    followable,
    parse_preview,
    post_of_url,
    preview_url,
)
from crawler.run.revisit import Revisit
from crawler.spiders.base import NewswatchSpider, describe_failure
from crawler.spiders.revisits import raw_headers
from crawler.storage.store import utcnow

log = logging.getLogger(__name__)

SLOT = "telegram-preview"
"""The download slot of every preview request: one at a time, with the delay."""

MAX_RETRY_AFTER = 60.0
"""A 429 asking to wait this long (seconds) or less is retried in the same run."""

MAX_WAITS = 3
"""How many times one page may be answered 429 and asked again in a run."""

DEFAULT_RETRY_AFTER = 10.0
"""The wait after a 429 that names none."""

# Scrapy's retry codes without 429: a 429 is retried after its Retry-After, not at once.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]


def retry_after(value: bytes | str | None) -> float | None:
    """Seconds a ``Retry-After`` asks to wait (a number, or an HTTP date), or None."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - clock.now()).total_seconds())


class TelegramSpider(NewswatchSpider):
    """Fetches every Telegram source's preview pages; its posts become articles."""

    name = "telegram"

    def __init__(
        self,
        progress: dict[str, Progress] | None = None,
        base: str = TELEGRAM,
        delay: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.progress = dict(progress or {})
        self.base = base.rstrip("/")
        self.delay = delay
        self.rules = {
            source.name: [re.compile(pattern) for pattern in source.follow]
            for source in self.sources
        }

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> TelegramSpider:
        """The spider, and its crawl's settings (not yet frozen): the preview slot, one
        request at a time ``delay`` apart, and no immediate retry of a 429."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        slots = dict(crawler.settings.getdict("DOWNLOAD_SLOTS"))
        # Never quite 0: a Retry-After pauses the slot through its delay (see _pause).
        slots[SLOT] = {"concurrency": 1, "delay": max(spider.delay, 0.001)}
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        crawler.settings.set("RETRY_HTTP_CODES", RETRY_HTTP_CODES, priority="spider")
        return spider

    def _source(self, name: str) -> Source:
        return next(source for source in self.sources if source.name == name)

    def entry_requests(self, source: Source) -> Iterator[scrapy.Request]:
        """The channel's newest page; the rest follows from what each page shows."""
        progress = self.progress.get(source.name) or Progress(source.name, source.telegram)
        yield self._page_request(source, ChannelReader(progress, source.max_articles))

    def _page_request(
        self, source: Source, reader: ChannelReader, waits: int = 0
    ) -> scrapy.Request:
        # The reader travels with the request: a crawl worker may read the next page of a
        # channel whose previous page another worker read.
        return scrapy.Request(
            preview_url(self.base, source.telegram, reader.before),
            callback=self.parse_preview,
            errback=self.preview_failed,
            dont_filter=True,
            meta={
                "source": source.name,
                "download_slot": SLOT,
                "autothrottle_dont_adjust_delay": True,
                "handle_httpstatus_list": [429],
                "telegram_reader": reader,
                "telegram_waits": waits,
            },
        )

    async def parse_preview(self, response: Response) -> AsyncIterator[Any]:
        """Yield the page's new posts (and the articles they link), then the next page,
        or the channel's progress when its run is done."""
        source = self._source(response.meta["source"])
        reader: ChannelReader = response.meta["telegram_reader"]
        if response.status == 429:
            async for item in self._rate_limited(response, source, reader):
                yield item
            return
        for item in self._read_page(response, source, reader):
            yield item

    def _read_page(
        self, response: Response, source: Source, reader: ChannelReader
    ) -> Iterator[Any]:
        page = None
        if hasattr(response, "text") and "/s/" in response.url:
            page = parse_preview(
                response.text,
                source=source.name,
                channel=source.telegram,
                page_url=response.url,
                fetched_at=utcnow(),
                language_hint=source.language,
            )
        if page is None or not page.is_preview:
            self.health.failed(
                source.name,
                response.url,
                "no public preview of this channel (a private channel, a user or a bot?)",
            )
            reader.failed()
            yield reader.progress()
            return
        self.health.ok(source.name)
        if self.coverage is not None:  # what the channel shows, read before or not
            for shown in page.posts:
                if shown.text:
                    self.coverage.offer(source.name)
        stats = self.crawler.stats
        posts, before = reader.take(page)
        if stats is not None:
            stats.inc_value("newswatch/telegram_pages")
        for post in posts:
            if not post.text:  # a photo or a video alone: nothing to read
                if stats is not None:
                    stats.inc_value("newswatch/telegram_posts_without_text")
                continue
            if stats is not None:
                stats.inc_value("newswatch/telegram_posts")
            # The page as received goes with each post: the evidence of one with a hit.
            yield dataclasses.replace(
                post,
                page_url=response.url,
                status=response.status,
                headers=raw_headers(response),
                body=response.body,
            )
            if source.follow_links:
                yield from self._linked_articles(source, post.links)
        if before is not None:
            yield self._page_request(source, reader)
        else:
            yield reader.progress()

    def _linked_articles(self, source: Source, links: tuple[str, ...]) -> Iterator[scrapy.Request]:
        rules = self.rules[source.name]
        for link in followable(links, self.base):
            if rules and not any(rule.search(link) for rule in rules):
                continue
            request = self.article_request(source, link)
            if request is not None:
                yield request

    async def _rate_limited(
        self, response: Response, source: Source, reader: ChannelReader
    ) -> AsyncIterator[Any]:
        """Ask the page again after a short Retry-After; otherwise end the channel's run."""
        wait = retry_after(response.headers.get("Retry-After"))
        waits = int(response.meta.get("telegram_waits", 0))
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("newswatch/telegram_429")
        effective = DEFAULT_RETRY_AFTER if wait is None else wait
        if effective <= MAX_RETRY_AFTER and waits < MAX_WAITS:
            log.info(
                "source %s: %s answered 429; asking again in %g s",
                source.name,
                response.url,
                effective,
            )
            # The other channels' pages wait too (the slot), and this one waits here, so
            # that no crawl worker asks for it again before its time.
            self._pause_slot(effective)
            await clock.pause(effective)
            yield self._page_request(source, reader, waits + 1)
            return
        if waits >= MAX_WAITS:
            why = f"{waits + 1} times in a row"
        else:
            why = f"asked to wait {effective:g} s (Retry-After)"
        self.health.failed(
            source.name,
            response.url,
            f"HTTP 429 Too Many Requests, {why}; the next run reads on from here",
        )
        reader.failed()
        yield reader.progress()

    def _pause_slot(self, seconds: float) -> None:
        """Send nothing to the preview host for ``seconds``: the slot's last request is
        moved into the future, so its delay runs from there."""
        engine = getattr(self.crawler, "engine", None)
        slot = engine.downloader.slots.get(SLOT) if engine is not None else None
        if slot is not None:
            slot.lastseen = max(slot.lastseen, clock.monotonic() + seconds)

    def revisit_request(self, revisit: Revisit) -> scrapy.Request:
        """A post is read again alone (its embeddable page), through the preview slot; an
        article its posts linked is revisited as any article."""
        request = super().revisit_request(revisit)
        post = post_of_url(revisit.url)
        if post is None:
            return request
        meta = {**request.meta, "download_slot": SLOT, "autothrottle_dont_adjust_delay": True}
        return request.replace(url=embed_url(self.base, *post), meta=meta)

    def preview_failed(self, failure: Failure) -> Iterator[Any]:
        """Errback of a preview request: the source fails; what is read so far is kept."""
        request = failure.request  # type: ignore[attr-defined]
        self.health.failed(request.meta["source"], request.url, describe_failure(failure))
        reader: ChannelReader = request.meta["telegram_reader"]
        reader.failed()
        yield reader.progress()
