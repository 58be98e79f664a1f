"""newswatch's Scrapy downloader middlewares (enabled in ``crawler/settings.py``)."""

from crawler.downloadermiddlewares.private import (
    PrivateAddressMiddleware,
    PrivateAddressRefused,
    RequestRefused,
    SchemeRefused,
    is_private,
)
from crawler.downloadermiddlewares.redirectloop import RedirectLoop, RedirectLoopMiddleware

__all__ = [
    "PrivateAddressMiddleware",
    "PrivateAddressRefused",
    "RedirectLoop",
    "RedirectLoopMiddleware",
    "RequestRefused",
    "SchemeRefused",
    "is_private",
]
