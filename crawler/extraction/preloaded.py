"""Importing this module loads trafilatura and the language model (≈80 MB).

The worker pool's fork server imports it once, so every worker process forked from
the server shares them instead of loading its own copy.
"""

from crawler.extraction.article import preload

preload()
