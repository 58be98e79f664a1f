"""The ingest stage: page → extract → match → dedup → store (+ outbox), with no Scrapy in sight.

The same ``Ingest`` object serves the in-process Scrapy pipeline and, in
distributed mode, the consumer that reads crawled pages from Redis.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlite_utils

from .config import Config
from .dedup import StoryIndex
from .extract import ExtractionFailed, extract
from .matcher import Matcher, hide_names
from .models import Article, Hit, Page
from .store import Enqueue, SaveResult, known_url, save_article
from .telegram import Post, Progress, post_article
from .telegram_state import (
    save_post,
    save_progress,
    story_linked_by_post,
    story_of_linked_article,
)
from .urls import canonicalize

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """What one page became."""

    outcome: str  # "stored", "duplicate", "not_article", "not_stored"
    article: Article | None = None
    hits: tuple[Hit, ...] = ()
    saved: SaveResult | None = None


def matchable_text(article: Article) -> str:
    """Title and text as one string, without the title twice when the text opens with it."""
    if not article.title or article.text.lstrip().startswith(article.title):
        return article.text
    return f"{article.title}\n\n{article.text}"


class Ingest:
    """Owns the database connection, the compiled watchlist and the story index for one cycle."""

    def __init__(
        self, config: Config, db: sqlite_utils.Database, matcher: Matcher, enqueue: Enqueue
    ) -> None:
        self.config = config
        self.enqueue = enqueue  # the outbox's, handed in by the cycle
        self.db = db
        self.matcher = matcher
        self.counts: Counter[str] = Counter()
        # (source, url, reason) of each article that could not be stored: the cycle
        # reports them in the source's health, so they fail the run, not vanish.
        self.not_stored: list[tuple[str, str, str]] = []
        self._routes = {watch.id: watch.channels for watch in config.watches}
        self._watches = {watch.id: watch for watch in config.watches}
        # Built once per cycle from article_signatures; every stored article joins it.
        self.stories = StoryIndex.load(
            db, threshold=config.dedup.threshold, window_days=config.dedup.window_days
        )

    def is_known(self, url: str) -> bool:
        """True if the URL, or its canonical form, already leads to a stored article."""
        return known_url(self.db, url) or known_url(self.db, canonicalize(url))

    def process(self, page: Page) -> IngestResult:
        """Run one fetched page through extract, match and store."""
        try:
            article = extract(page)
        except ExtractionFailed as exc:  # a bug: counted and reported, the cycle goes on
            log.warning("extraction failed for %s (source %s): %s", page.url, page.source, exc,
                        exc_info=exc)
            self.counts["articles_failed"] += 1
            self.not_stored.append((page.source, page.url, f"article not extracted: {exc}"))
            return IngestResult("not_stored")
        if article is None:
            self.counts["not_article"] += 1
            return IngestResult("not_article")
        # An article a stored Telegram post links is part of the post's story.
        linked = story_linked_by_post(self.db, (article.url, article.canonical_url,
                                                *article.other_urls))
        return self._store(article, page.url, linked)

    def process_post(self, post: Post) -> IngestResult:
        """Run one Telegram post through match and store, as an article of its channel.

        A post that links a stored article joins that article's story; a post without
        text (a photo alone) is not an article.
        """
        article = post_article(post)
        if article is None:
            self.counts["not_article"] += 1
            return IngestResult("not_article")
        result = self._store(article, post.url, story_of_linked_article(self.db, post.links))
        if result.outcome == "stored" and result.saved is not None and result.saved.article_id:
            try:
                save_post(self.db, result.saved.article_id, post)
            except sqlite3.OperationalError as exc:
                log.warning("post %s stored without its details: %s", post.url, exc)
        return result

    def record_progress(self, progress: Progress) -> None:
        """Remember how far a channel was read, unless one of its posts could not be stored
        in this cycle (then the next run reads them again)."""
        if any(source == progress.source for source, _, _ in self.not_stored):
            log.info("channel %s: progress not saved (posts not stored)", progress.channel)
            return
        try:
            save_progress(self.db, progress)
        except sqlite3.OperationalError as exc:  # the next run reads the same posts again
            log.warning("channel %s: progress not saved: %s", progress.channel, exc)

    def _store(self, article: Article, url: str, join_story: int | None) -> IngestResult:
        """Match an article and store it with its hits and alerts."""
        hits = tuple(self._with_hidden_titles(article, self.matcher.match(matchable_text(article))))
        try:
            saved = save_article(
                self.db,
                article,
                hits,
                self._route,
                self.enqueue,
                stories=self.stories,
                join_story=join_story,
            )
        except sqlite3.OperationalError as exc:  # locked past the busy timeout, disk full...
            self.counts["articles_failed"] += 1
            self.not_stored.append((article.source, url, f"article not stored: {exc}"))
            return IngestResult("not_stored", article, hits)
        if saved.duplicate:
            self.counts["articles_duplicate"] += 1
            self.counts["articles_updated"] += int(saved.updated)
            return IngestResult("duplicate", article, hits, saved)
        self.counts["articles_new"] += 1
        self.counts["hits"] += len(saved.hit_ids)
        self.counts["stories_new"] += int(saved.new_story)
        self.counts["alerts_queued"] += saved.alerts_queued
        self.counts["alerts_suppressed"] += saved.alerts_suppressed
        for hit in hits:
            log.info("hit %s in %s: %r", hit.watch_id, article.canonical_url, hit.matched)
        return IngestResult("stored", article, hits, saved)

    def _with_hidden_titles(self, article: Article, hits: Iterable[Hit]) -> Iterator[Hit]:
        """Hits of redacted watches carry the title with the name hidden, for the channels."""
        for hit in hits:
            watch = self._watches.get(hit.watch_id)
            if watch is not None and watch.redact and article.title:
                hit = dataclasses.replace(hit, hidden_title=hide_names(article.title, watch))
            yield hit

    def _route(self, watch_id: str) -> tuple[str, ...]:
        return self._routes.get(watch_id, ())
