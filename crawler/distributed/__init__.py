"""Distributed mode on scrapy-redis: crawl workers and the one ingest process."""
