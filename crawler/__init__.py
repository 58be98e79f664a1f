"""newswatch's crawl and ingest side: Scrapy spiders and the pure stages they feed.

A folder per stage, in data-flow order: ``spiders``, ``downloadermiddlewares`` and
``extensions`` (fetch, Scrapy's layout), ``extraction`` (main text, metadata, canonical URL,
sitemaps, Telegram previews), ``matching`` (the watchlist), ``storage`` (the SQLite
state file, stories, evidence, how far Telegram channels are read), ``run`` (one
cron cycle: ingest, health, revisits, staleness), ``distributed`` (scrapy-redis
workers and the ingest consumer), ``review`` (the Datasette desk), ``sources``
(preview and discover sources), ``config`` (every key, declared once), ``demo`` and
``starter``; beside them ``clock``, ``db``, ``models``, ``logs`` and ``cli`` (the
``newswatch`` command).
Importing this package imports nothing heavy; import the modules you need.
"""

__version__ = "0.1.0"
