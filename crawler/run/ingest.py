"""The ingest stage: page → extract → match → dedup → store (+ outbox), with no Scrapy in sight.

The same ``Ingest`` object serves the in-process Scrapy pipeline and, in
distributed mode, the consumer that reads crawled pages from Redis.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import sqlite_utils

from crawler import clock
from crawler.config import Config
from crawler.db import write_transaction
from crawler.extraction.telegram import Post, Progress, post_article, read_post
from crawler.extraction.urls import canonicalize
from crawler.matching.matcher import Matcher
from crawler.models import Article, Hit, Page
from crawler.run import revisit
from crawler.run.analysis import Analyser, Analysis
from crawler.storage import evidence
from crawler.storage.store import AfterSave, Enqueue, SaveResult, known_url, save_article
from crawler.storage.stories import StoryIndex
from crawler.storage.telegram import (
    post_of_article,
    record_post,
    save_progress,
    story_linked_by_post,
    story_of_linked_article,
)

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """What one page became."""

    # "stored", "duplicate", "not_article", "not_stored"; for a revisit also
    # "not_modified", "removed", "failed" (for now), "gone" (the article was deleted)
    outcome: str
    article: Article | None = None
    hits: tuple[Hit, ...] = ()
    saved: SaveResult | None = None


# What a batch's stores counted, undone if its commit fails.
_STORE_COUNTS = (
    "articles_new", "articles_duplicate", "articles_changed", "mentions_removed", "hits",
    "stories_new", "alerts_queued", "alerts_suppressed", "evidence_kept",
)


class Ingest:
    """Owns the database connection, the compiled watchlist and the story index for one cycle."""

    def __init__(
        self,
        config: Config,
        db: sqlite_utils.Database,
        matcher: Matcher | None,
        enqueue: Enqueue,
    ) -> None:
        """``matcher``: the watchlist compiled, or None to compile it when first needed."""
        self.config = config
        self.enqueue = enqueue  # the outbox's, handed in by the cycle
        self.db = db
        self.analyser = Analyser(matcher, config.watches)
        self.counts: Counter[str] = Counter()
        # (source, url, reason) of each article that could not be stored: the cycle
        # reports them in the source's health, so they fail the run, not vanish.
        self.not_stored: list[tuple[str, str, str]] = []
        # Articles per commit. 1: each article commits alone. The crawl raises it, since a
        # commit costs an fsync (about 2.5 ms) and the crawl's one thread waits for it, and
        # commits what it holds with ``flush()`` whenever its pages run out.
        self.batch_size = 1
        self._batch: list[tuple[str, str]] = []  # (source, url) stored, not yet committed
        self._holding = False  # a batch's transaction is open
        self._counts_before: Counter[str] = Counter()
        self._routes = {watch.id: watch.channels for watch in config.watches}
        self._sources = {source.name: source for source in config.sources}
        self.evidence = (
            evidence.EvidenceWriter(
                config.database, max_file_bytes=config.evidence.max_file_mb * 1024 * 1024
            )
            if config.evidence.enabled
            else None
        )

    @property
    def matcher(self) -> Matcher:
        """The compiled watchlist."""
        return self.analyser.matcher

    @cached_property
    def stories(self) -> StoryIndex:
        """The story index, built from article_signatures when the cycle stores its first
        article; every stored article joins it."""
        dedup = self.config.dedup
        return StoryIndex.load(
            self.db, threshold=dedup.threshold, window_days=dedup.window_days
        )

    def is_known(self, url: str) -> bool:
        """True if the URL, or its canonical form, already leads to a stored article."""
        return known_url(self.db, url) or known_url(self.db, canonicalize(url))

    def known_article(self, url: str) -> revisit.KnownArticle | None:
        """The stored article the URL (or its canonical form) leads to, for re-fetch checks."""
        return revisit.known_article(self.db, dict.fromkeys([url, canonicalize(url)]))

    def process(self, page: Page, analysis: Analysis | None = None) -> IngestResult:
        """Run one fetched page through extract, match and store; ``analysis`` is what
        ``Analyser.page`` made of it elsewhere (a worker process), if it was."""
        if page.revisit_of:
            try:
                return self._revisit(page, analysis)
            except sqlite3.OperationalError as exc:
                self.counts["articles_failed"] += 1
                self.not_stored.append((page.source, page.url, f"revisit not stored: {exc}"))
                return IngestResult("not_stored")
        if analysis is None:
            analysis = self.analyser.page(page)
        if analysis.failure:
            return self._not_extracted(page, analysis.failure)
        if analysis.article is None:
            self.counts["not_article"] += 1
            return IngestResult("not_article")
        # An article a stored Telegram post links is part of the post's story.
        article = analysis.article
        urls = (article.url, article.canonical_url, *article.other_urls)
        return self._store(page, analysis, join_story=story_linked_by_post(self.db, urls))

    def process_post(self, post: Post, analysis: Analysis | None = None) -> IngestResult:
        """Run one Telegram post through match and store, as an article of its channel
        (``analysis``: what ``Analyser.article`` made of it elsewhere, a crawl worker).

        A post that links a stored article joins that article's story; a post without
        text (a photo alone) is not an article. The preview page it was read from is its
        raw response, kept as evidence when it has a hit.
        """
        if analysis is None:
            article = post_article(post)
            analysis = self.analyser.article(article) if article is not None else Analysis(None)
        if analysis.article is None:
            self.counts["not_article"] += 1
            return IngestResult("not_article")
        join = story_of_linked_article(self.db, post.links)
        return self._store(post.raw_page(), analysis, join_story=join, post=post)

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

    def _store(
        self,
        page: Page,
        analysis: Analysis,
        article_id: int | None = None,
        *,
        join_story: int | None = None,
        post: Post | None = None,
    ) -> IngestResult:
        """Store an analysed article (``article_id``: the stored one it is;
        ``join_story``: the story it belongs to; ``post``: the Telegram post it is)."""
        article, hits, found = analysis.article, analysis.hits, analysis.entities
        assert article is not None, "only an article is stored"
        if post is None:  # a post's page is the channel's preview: not its validators
            article = dataclasses.replace(
                article, etag=page.header("etag"), last_modified=page.header("last-modified")
            )
        url = post.url if post is not None else page.url
        try:
            self._hold()
            saved = save_article(
                self.db,
                article,
                hits,
                self._route,
                self.enqueue,
                stories=self.stories,
                entities=found,
                article_id=article_id,
                after=self._after_save(page, post),
                join_story=join_story,
                prepared=analysis.prepared,
            )
        except sqlite3.OperationalError as exc:  # locked past the busy timeout, disk full...
            self.counts["articles_failed"] += 1
            self.not_stored.append((article.source, url, f"article not stored: {exc}"))
            return IngestResult("not_stored", article, hits)
        self._batched(article.source, url)
        if saved.duplicate:
            self.counts["articles_duplicate"] += 1
            self.counts["articles_changed"] += int(saved.updated)
            self.counts["mentions_removed"] += saved.mentions_removed
            self.counts["hits"] += len(saved.hit_ids)
            self.counts["alerts_queued"] += saved.alerts_queued
            self.counts["alerts_suppressed"] += saved.alerts_suppressed
            for hit_id in saved.hit_ids:
                log.info("hit %d in the changed text of %s", hit_id, article.canonical_url)
            return IngestResult("duplicate", article, hits, saved)
        self.counts["articles_new"] += 1
        self.counts["hits"] += len(saved.hit_ids)
        self.counts["stories_new"] += int(saved.new_story)
        self.counts["alerts_queued"] += saved.alerts_queued
        self.counts["alerts_suppressed"] += saved.alerts_suppressed
        for hit in hits:
            log.info("hit %s in %s: %r", hit.watch_id, article.canonical_url, hit.matched)
        return IngestResult("stored", article, hits, saved)

    # --- batched commits -------------------------------------------------------------------

    def flush(self) -> None:
        """Commit the articles stored since the last commit. If the commit fails, they
        are not stored: counted and named as such, and the story index is read again."""
        if not self._holding:
            return
        batch, self._batch, self._holding = self._batch, [], False
        conn = self.db.conn
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for key in _STORE_COUNTS:
                self.counts[key] = self._counts_before[key]
            self.counts["articles_failed"] += len(batch)
            self.not_stored += [(source, url, f"article not stored: {exc}")
                                for source, url in batch]
            self.__dict__.pop("stories", None)  # it holds the articles rolled back
            log.warning("%d articles not stored: %s", len(batch), exc)

    def _hold(self) -> None:
        """Open a batch's transaction (saves nest in it as savepoints) when batching."""
        if self.batch_size > 1 and not self._holding and not self.db.conn.in_transaction:
            self.db.conn.execute("BEGIN IMMEDIATE")
            self._holding = True
            self._counts_before = self.counts.copy()

    def _batched(self, source: str, url: str) -> None:
        if self._holding:
            self._batch.append((source, url))
            if len(self._batch) >= self.batch_size:
                self.flush()

    def _not_extracted(self, page: Page, failure: str) -> IngestResult:
        """A bug in extraction (logged where it happened): counted and reported, the cycle
        goes on."""
        self.counts["articles_failed"] += 1
        self.not_stored.append((page.source, page.url, f"article not extracted: {failure}"))
        return IngestResult("not_stored")

    def _after_save(self, page: Page, post: Post | None = None) -> AfterSave:
        """What happens in the save's transaction: the next revisit, the evidence, and
        what a Telegram post was (its channel, id, origin and links)."""

        def after(db: sqlite_utils.Database, article_id: int, result: SaveResult) -> None:
            if post is not None:
                record_post(db, article_id, post)
            revisit.reschedule(db, article_id, self.config.revisit, clock.now())
            self._keep_evidence(db, article_id, page)

        return after

    def _keep_evidence(self, db: sqlite_utils.Database, article_id: int, page: Page) -> None:
        """Keep the page's raw response as a WARC record if the article has a hit."""
        if self.evidence is None or not evidence.has_raw_response(page):
            return
        if not evidence.article_has_hits(db.conn, article_id):
            return
        try:
            record = self.evidence.write(page)
        except OSError as exc:  # disk full, permissions: the article is still stored
            self.counts["evidence_failed"] += 1
            log.warning("evidence of %s not kept: %s", page.url, exc)
            return
        evidence.link(db.conn, record, article_id, page)
        self.counts["evidence_kept"] += 1

    # --- revisits ---------------------------------------------------------------------------

    def _revisit(self, page: Page, analysis: Analysis | None = None) -> IngestResult:
        """What a fetch of a stored article found: a changed text, the same, or nothing there."""
        article_id = page.revisit_of
        self.counts["articles_revisited"] += 1
        settings = self.config.revisit
        exists = self.db.execute("SELECT 1 FROM articles WHERE id = ?", [article_id]).fetchone()
        if exists is None:
            return IngestResult("gone")
        if page.error:
            revisit.record_failed(self.db, article_id, page.error, settings)
            return IngestResult("failed")
        if page.status == 304:
            with write_transaction(self.db):
                revisit.record_checked(self.db, article_id, page, settings)
                self._keep_evidence(self.db, article_id, page)
            return IngestResult("not_modified")
        if page.status in (404, 410):
            return self._removed(page, f"HTTP {page.status}")
        if page.status != 200:
            revisit.record_failed(self.db, article_id, f"HTTP {page.status}", settings)
            return IngestResult("failed")
        redirected = bool(page.requested_url) and (
            canonicalize(page.requested_url) != canonicalize(page.url)
        )
        if redirected and self._is_front_page(page):
            return self._removed(page, f"redirected to {page.url}, not an article")
        post = post_of_article(self.db, article_id)
        if post is not None:
            return self._revisit_post(page, article_id, *post)
        if analysis is None:
            analysis = self.analyser.page(page) if page.html else Analysis(None)
        if analysis.failure:
            revisit.record_failed(self.db, article_id, "extraction failed", settings)
            return self._not_extracted(page, analysis.failure)
        if analysis.article is None:
            if redirected:
                return self._removed(page, f"redirected to {page.url}, not an article")
            self.counts["not_article"] += 1
            revisit.record_failed(self.db, article_id, "no article text at the URL", settings)
            return IngestResult("failed")
        return self._store(page, analysis, article_id)

    def _revisit_post(
        self, page: Page, article_id: int, channel: str, post_id: int
    ) -> IngestResult:
        """A Telegram post read again alone: its text now, or gone from the channel."""
        source = self._sources.get(page.source)
        found, deleted = read_post(
            page.html,
            source=page.source,
            channel=channel,
            post_id=post_id,
            page_url=page.url,
            fetched_at=page.fetched_at,
            language_hint=source.language if source is not None else "",
        )
        if deleted:
            return self._removed(page, "deleted from the channel")
        article = post_article(found) if found is not None else None
        if found is None or article is None:
            self.counts["not_article"] += 1
            settings = self.config.revisit
            revisit.record_failed(self.db, article_id, "no post text at the URL", settings)
            return IngestResult("failed")
        found = dataclasses.replace(
            found, page_url=page.url, status=page.status, headers=page.headers, body=page.body
        )
        return self._store(page, self.analyser.article(article), article_id, post=found)

    def _removed(self, page: Page, reason: str) -> IngestResult:
        with write_transaction(self.db):
            newly = revisit.record_removed(self.db, page.revisit_of, reason, self.config.revisit)
            self._keep_evidence(self.db, page.revisit_of, page)
        if newly:
            self.counts["articles_removed"] += 1
            log.info("article %s is gone: %s", page.requested_url or page.url, reason)
        return IngestResult("removed")

    def _is_front_page(self, page: Page) -> bool:
        """The page is the site's home page or one of the source's section pages."""
        final = canonicalize(page.url).rstrip("/")
        source = self._sources.get(page.source)
        fronts = {canonicalize(url).rstrip("/") for url in (source.sections if source else ())}
        if source is not None and source.site:
            fronts.add(canonicalize(source.site).rstrip("/"))
        path = final.split("://", 1)[-1].partition("/")[2]
        return final in fronts or path == ""

    def _route(self, watch_id: str) -> tuple[str, ...]:
        return self._routes.get(watch_id, ())
