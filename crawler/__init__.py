"""newswatch's crawl and ingest side: Scrapy spiders and the pure stages they feed.

Modules, in data-flow order: ``spiders`` (fetch), ``extract`` and ``urls``
(main text, metadata, canonical URL), ``matcher``, ``query`` and ``textnorm``
(watchlist matching), ``store`` (SQLite state), ``ingest`` (one page through
all of them), ``cycle`` (one cron run), ``cli`` (the ``newswatch`` command).
Importing this package imports nothing heavy; import the modules you need.
"""

__version__ = "0.1.0"
