"""Store: the one SQLite file (schema, articles, hits, sources, runs) and its stories."""

from crawler.storage.store import open_database, save_article
from crawler.storage.stories import StoryIndex

__all__ = ["StoryIndex", "open_database", "save_article"]
