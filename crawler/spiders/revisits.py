"""Revisit requests: a stored article fetched again with a conditional GET, whatever it answers.

A revisit's request carries the article's id (``meta["revisit"]``) and its
stored validators; 304, 404 and 410 reach the callback instead of the error
path, redirects are followed (``Page.requested_url`` keeps where it began), and
a failure (5xx after retries, a timeout, robots.txt) comes back from the
errback as a ``Page`` with ``error`` set, so that the ingest side records every
revisit, in-process or through a crawl worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.config import Source
from crawler.models import Page
from crawler.run.revisit import Revisit
from crawler.storage.store import utcnow

# What a revisit's callback sees instead of an error: the stored text is current, or gone.
REVISIT_STATUSES = [304, 404, 410]


def raw_headers(response: Response) -> tuple[tuple[str, str], ...]:
    """The response's headers as (name, value) pairs, one per value."""
    return tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        for value in values
    )


def revisit_of(meta: dict[str, Any]) -> int:
    """The stored article a request fetches again (0 for a first fetch)."""
    data = meta.get("revisit") or {}
    return int(data.get("article_id") or 0) if isinstance(data, dict) else 0


class RevisitRequests:
    """Mixin for ``NewswatchSpider``: builds revisit requests and reports failed ones."""

    sources: tuple[Source, ...]
    revisits: tuple[Revisit, ...]
    revisiting: set[int]
    crawler: Any

    def revisit_requests(self) -> Iterator[scrapy.Request]:
        """The scheduled revisits handed to this spider, of sources it crawls."""
        names = {source.name for source in self.sources}
        for revisit in self.revisits:
            if revisit.source in names:
                yield self.revisit_request(revisit)

    def revisit_request(self, revisit: Revisit) -> scrapy.Request:
        """A conditional GET of a stored article (never dropped as a duplicate request)."""
        self.revisiting.add(revisit.article_id)
        language = next(
            (source.language for source in self.sources if source.name == revisit.source), ""
        )
        self.crawler.stats.inc_value(f"newswatch/revisits_{revisit.reason}")
        return scrapy.Request(
            revisit.url,
            headers=revisit.conditional_headers(),
            callback=self.parse_article,  # type: ignore[attr-defined]
            errback=self.revisit_failed,
            dont_filter=True,
            meta={
                "source": revisit.source,
                "language": language,
                "revisit": revisit.as_data(),
                "handle_httpstatus_list": REVISIT_STATUSES,
            },
        )

    def revisit_failed(self, failure: Failure) -> Iterator[Page]:
        """Errback of a revisit: a ``Page`` saying it failed for now (not a removal)."""
        from crawler.spiders.base import describe_failure

        request = failure.request  # type: ignore[attr-defined]
        self.crawler.stats.inc_value("newswatch/revisit_errors")
        status = failure.value.response.status if isinstance(failure.value, HttpError) else 0
        yield Page(
            source=request.meta["source"],
            url=request.url,
            html="",
            requested_url=(request.meta.get("redirect_urls") or [request.url])[0],
            fetched_at=utcnow(),
            status=status,
            revisit_of=revisit_of(request.meta),
            error=describe_failure(failure),
        )
