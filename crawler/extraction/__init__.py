"""Extract: a fetched page's main text, title, date, language and canonical URL."""

from crawler.extraction.article import ExtractionFailed, content_hash, extract, extract_links
from crawler.extraction.urls import canonicalize

__all__ = ["ExtractionFailed", "canonicalize", "content_hash", "extract", "extract_links"]
