"""What the feed and site spiders share: entry-request bookkeeping and article requests."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from ..config import Source
from ..health import SourceHealth
from ..ingest import Ingest
from ..models import Page
from ..store import utcnow
from ..urls import canonicalize

log = logging.getLogger(__name__)


def describe_failure(failure: Failure) -> str:
    """A one-line reason for a failed request: HTTP status, timeout, DNS, robots.txt..."""
    error = failure.value
    if isinstance(error, HttpError):
        return f"HTTP {error.response.status}"
    name = type(error).__name__
    text = str(error).strip()
    if name == "IgnoreRequest" and "robots" in text.lower():
        return "forbidden by robots.txt"
    return f"{name}: {text}" if text else name


def _never(url: str) -> bool:
    return False


class NewswatchSpider(scrapy.Spider):
    """Base for newswatch spiders: knows the sources, the health log and the known-URL check."""

    def __init__(
        self,
        sources: tuple[Source, ...] = (),
        health: SourceHealth | None = None,
        ingest: Ingest | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sources = sources
        self.health = health or SourceHealth(sources)
        self.ingest = ingest  # the item pipeline stores pages through it
        self.is_known: Callable[[str], bool] = ingest.is_known if ingest else _never
        self.queued: dict[str, set[str]] = {source.name: set() for source in sources}

    async def start(self) -> AsyncIterator[Any]:
        """The entry requests of every source (crawl workers take theirs from Redis instead)."""
        for source in self.sources:
            for request in self.entry_requests(source):
                yield request

    def entry_requests(self, source: Source) -> Iterator[scrapy.Request]:
        """The requests a source's crawl begins with (its feed; its sitemaps and sections)."""
        raise NotImplementedError

    def entry_failed(self, failure: Failure) -> None:
        """Errback of a source's entry request (feed, sitemap, section page)."""
        request = failure.request  # type: ignore[attr-defined]
        self.health.failed(request.meta["source"], request.url, describe_failure(failure))

    def article_failed(self, failure: Failure) -> None:
        """Errback of an article request: counted and logged, the source carries on."""
        request = failure.request  # type: ignore[attr-defined]
        self.crawler.stats.inc_value("newswatch/article_errors")
        log.info(
            "article %s of source %s failed: %s",
            request.url,
            request.meta["source"],
            describe_failure(failure),
        )

    def article_request(
        self, source: Source, url: str, *, title: str = "", published: str = ""
    ) -> scrapy.Request | None:
        """A request for an article link, or None if it is known, queued or over the limit."""
        canonical = canonicalize(url)
        queued = self.queued[source.name]
        if canonical in queued or len(queued) >= source.max_articles:
            return None
        if self.is_known(url):
            self.crawler.stats.inc_value("newswatch/articles_known")
            return None
        queued.add(canonical)
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={
                "source": source.name,
                "feed_title": title,
                "feed_published": published,
                "language": source.language,
            },
        )

    def parse_article(self, response: Response) -> Any:
        """Hand the article page to the ingest pipeline as a ``Page`` item."""
        if not hasattr(response, "text"):
            self.crawler.stats.inc_value("newswatch/not_html")
            return
        meta = response.meta
        yield Page(
            source=meta["source"],
            url=response.url,
            html=response.text,
            requested_url=(meta.get("redirect_urls") or [response.url])[0],
            fetched_at=utcnow(),
            feed_title=meta.get("feed_title", ""),
            feed_published=meta.get("feed_published", ""),
            language_hint=meta.get("language", ""),
        )
