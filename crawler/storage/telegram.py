"""What the state file keeps about Telegram channels: how far each is read, the posts stored,
and the links that put a post and the article it links into one story.

The tables are created by the ``_telegram`` migration step in ``crawler/storage/store.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

import sqlite_utils

from crawler import clock
from crawler.db import write_transaction
from crawler.extraction.telegram import Post, Progress
from crawler.extraction.urls import canonicalize

__all__ = [
    "load_progress",
    "post_of_article",
    "record_post",
    "save_progress",
    "story_linked_by_post",
    "story_of_linked_article",
]

log = logging.getLogger(__name__)


def load_progress(db: sqlite_utils.Database, source: str, channel: str) -> Progress:
    """How far the source's channel is read; from scratch if it is new or now another
    channel (the config changed)."""
    row = db.execute(
        "SELECT channel, newest_post_id, gaps FROM telegram_channels WHERE source = ?", [source]
    ).fetchone()
    if row is None or str(row[0]).casefold() != channel.casefold():
        return Progress(source, channel)
    try:
        gaps = tuple((int(low), int(high)) for low, high in json.loads(row[2] or "[]"))
    except (ValueError, TypeError):
        gaps = ()
    return Progress(source, channel, int(row[1] or 0), gaps)


def save_progress(db: sqlite_utils.Database, progress: Progress) -> None:
    """Remember how far a channel is read, for the next run."""
    with write_transaction(db):
        db.execute(
            "INSERT INTO telegram_channels (source, channel, newest_post_id, gaps, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET channel = excluded.channel,"
            " newest_post_id = excluded.newest_post_id, gaps = excluded.gaps, "
            "updated_at = excluded.updated_at",
            [
                progress.source,
                progress.channel,
                progress.newest,
                json.dumps([list(gap) for gap in progress.gaps]),
                clock.iso_now(),
            ],
        )


def record_post(db: sqlite_utils.Database, article_id: int, post: Post) -> None:
    """Record what a stored post is (channel, id, origin of a forward) and what it links;
    call inside the transaction that stores the post's article."""
    db.execute(
        "INSERT OR REPLACE INTO telegram_posts (article_id, channel, post_id, forwarded_from,"
        " forwarded_url, links) VALUES (?, ?, ?, ?, ?, ?)",
        [
            article_id,
            post.channel,
            post.id,
            post.forwarded_from or None,
            post.forwarded_url or None,
            json.dumps(list(post.links)),
        ],
    )
    for url in _canonical(post.links):
        db.execute(
            "INSERT OR IGNORE INTO post_links (url, article_id) VALUES (?, ?)", [url, article_id]
        )


def post_of_article(db: sqlite_utils.Database, article_id: int) -> tuple[str, int] | None:
    """(channel, id) of the Telegram post a stored article is, or None."""
    row = db.execute(
        "SELECT channel, post_id FROM telegram_posts WHERE article_id = ?", [article_id]
    ).fetchone()
    return (str(row[0]), int(row[1])) if row is not None else None


def story_of_linked_article(db: sqlite_utils.Database, links: Iterable[str]) -> int | None:
    """For a post: the story of the earliest stored article one of its links leads to."""
    urls = _canonical(links)
    if not urls:
        return None
    row = db.execute(
        "SELECT a.story_id FROM article_urls AS u JOIN articles AS a ON a.id = u.article_id "
        f"WHERE u.url IN ({', '.join('?' * len(urls))}) AND a.story_id IS NOT NULL "
        "ORDER BY a.id LIMIT 1",
        urls,
    ).fetchone()
    return int(row[0]) if row is not None else None


def story_linked_by_post(db: sqlite_utils.Database, urls: Iterable[str]) -> int | None:
    """For an article: the story of the earliest stored post linking one of its URLs."""
    found = _canonical(urls)
    if not found:
        return None
    row = db.execute(
        "SELECT a.story_id FROM post_links AS l JOIN articles AS a ON a.id = l.article_id "
        f"WHERE l.url IN ({', '.join('?' * len(found))}) AND a.story_id IS NOT NULL "
        "ORDER BY a.id LIMIT 1",
        found,
    ).fetchone()
    return int(row[0]) if row is not None else None


def _canonical(urls: Iterable[str]) -> list[str]:
    """The canonical forms of the http(s) URLs given, each once."""
    found: dict[str, None] = {}
    for url in urls:
        if url.startswith(("http://", "https://")):
            try:
                found.setdefault(canonicalize(url), None)
            except ValueError:
                log.debug("not a URL: %r", url)
    return list(found)
