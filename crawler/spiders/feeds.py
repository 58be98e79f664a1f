"""FeedSpider: polls RSS/Atom feeds with conditional GETs and queues their new items."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import feedparser
import scrapy
from scrapy.http import Response

from crawler.config import Source
from crawler.logs import exception_line
from crawler.spiders.base import NewswatchSpider
from crawler.storage.store import SourceState

log = logging.getLogger(__name__)


def _published(entry: Any) -> str:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)


def _updated(entry: Any) -> str:
    """The entry's own updated date (Atom ``<updated>``), which says a stored article changed
    (feedparser falls back to the published date; that one says nothing of a change)."""
    parsed = entry.get("updated_parsed") if dict.__contains__(entry, "updated_parsed") else None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed) if parsed else ""


class FeedSpider(NewswatchSpider):
    """Fetches every feed source; feedparser parses the body Scrapy downloaded."""

    name = "feeds"

    def __init__(self, states: dict[str, SourceState] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.states = states or {}

    def entry_requests(self, source: Source) -> Iterator[scrapy.Request]:
        """The source's conditional GET of its feed."""
        state = self.states.get(source.name, SourceState())
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        yield scrapy.Request(
            source.feed,
            headers=headers,
            callback=self.parse_feed,
            errback=self.entry_failed,
            dont_filter=True,
            meta={"source": source.name, "handle_httpstatus_list": [304]},
        )

    def parse_feed(self, response: Response) -> Any:
        """Parse a feed; queue its items not yet stored."""
        name = response.meta["source"]
        source = next(s for s in self.sources if s.name == name)
        if response.status == 304:
            self.crawler.stats.inc_value("newswatch/feeds_not_modified")
            self.health.ok(name, not_modified=True)
            return
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in ((k, response.headers.get(k) or b"") for k in response.headers)
        }
        parsed = feedparser.parse(response.body, response_headers=headers)
        entries = parsed.get("entries", [])
        if parsed.get("bozo") and not any(entry.get("link") for entry in entries):
            # Not well-formed and nothing usable in it: a failed fetch, not "ok, 0 articles".
            problem = parsed.get("bozo_exception")
            detail = "no entry with a link" if entries else "no entry"
            self.health.failed(name, response.url, f"not a feed ({detail}): {problem}")
            return
        if parsed.get("bozo"):
            self.crawler.stats.inc_value("newswatch/feeds_bozo")
            log.info(
                "feed %s (%s) is malformed, using what parsed: %s",
                name,
                response.url,
                parsed.get("bozo_exception"),
            )
        self.health.ok(name, etag=headers.get("etag"), last_modified=headers.get("last-modified"))
        for entry in entries:
            # One entry, however odd, never costs the feed the entries after it.
            try:
                request = self.entry_article(source, response, entry)
            except Exception as exc:  # counted and logged; the feed goes on
                self.crawler.stats.inc_value("newswatch/entries_skipped")
                log.info(
                    "feed %s (%s): skipping an entry: %s", name, response.url, exception_line(exc)
                )
                continue
            if request is not None:
                yield request

    def entry_article(
        self, source: Source, response: Response, entry: Any
    ) -> scrapy.Request | None:
        """The article request of one feed entry, or None (no link, known, not a web link)."""
        link = str(entry.get("link") or "").strip()
        if not link:
            return None
        if not link.startswith(("http://", "https://")):
            with contextlib.suppress(ValueError):  # malformed: link_request refuses it
                link = response.urljoin(link)
        return self.article_request(
            source,
            link,
            title=str(entry.get("title") or ""),
            published=_published(entry),
            updated=_updated(entry),
        )
