"""newswatch's Scrapy extensions (enabled in ``crawler/settings.py``)."""

from crawler.extensions.throttle import NotModifiedThrottle

__all__ = ["NotModifiedThrottle"]
