"""NotModifiedThrottle: AutoThrottle that takes a 304 for the healthy answer it is.

Scrapy's AutoThrottle never lowers a site's delay on a response other than 200, so
that small error pages do not speed up a crawl of a failing site. But a feed that has
not changed answers a conditional GET with 304, and a run over many feeds on one host
then crawled at the start delay throughout (200 feeds: half a minute). Here a 304
answer to a conditional request counts like a 200: its latency lowers the delay as a
200's would. A slow 304 still raises it, and errors (4xx, 5xx, an unconditional 304)
are treated exactly as AutoThrottle treats them.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response

_CONDITIONAL = (b"If-None-Match", b"If-Modified-Since")


class NotModifiedThrottle(AutoThrottle):
    """AutoThrottle with 304s to conditional requests as healthy latency samples."""

    def _response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        if response.status == 304 and any(name in request.headers for name in _CONDITIONAL):
            response = response.replace(status=200)
        super()._response_downloaded(response, request, spider)
