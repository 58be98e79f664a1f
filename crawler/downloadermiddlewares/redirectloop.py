"""RedirectLoopMiddleware: a redirect back to a URL already on the chain fails the request.

Scrapy's RedirectMiddleware schedules each hop as a new request, and the scheduler's
dupefilter drops one whose URL was already requested: a loop (A -> B -> A) would end
in silence, with no errback and no word in the source's health. Seen from just
before RedirectMiddleware, the loop fails the request instead, for a reason.
"""

from __future__ import annotations

from typing import Self
from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from w3lib.url import canonicalize_url, safe_url_string

from crawler.downloadermiddlewares.private import RequestRefused

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class RedirectLoop(RequestRefused):
    """A redirect leads back to a URL the request already went through."""


def _key(url: str) -> str:
    try:
        return canonicalize_url(url)
    except ValueError:
        return url


class RedirectLoopMiddleware:
    """Raises ``RedirectLoop`` for a redirect whose target is already on the request's chain."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """No settings: on whenever it is listed (``crawler/settings.py``)."""
        return cls()

    def process_response(self, request: Request, response: Response) -> Response:
        """Let the response through, unless it redirects back along the chain."""
        location = response.headers.get(b"Location")
        if (
            response.status not in REDIRECT_STATUSES
            or not location
            or request.meta.get("dont_redirect")
        ):
            return response
        try:
            target = safe_url_string(urljoin(request.url, location.decode("latin-1")))
        except ValueError:
            return response  # RedirectMiddleware decides what a malformed Location means
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if _key(target) in {_key(url) for url in chain}:
            raise RedirectLoop(f"redirect loop: {request.url} redirects back to {target}")
        return response
