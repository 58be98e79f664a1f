"""newswatch's Scrapy downloader middlewares (enabled in ``crawler/settings.py``)."""

from .private import (
    PrivateAddressMiddleware,
    PrivateAddressRefused,
    RequestRefused,
    SchemeRefused,
    is_private,
)

__all__ = [
    "PrivateAddressMiddleware",
    "PrivateAddressRefused",
    "RequestRefused",
    "SchemeRefused",
    "is_private",
]
