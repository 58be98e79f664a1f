"""The review desk: newswatch's Datasette plugin (this package) and ``newswatch review``.

Datasette loads the package as a plugin through the ``datasette`` entry point
``newswatch = "crawler.review"``; ``register()`` does the same by hand. Its
pages live under ``/-/newswatch/``: the queue, verdicts, login, a dashboard,
search and per-watch Atom feeds. Configuration is Datasette metadata under
``plugins.newswatch`` (see ``access.DeskSettings``); ``newswatch review``
writes it from the newswatch config.
"""

from __future__ import annotations

from crawler.review.plugin import asgi_wrapper, canned_queries, menu_links, register_routes
from crawler.review.serve import metadata, register, serve

__all__ = [
    "asgi_wrapper",
    "canned_queries",
    "menu_links",
    "metadata",
    "register",
    "register_routes",
    "serve",
]
