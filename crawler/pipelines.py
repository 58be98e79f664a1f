"""IngestPipeline: adapts Scrapy items to the pure ingest stage and counts what became of them."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.extraction.telegram import Post, Progress
from crawler.models import Page
from crawler.run.analysis import Analysis
from crawler.run.ingest import Ingest, IngestResult
from crawler.run.pool import AnalysisPool, worth_analysing


class NotAnArticle(DropItem):
    """The page had no article text (an index, a gallery, an error page)."""


class DuplicateArticle(DropItem):
    """The page's canonical URL is already stored."""


class NotStored(DropItem):
    """The article could not be written (the database stayed locked); its source fails."""


class Revisited(DropItem):
    """A stored article fetched again: unchanged (304), removed, or failed for now."""


class IngestPipeline:
    """Runs every fetched page through the spider's ``Ingest`` in the crawling process.

    With the spider's ``AnalysisPool``, a page is extracted and matched in a worker
    process while the crawl goes on, then stored here (the one SQLite writer). At most
    the pool's ``capacity`` pages are in the pool; the others wait here holding their
    responses, which fills Scrapy's scraper slot and so pauses new downloads: the crawl
    slows down rather than piling pages up in memory. Pages stored while others are in
    the pool share one commit (``Ingest.batch_size``); the last of a run commits.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.ingest: Ingest | None = None
        self.pool: AnalysisPool | None = None
        self._room: asyncio.Semaphore | None = None
        self._in_flight = 0  # pages in the pool

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestPipeline:
        """Build the pipeline; the ``Ingest`` comes from the spider when it opens."""
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        """Take the cycle's ``Ingest`` from the spider (spiders without one pass items on)."""
        spider = spider or self.crawler.spider
        self.ingest = getattr(spider, "ingest", None)
        self.pool = getattr(spider, "pool", None)
        if self.pool is not None:
            self._room = asyncio.Semaphore(self.pool.capacity)

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        """Store the page's (or post's) article and hits, or drop it with a counted reason;
        a channel's reading progress is recorded."""
        if self.ingest is None:
            return item
        if isinstance(item, Progress):
            self.ingest.record_progress(item)
            return item
        result: IngestResult
        if isinstance(item, Page):
            result = self.ingest.process(item, await self._analysed(item))
            if not self._in_flight:  # no page coming back from the pool soon: commit now
                self.ingest.flush()
        elif isinstance(item, Post):
            result = self.ingest.process_post(item)
        else:
            return item
        if result.outcome == "not_article":
            raise NotAnArticle(f"no article text at {item.url}", log_level="DEBUG")
        if result.outcome == "not_stored":
            raise NotStored(f"not stored: {item.url}", log_level="DEBUG")
        if result.outcome == "duplicate":
            raise DuplicateArticle(f"already stored: {item.url}", log_level="DEBUG")
        if result.outcome in ("not_modified", "removed", "failed", "gone"):
            raise Revisited(f"revisit of {item.url}: {result.outcome}", log_level="DEBUG")
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value("newswatch/articles_new")
            stats.inc_value("newswatch/hits", len(result.hits))
        return item

    async def _analysed(self, page: Page) -> Analysis | None:
        """What a worker process made of the page (None: no pool, or nothing to extract)."""
        if self.pool is None or self._room is None or not worth_analysing(page):
            return None
        async with self._room:
            self._in_flight += 1
            try:
                return await asyncio.wrap_future(self.pool.submit(page))
            finally:
                self._in_flight -= 1

    def close_spider(self, spider: Spider | None = None) -> None:
        """Commit what the ingest still holds."""
        if self.ingest is not None:
            self.ingest.flush()
