"""One cron cycle: the lock, the crawl through the ingest stage, source health, delivery.

The modules are imported by name (``crawler.run.cycle``, ``crawler.run.pool``, …): a
worker process that needs only the pure stages never loads Scrapy or the channels.
"""
