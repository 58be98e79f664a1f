"""Revisits: which stored articles to fetch again, when, and what a fetch without new text records.

A stored article is fetched again (with a conditional GET: its ETag and
Last-Modified go back as If-None-Match / If-Modified-Since) in two cases:

- **changed**: a sitemap's ``<lastmod>`` or a feed entry's updated date is later
  than the last time the site gave or confirmed its text (``KnownArticle``);
  the spiders check this as they meet the link;
- **scheduled**: its ``next_revisit_at`` has passed. The schedule counts from
  the first fetch: ``[revisit] intervals`` (1 h, 6 h, 24 h, 72 h, 7 d) for an
  article with a hit, ``recent_intervals`` (6 h, 24 h) for one without that was
  published less than ``recent_days`` before it was first fetched, nothing for
  the rest. Each run takes at most ``budget`` due articles, the longest overdue
  first (``due``); after each revisit the next time is the first offset still
  ahead (``reschedule``), so a crawler that was off for days does not make up
  every missed step.

What a revisit finds: a changed text is stored by ``crawler.storage.store.save_article``
(revisions, new hits and their alerts, mentions gone); 304 only confirms the
stored text (``record_checked``); 404, 410 or a redirect to a page that is not
an article marks the article removed (``record_removed``); a temporary failure
(5xx, a timeout) leaves it as it was and waits for its next step
(``record_failed``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from crawler import clock
from crawler.config import Config, RevisitSettings, duration_seconds
from crawler.db import write_transaction
from crawler.models import Page

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Revisit:
    """One stored article to fetch again: where, with which validators, and why."""

    article_id: int
    url: str
    source: str
    etag: str = ""
    last_modified: str = ""
    reason: str = "scheduled"  # "scheduled" (next_revisit_at passed) | "changed" (lastmod)

    def conditional_headers(self) -> dict[str, str]:
        """If-None-Match / If-Modified-Since from the stored validators."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form (a Redis start datum, a request's meta)."""
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Revisit:
        """The revisit ``as_data`` wrote (KeyError / TypeError / ValueError if it is not one)."""
        return cls(
            article_id=int(data["article_id"]),
            url=str(data["url"]),
            source=str(data["source"]),
            etag=str(data.get("etag") or ""),
            last_modified=str(data.get("last_modified") or ""),
            reason=str(data.get("reason") or "scheduled"),
        )


@dataclass(frozen=True)
class KnownArticle:
    """What a spider needs to know about a stored article met again as a link."""

    article_id: int
    checked_at: str  # when the site last gave or confirmed its text
    etag: str = ""
    last_modified: str = ""

    def changed_since_checked(self, updated: str) -> bool:
        """True if ``updated`` (a sitemap lastmod, a feed entry's updated date) is later."""
        when = parse_time(updated)
        checked = parse_time(self.checked_at)
        return when is not None and checked is not None and when > checked

    def revisit(self, url: str, source: str) -> Revisit:
        """The conditional re-fetch of this article at ``url``."""
        return Revisit(self.article_id, url, source, self.etag, self.last_modified, "changed")

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form (the Redis hash crawl workers read)."""
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> KnownArticle:
        """The record ``as_data`` wrote."""
        return cls(
            int(data["article_id"]),
            str(data["checked_at"] or ""),
            str(data.get("etag") or ""),
            str(data.get("last_modified") or ""),
        )


def parse_time(text: str | None) -> datetime | None:
    """A sitemap / feed / stored time as aware UTC; a bare date is its midnight; None if bad."""
    if not text:
        return None
    try:
        return clock.parse(text)
    except ValueError:
        return None


_KNOWN_SQL = (
    "SELECT a.id, COALESCE(MAX(a.fetched_at, COALESCE(a.checked_at, '')), a.fetched_at), "
    "a.etag, a.last_modified FROM article_urls u JOIN articles a ON a.id = u.article_id "
)


def known_article(db: sqlite_utils.Database, urls: Iterable[str]) -> KnownArticle | None:
    """The stored article any of ``urls`` leads to, or None."""
    for url in urls:
        row = db.execute(_KNOWN_SQL + "WHERE u.url = ?", [url]).fetchone()
        if row is not None:
            return KnownArticle(int(row[0]), row[1] or "", row[2] or "", row[3] or "")
    return None


def known_articles(db: sqlite_utils.Database) -> Iterator[tuple[str, KnownArticle]]:
    """Every URL of a stored article with what a spider needs to know (for crawl workers)."""
    for url, article_id, checked_at, etag, last_modified in db.execute(
        "SELECT u.url, a.id, COALESCE(MAX(a.fetched_at, COALESCE(a.checked_at, '')), "
        "a.fetched_at), a.etag, a.last_modified "
        "FROM article_urls u JOIN articles a ON a.id = u.article_id"
    ):
        yield url, KnownArticle(int(article_id), checked_at or "", etag or "", last_modified or "")


def offsets(settings: RevisitSettings, *, has_hits: bool, recent: bool) -> list[timedelta]:
    """The revisit times of an article, as offsets from its first fetch."""
    if has_hits:
        periods = settings.intervals
    elif recent and settings.recent_days > 0:
        periods = settings.recent_intervals
    else:
        periods = ()
    return [timedelta(seconds=duration_seconds(period) or 0) for period in periods]


def next_revisit(
    settings: RevisitSettings,
    *,
    first_fetched_at: str | None,
    published_at: str | None,
    has_hits: bool,
    now: datetime,
) -> str | None:
    """When to fetch the article next: the first offset still ahead of ``now``, or None."""
    if not settings.enabled:
        return None
    first = parse_time(first_fetched_at)
    if first is None:
        return None
    published = parse_time(published_at) or first
    recent = first - published < timedelta(days=settings.recent_days)
    for offset in offsets(settings, has_hits=has_hits, recent=recent):
        if first + offset > now:
            return clock.iso(first + offset)
    return None


def reschedule(
    db: sqlite_utils.Database, article_id: int, settings: RevisitSettings, now: datetime
) -> str | None:
    """Set the article's ``next_revisit_at`` from its schedule (None once it ran out, or
    for a removed article); call inside the caller's write transaction."""
    row = db.execute(
        "SELECT first_fetched_at, fetched_at, published_at, removed_at, "
        "EXISTS (SELECT 1 FROM hits WHERE article_id = articles.id) FROM articles WHERE id = ?",
        [article_id],
    ).fetchone()
    if row is None:
        return None
    first_fetched_at, fetched_at, published_at, removed_at, has_hits = row
    when = None
    if removed_at is None:
        when = next_revisit(
            settings,
            first_fetched_at=first_fetched_at or fetched_at,
            published_at=published_at,
            has_hits=bool(has_hits),
            now=now,
        )
    db.execute("UPDATE articles SET next_revisit_at = ? WHERE id = ?", [when, article_id])
    return when


def due(db: sqlite_utils.Database, config: Config, now: datetime | None = None) -> list[Revisit]:
    """The articles to revisit in this run: due, of a configured source, not removed,
    the longest overdue first, at most ``[revisit] budget``."""
    settings = config.revisit
    names = [source.name for source in config.sources]
    if not settings.enabled or settings.budget <= 0 or not names:
        return []
    marks = ", ".join("?" * len(names))
    rows = db.execute(
        "SELECT id, url, source, etag, last_modified FROM articles "
        "WHERE next_revisit_at IS NOT NULL AND next_revisit_at <= ? AND removed_at IS NULL "
        f"AND source IN ({marks}) ORDER BY next_revisit_at, id LIMIT ?",
        [clock.iso(now or clock.now()), *names, settings.budget],
    ).fetchall()
    return [
        Revisit(int(article_id), url, source, etag or "", last_modified or "")
        for article_id, url, source, etag, last_modified in rows
    ]


def record_checked(
    db: sqlite_utils.Database, article_id: int, page: Page, settings: RevisitSettings
) -> None:
    """A revisit answered 304: the stored text is current; keep any fresh validators."""
    checked_at = page.fetched_at or clock.iso_now()
    with write_transaction(db):
        db.execute(
            "UPDATE articles SET checked_at = ?, etag = COALESCE(?, etag), "
            "last_modified = COALESCE(?, last_modified) WHERE id = ?",
            [checked_at, page.header("etag") or None, page.header("last-modified") or None,
             article_id],
        )
        reschedule(db, article_id, settings, clock.now())


def record_removed(
    db: sqlite_utils.Database, article_id: int, reason: str, settings: RevisitSettings
) -> bool:
    """The article is gone (404, 410, a redirect to a non-article): set ``removed_at`` and stop
    revisiting it. Its text, hits and evidence stay. True if it was not marked removed yet."""
    now = clock.iso_now()
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE articles SET removed_at = ?, removed_reason = ?, checked_at = ? "
            "WHERE id = ? AND removed_at IS NULL",
            [now, reason[:500], now, article_id],
        )
        reschedule(db, article_id, settings, clock.now())
    if cursor.rowcount:
        log.info("article %d removed: %s", article_id, reason)
    return cursor.rowcount == 1


def record_failed(
    db: sqlite_utils.Database, article_id: int, error: str, settings: RevisitSettings
) -> None:
    """A revisit failed for now (5xx, a timeout, robots.txt, no article text at the URL):
    not a removal. The article keeps its text and its schedule; this step is skipped."""
    log.info("revisit of article %d failed: %s", article_id, error)
    with write_transaction(db):
        reschedule(db, article_id, settings, clock.now())
