"""The review desk: newswatch's Datasette plugin and ``newswatch review``.

The plugin is the package ``crawler.review.plugin`` (Datasette entry point
``newswatch``), with its ``static/`` and ``templates/``; ``register()`` adds it
by hand where the entry point is not installed. Its pages live under
``/-/newswatch/``: the queue, verdicts, login, a dashboard, search and per-watch
Atom feeds. Configuration is Datasette metadata under ``plugins.newswatch``
(see ``access.DeskSettings``); ``newswatch review`` writes it from the newswatch
config. Editors' accounts are ``accounts`` (``newswatch users``).
"""

from __future__ import annotations

from crawler.review.serve import metadata, register, serve

__all__ = ["metadata", "register", "serve"]
