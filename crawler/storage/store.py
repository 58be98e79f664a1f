"""The SQLite state file: schema, migrations and every write the ingest side makes.

One file holds the whole state (sources, articles, stories, hits, alerts,
runs). It is opened in WAL mode with ``synchronous=FULL`` so that an alert row
committed together with its hit survives a crash. Writes that belong together
(an article, its hits and their outbox rows) happen in one ``write_transaction``,
which takes the write lock at ``BEGIN IMMEDIATE``: a transaction that reads
first and writes later would have to upgrade its lock, and SQLite fails such an
upgrade at once when another connection (the review desk) wrote in between,
without waiting out the busy timeout.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from crawler import clock
from crawler.db import BUSY_TIMEOUT_MS, write_transaction
from crawler.matching.scripts import CJK, script_of, undotted
from crawler.matching.searchkey import search_words
from crawler.matching.textnorm import fold
from crawler.models import Article, Hit
from crawler.storage.stories import published_day, save_entities
from crawler.storage.stories import signature as text_signature

if TYPE_CHECKING:
    from crawler.storage.stories import Entities, Signature, StoryIndex, StoryMatch

log = logging.getLogger(__name__)


# The database stores times as ISO 8601 UTC strings; all of them come from the one clock.
utcnow = clock.iso_now
iso = clock.iso
parse_iso = clock.parse


# Each step upgrades the schema by one version; PRAGMA user_version records
# how many have run. Append, never edit a released step.
def _v1(db: sqlite_utils.Database) -> None:
    db.table("sources").create(
        {
            "name": str,
            "url": str,
            "etag": str,
            "last_modified": str,
            "last_ok_at": str,
            "last_error": str,
            "last_error_at": str,
            "consecutive_failures": int,
            "first_run_at": str,
        },
        pk="name",
        defaults={"consecutive_failures": 0},
        not_null={"consecutive_failures"},
    )
    db.table("stories").create(
        {
            "id": int,
            "title": str,
            "first_seen_at": str,
            "last_seen_at": str,
            "article_count": int,
        },
        pk="id",
        defaults={"article_count": 0},
    )
    db.table("articles").create(
        {
            "id": int,
            "url": str,
            "canonical_url": str,
            "source": str,
            "title": str,
            "published_at": str,
            "fetched_at": str,
            "updated_at": str,
            "language": str,
            "text": str,
            "content_hash": str,
            "story_id": int,
        },
        pk="id",
        foreign_keys=[("story_id", "stories", "id")],
        not_null={"canonical_url", "url"},
    )
    db.table("articles").create_index(["canonical_url"], unique=True)
    db.table("articles").create_index(["content_hash"])
    db.table("articles").create_index(["story_id"])
    # Every URL seen to lead to a stored article (fetched, redirected, canonical),
    # so that a link is not fetched again under any of its names.
    db.table("article_urls").create(
        {"url": str, "article_id": int},
        pk="url",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("hits").create(
        {
            "id": int,
            "article_id": int,
            "watch_id": str,
            "story_id": int,
            "matched": str,
            "span_start": int,
            "span_end": int,
            "snippet": str,
            "confidence": float,
            "reason": str,
            "status": str,
            "note": str,
            "created_at": str,
            "reviewed_at": str,
            "reviewed_by": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id"), ("story_id", "stories", "id")],
        defaults={"status": "new"},
        not_null={"article_id", "watch_id", "status"},
    )
    db.table("hits").create_index(["article_id", "watch_id"], unique=True)
    db.table("hits").create_index(["watch_id", "created_at"])
    db.table("hits").create_index(["status"])
    db.table("alerts").create(
        {
            "id": int,
            "idempotency_key": str,
            "watch_id": str,
            "story_id": int,
            "hit_id": int,
            "channel": str,
            "status": str,
            "attempts": int,
            "next_attempt_at": str,
            "lease_until": str,
            "last_error": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
        foreign_keys=[("hit_id", "hits", "id"), ("story_id", "stories", "id")],
        defaults={"status": "pending", "attempts": 0},
        not_null={"idempotency_key", "watch_id", "channel", "status", "attempts"},
    )
    db.table("alerts").create_index(["idempotency_key"], unique=True)
    db.table("alerts").create_index(["status", "next_attempt_at"])
    db.table("runs").create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "exit_code": int,
            "sources_ok": int,
            "sources_failed": int,
            "sources_not_modified": int,
            "pages_fetched": int,
            "articles_new": int,
            "articles_duplicate": int,
            "hits": int,
            "stories_new": int,
            "alerts_queued": int,
            "alerts_sent": int,
            "alerts_failed": int,
            "alerts_pending": int,
            "failed_sources": str,
            "error": str,
        },
        pk="id",
    )


def _review_search_and_history(db: sqlite_utils.Database) -> None:
    """Full-text search over articles (Datasette finds it) and a log of review verdicts."""
    db.table("articles").enable_fts(["title", "text"], tokenize="unicode61 remove_diacritics 2")
    # sqlite-utils' own update trigger fires on every UPDATE; re-indexing an article
    # only when its words change keeps story re-assignment (story_id) cheap.
    db.execute(
        "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN "
        "INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, new.text); END"
    )
    db.execute(
        "CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN "
        "INSERT INTO articles_fts (articles_fts, rowid, title, text) "
        "VALUES ('delete', old.id, old.title, old.text); END"
    )
    db.execute(
        "CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, text ON articles BEGIN "
        "INSERT INTO articles_fts (articles_fts, rowid, title, text) "
        "VALUES ('delete', old.id, old.title, old.text); "
        "INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, new.text); END"
    )
    db.table("reviews").create(
        {"id": int, "hit_id": int, "status": str, "note": str, "actor": str, "at": str},
        pk="id",
        foreign_keys=[("hit_id", "hits", "id")],
        not_null={"hit_id", "actor", "at"},
    )
    db.table("reviews").create_index(["hit_id"])


def _alert_delivery_state(db: sqlite_utils.Database) -> None:
    """Digests, channel health, first runs and source alerts: the tables ``alerts/`` keeps."""
    db.table("alerts").add_column("batch_id", int)
    db.table("alert_batches").create(
        {
            "id": int,
            "channel": str,
            "kind": str,  # digest | summary
            "message_id": str,
            "items": int,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"channel", "kind", "items"},
    )
    db.table("alert_channels").create(
        {
            "channel": str,
            "disabled_at": str,
            "disabled_reason": str,
            "config_hash": str,
            "rest_until": str,
        },
        pk="channel",
    )
    db.table("alert_watches").create({"watch_id": str, "first_run_at": str}, pk="watch_id")
    db.table("alert_settings").create({"name": str, "value": str}, pk="name")
    db.table("alert_sources").create(
        {"source": str, "failing": int, "since": str, "notified_at": str},
        pk="source",
        defaults={"failing": 0},
        not_null={"failing"},
    )


def _stories_and_revisions(db: sqlite_utils.Database) -> None:
    """MinHash signatures for near-duplicate stories, and earlier texts of updated articles."""
    db.table("article_signatures").create(
        {"article_id": int, "seen_at": str, "scheme": str, "signature": bytes},
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"seen_at", "scheme", "signature"},
    )
    db.table("article_signatures").create_index(["seen_at"])
    db.table("article_revisions").create(
        {
            "id": int,
            "article_id": int,
            "content_hash": str,
            "title": str,
            "text": str,
            "fetched_at": str,
            "replaced_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"article_id", "replaced_at"},
    )
    db.table("article_revisions").create_index(["article_id"])
    # How the article joined its story: 1.0 identical text, else the estimated Jaccard
    # similarity to the closest member; NULL for the article that started the story.
    db.table("articles").add_column("story_similarity", float)
    db.table("hits").create_index(["story_id", "watch_id"])


def _run_alert_counts(db: sqlite_utils.Database) -> None:
    """Every alert of a run counted once: carried over, summarised, retrying, dead, withdrawn."""
    runs = db.table("runs")
    for column in (
        "alerts_carried",
        "alerts_summarized",
        "alerts_retrying",
        "alerts_dead",
        "alerts_withdrawn",
    ):
        runs.add_column(column, int)


def _hits_hidden_title(db: sqlite_utils.Database) -> None:
    """A redacted watch's headline with the name hidden, computed when the hit is stored."""
    db.table("hits").add_column("hidden_title", str)


def _no_alert_settings(db: sqlite_utils.Database) -> None:
    """backfill_hours is handed to the outbox by the run, no longer kept in a table."""
    db.table("alert_settings").drop(ignore=True)


def _runs_articles_failed(db: sqlite_utils.Database) -> None:
    """Articles fetched but not stored (the database stayed locked): counted per run."""
    db.table("runs").add_column("articles_failed", int)


def _revisits_and_evidence(db: sqlite_utils.Database) -> None:
    """Articles fetched again (validators, schedule, removal), hits gone from a text, and
    the evidence table linking each kept raw response (a WARC record) to its article."""
    articles = db.table("articles")
    for column in (
        "etag",  # the validators of the last response, sent back on the next fetch
        "last_modified",
        "first_fetched_at",  # revisits are counted from here
        "checked_at",  # when the site last confirmed the stored text (200 or 304)
        "next_revisit_at",
        "removed_at",  # a revisit found it gone (404, 410, a redirect to a non-article)
        "removed_reason",
    ):
        articles.add_column(column, str)
    db.execute("UPDATE articles SET first_fetched_at = fetched_at, checked_at = fetched_at")
    articles.create_index(["next_revisit_at"])
    hits = db.table("hits")
    hits.add_column("removed_at", str)  # the mention is gone from the article's current text
    hits.add_column("article_updated_at", str)  # found only in a changed text, at this time
    db.table("evidence").create(
        {
            "id": int,
            "article_id": int,
            "fetched_at": str,
            "url": str,
            "requested_url": str,
            "status": int,
            "sha256": str,  # of the body as the crawler received it (after decompression)
            "body_bytes": int,
            "warc_file": str,  # relative to the database's folder
            "warc_offset": int,
            "warc_length": int,
            "warc_record_id": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"article_id", "fetched_at", "sha256", "warc_file", "warc_offset"},
    )
    db.table("evidence").create_index(["article_id"])
    db.table("removal_notices").create(
        {
            "key": str,  # the notice's idempotency key: its webhook-id and Message-ID
            "kind": str,  # article.removed | mention.removed
            "article_id": int,
            "hit_id": int,
            "watch_id": str,
            "channel": str,
            "status": str,  # sent | failed | dead
            "attempts": int,
            "last_error": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="key",
        not_null={"kind", "watch_id", "channel", "status"},
    )
    runs = db.table("runs")
    for column in (
        "articles_revisited",
        "articles_changed",
        "articles_removed",
        "removals_notified",
        "removals_failed",
    ):
        runs.add_column(column, int)


def _quiet_sources_and_watches(db: sqlite_utils.Database) -> None:
    """Source status and rhythm (``crawler.run.staleness``), and what quiet watches were told."""
    sources = db.table("sources")
    sources.add_column("status", str)  # ok | failing | stale
    for column in ("last_new_article_at", "stale_since", "stale_reason"):
        sources.add_column(column, str)
    sources.add_column("stale_after_seconds", float)
    sources.add_column("usual_gap_seconds", float)
    # One row per run that gave a source new articles: its rhythm is learned from these.
    db.table("source_arrivals").create({"source": str, "seen_at": str}, pk=("source", "seen_at"))
    # Arrivals before this step: one per run whose time span holds a stored article's
    # first fetch, else that time itself.
    db.execute(
        "INSERT OR IGNORE INTO source_arrivals (source, seen_at) "
        "SELECT a.source, COALESCE((SELECT r.finished_at FROM runs r WHERE "
        "COALESCE(a.first_fetched_at, a.fetched_at) BETWEEN r.started_at AND r.finished_at "
        "ORDER BY r.id LIMIT 1), COALESCE(a.first_fetched_at, a.fetched_at)) "
        "FROM articles a WHERE a.source IS NOT NULL AND a.fetched_at IS NOT NULL"
    )
    db.execute(
        "UPDATE sources SET last_new_article_at = (SELECT MAX(seen_at) FROM source_arrivals "
        "WHERE source_arrivals.source = sources.name), status = CASE WHEN "
        "consecutive_failures > 0 THEN 'failing' ELSE 'ok' END"
    )
    alert_sources = db.table("alert_sources")
    alert_sources.add_column("stale", int, not_null_default=0)
    alert_sources.add_column("stale_since", str)
    db.table("runs").add_column("sources_stale", int)
    db.table("runs").add_column("stale_sources", str)
    # Per (watch, channel): the start of the silent period it was last told about.
    db.table("alert_silences").create(
        {"watch_id": str, "channel": str, "since": str, "notified_at": str},
        pk=("watch_id", "channel"),
    )


def _hits_mentions(db: sqlite_utils.Database) -> None:
    """How often the article mentions the watch, and where (JSON [[start, end], ...])."""
    db.table("hits").add_column("mention_count", int)
    db.table("hits").add_column("mention_spans", str)


def _article_search(db: sqlite_utils.Database) -> None:
    """A search index across scripts and case forms: each article's words as search keys
    (``crawler.matching.searchkey``: Kemarova, Кемаровой, Kemarovanyng are one), rowid = id."""
    db.execute("CREATE VIRTUAL TABLE articles_search USING fts5(words, tokenize='unicode61')")
    _index_stored_articles(db, _index_for_search)


def _index_stored_articles(
    db: sqlite_utils.Database, index: Callable[[sqlite_utils.Database, int, str, str], None]
) -> None:
    """Give every stored article its row of a new index, 500 articles in memory at a time."""
    last = 0
    while rows := db.execute(
        "SELECT id, title, text FROM articles WHERE id > ? ORDER BY id LIMIT 500", [last]
    ).fetchall():
        for article_id, title, text in rows:
            index(db, article_id, title or "", text or "")
        last = rows[-1][0]


def _index_for_search(
    db: sqlite_utils.Database, article_id: int, title: str, text: str, words: str | None = None
) -> None:
    """(Re)write an article's row of the search index, in the caller's transaction
    (``words``: ``search_words(title, text)`` if already computed)."""
    db.execute("DELETE FROM articles_search WHERE rowid = ?", [article_id])
    db.execute(
        "INSERT INTO articles_search (rowid, words) VALUES (?, ?)",
        [article_id, words if words is not None else search_words(title, text)],
    )


@dataclass(frozen=True, eq=False)
class Prepared:
    """What storing an article computes from its title and text alone: its search words, its
    story signature and (CJK text) its trigram index row. ``prepare`` makes it ahead, in a
    worker process, so that the one writer of the state file spends its time writing."""

    words: str
    signature: Signature | None
    unspaced: tuple[str, str] | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Prepared):
            return NotImplemented
        return (
            self.words == other.words
            and self.unspaced == other.unspaced
            and _signature_bytes(self) == _signature_bytes(other)
        )

    __hash__ = None  # type: ignore[assignment]


def _signature_bytes(prepared: Prepared) -> bytes | None:
    return None if prepared.signature is None else prepared.signature.tobytes()


def prepare(article: Article) -> Prepared:
    """The search words and story signature ``save_article`` would compute for ``article``."""
    return Prepared(
        search_words(article.title, article.text),
        text_signature(article.text),
        _unspaced(article.title, article.text),
    )


def _article_entities(db: sqlite_utils.Database) -> None:
    """Names, numbers and watched people of articles with hits: stories across languages."""
    db.table("article_entities").create(
        {
            "article_id": int,
            "seen_at": str,
            "language": str,
            "day": int,  # publication day, proleptic Gregorian ordinal
            "words": str,  # search keys, space-separated
            "watches": str,  # watch ids, space-separated
        },
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"seen_at", "language", "day", "words", "watches"},
    )
    db.table("article_entities").create_index(["seen_at"])


def _telegram(db: sqlite_utils.Database) -> None:
    """Telegram channels: how far each is read, what each stored post was, what it links."""
    db.table("telegram_channels").create(
        {"source": str, "channel": str, "newest_post_id": int, "gaps": str, "updated_at": str},
        pk="source",
        not_null={"channel"},
    )
    db.table("telegram_posts").create(
        {
            "article_id": int,
            "channel": str,
            "post_id": int,
            "forwarded_from": str,
            "forwarded_url": str,
            "links": str,  # JSON list of the post's http(s) links
        },
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"channel", "post_id"},
    )
    db.table("telegram_posts").create_index(["channel", "post_id"])
    # A stored post's links (canonical URLs): an article fetched later under one of them
    # joins the post's story.
    db.table("post_links").create(
        {"url": str, "article_id": int},
        pk=("url", "article_id"),
        foreign_keys=[("article_id", "articles", "id")],
    )


def _cjk_search(db: sqlite_utils.Database) -> None:
    """A trigram index beside the word index, for scripts written without spaces (Chinese,
    Japanese): any three characters in a row are found, wherever words begin. It holds the
    folded title and text (traditional characters as simplified) of articles that have
    such characters without the middle dots of transcribed names, rowid = article id."""
    db.execute("CREATE VIRTUAL TABLE articles_trigram USING fts5(title, text, tokenize='trigram')")
    _index_stored_articles(db, _index_unspaced)


def _index_unspaced(
    db: sqlite_utils.Database,
    article_id: int,
    title: str,
    text: str,
    prepared: Prepared | None = None,
) -> None:
    """(Re)write an article's row of the trigram index when it has CJK characters
    (``prepared``: the row, or None, already worked out)."""
    db.execute("DELETE FROM articles_trigram WHERE rowid = ?", [article_id])
    row = prepared.unspaced if prepared is not None else _unspaced(title, text)
    if row is not None:
        db.execute(
            "INSERT INTO articles_trigram (rowid, title, text) VALUES (?, ?, ?)",
            [article_id, *row],
        )


def _unspaced(title: str, text: str) -> tuple[str, str] | None:
    """The trigram index's title and text of an article with CJK characters, else None."""
    if script_of(title) == CJK or script_of(text) == CJK:
        return undotted(fold(title).text), undotted(fold(text).text)
    return None


def _desk_accounts(db: sqlite_utils.Database) -> None:
    """Editors' accounts for the review desk, failed logins per account and address, feed
    tokens, and how each verdict's author had signed in (``reviews.via``)."""
    db.table("accounts").create(
        {
            "name": str,
            "password_hash": str,
            "created_at": str,
            "password_changed_at": str,
            "session_version": int,
        },
        pk="name",
        not_null={"password_hash", "session_version"},
    )
    db.table("login_failures").create(
        {"key": str, "failures": int, "window_started_at": str, "locked_until": str}, pk="key"
    )
    db.table("feed_tokens").create(
        {
            "id": int,
            "account": str,
            "token_sha256": str,
            "created_at": str,
            "revoked_at": str,
        },
        pk="id",
        not_null={"account", "token_sha256"},
    )
    db.table("feed_tokens").create_index(["token_sha256"], unique=True)
    db.table("reviews").add_column("via", str)


def _hits_url_names_watch(db: sqlite_utils.Database) -> None:
    """A redacted watch's hit whose article URL names the watch: channels link to the desk."""
    db.table("hits").add_column("url_names_watch", int)


def _runs_interrupted(db: sqlite_utils.Database) -> None:
    """Why a run could not go to the end (distributed mode: Redis unreachable), or ""."""
    db.table("runs").add_column("interrupted", str)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1,
    _review_search_and_history,
    _alert_delivery_state,
    _stories_and_revisions,
    _run_alert_counts,
    _runs_articles_failed,
    _hits_hidden_title,
    _no_alert_settings,
    _revisits_and_evidence,
    _quiet_sources_and_watches,
    _hits_mentions,
    _article_search,
    _article_entities,
    _telegram,
    _cjk_search,
    _desk_accounts,
    _hits_url_names_watch,
    _runs_interrupted,
]


def open_database(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the state file, in WAL mode, migrated to the latest schema."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    # A write waits this long for the desk or a delivery to finish theirs (ms).
    db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.enable_wal()
    db.conn.execute("PRAGMA synchronous = FULL")
    db.conn.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    return db


def migrate(db: sqlite_utils.Database) -> int:
    """Run the migration steps not yet applied; return the schema version."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with write_transaction(db):
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
        log.info("database migrated to schema version %d", number)
    return len(MIGRATIONS)


@dataclass
class SourceState:
    """What the database remembers about a source between runs."""

    etag: str | None = None
    last_modified: str | None = None
    first_run_at: str | None = None
    consecutive_failures: int = 0


def source_state(db: sqlite_utils.Database, name: str) -> SourceState:
    """Stored conditional-GET validators and health of a source."""
    row = db.execute(
        "SELECT etag, last_modified, first_run_at, consecutive_failures FROM sources "
        "WHERE name = ?",
        [name],
    ).fetchone()
    if row is None:
        return SourceState()
    return SourceState(row[0], row[1], row[2], row[3] or 0)


def record_source_ok(
    db: sqlite_utils.Database,
    name: str,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    keep_validators: bool = False,
    note: str = "",
) -> None:
    """Mark a source fetched; store its validators unless it answered 304. A ``note`` (some
    of its articles could not be fetched) becomes its ``last_error``; it stays ok."""
    now = utcnow()
    with write_transaction(db):
        _ensure_source(db, name, url, now)
        if note:
            db.execute(
                "UPDATE sources SET last_error = ?, last_error_at = ? WHERE name = ?",
                [note[:2000], now, name],
            )
        if keep_validators:
            db.execute(
                "UPDATE sources SET url = ?, last_ok_at = ?, consecutive_failures = 0 "
                "WHERE name = ?",
                [url, now, name],
            )
        else:
            db.execute(
                "UPDATE sources SET url = ?, last_ok_at = ?, consecutive_failures = 0, "
                "etag = ?, last_modified = ? WHERE name = ?",
                [url, now, etag, last_modified, name],
            )


def record_source_failure(db: sqlite_utils.Database, name: str, url: str, error: str) -> None:
    """Count one more failure of a source and keep the error text."""
    now = utcnow()
    with write_transaction(db):
        _ensure_source(db, name, url, now)
        db.execute(
            "UPDATE sources SET last_error = ?, last_error_at = ?, "
            "consecutive_failures = consecutive_failures + 1 WHERE name = ?",
            [error[:2000], now, name],
        )


def _ensure_source(db: sqlite_utils.Database, name: str, url: str, now: str) -> None:
    db.execute(
        "INSERT OR IGNORE INTO sources (name, url, first_run_at, consecutive_failures) "
        "VALUES (?, ?, ?, 0)",
        [name, url, now],
    )


def known_url(db: sqlite_utils.Database, url: str) -> bool:
    """True if this URL (any name of a stored article) is already stored."""
    return (
        db.execute("SELECT 1 FROM article_urls WHERE url = ? LIMIT 1", [url]).fetchone() is not None
    )


@dataclass
class SaveResult:
    """What storing one article did."""

    article_id: int | None = None
    story_id: int | None = None
    duplicate: bool = False  # the canonical URL was already stored
    updated: bool = False  # ... and its text had changed (the old one kept as a revision)
    restored: bool = False  # ... and it had been marked removed
    mentions_removed: int = 0  # hits whose watch the changed text no longer mentions
    new_story: bool = False
    cross_language: bool = False  # joined its story as another language's version
    similarity: float | None = None  # how it joined its story: 1.0 same text, else estimated
    hit_ids: list[int] = field(default_factory=list)
    alerts_queued: int = 0
    alerts_suppressed: int = 0  # hits in stories an editor marked irrelevant for the watch


# Called inside the save's transaction once the article and its hits are written:
# ``after(db, article_id, result)`` (the ingest schedules the next revisit and keeps evidence).
AfterSave = Callable[[sqlite_utils.Database, int, "SaveResult"], None]


# Given a watch id, the channels its alerts go to.
ChannelRouter = Callable[[str], Iterable[str]]


# Writes the alert rows of one new hit, in the caller's transaction:
# ``enqueue(db, hit, hit_id, story_id, channels, now) -> rows queued``.
Enqueue = Callable[[sqlite_utils.Database, Hit, int, int, Iterable[str], str], int]


def save_article(
    db: sqlite_utils.Database,
    article: Article,
    hits: Iterable[Hit],
    route: ChannelRouter,
    enqueue: Enqueue,
    *,
    stories: StoryIndex | None = None,
    entities: Entities | None = None,
    article_id: int | None = None,
    after: AfterSave | None = None,
    join_story: int | None = None,
    prepared: Prepared | None = None,
) -> SaveResult:
    """Store an article, its hits and their outbox rows in one transaction.

    ``enqueue(db, hit, hit_id, story_id, channels, now)`` writes the alert rows
    (it is ``alerts.outbox.enqueue``; passed in so storage stays independent of
    delivery) and returns how many it queued. Its key is (watch, story, channel),
    so a later article of a story queues nothing; a watch whose hits in the story
    an editor marked irrelevant is not queued at all.

    The article joins the story of an earlier article with the same text, or, given
    ``stories``, of the most similar recent one (``crawler.storage.stories``), or, given its
    ``entities`` (names, numbers and watched people, ``crawler.storage.stories.entities``),
    of its version in another language; else it starts a story. A canonical URL already stored
    (or ``article_id``, for a revisit) is a duplicate. If its text changed, the new text
    replaces the old (kept in ``article_revisions``), a watch found only in the new text
    gets its hit (marked ``article_updated_at``) and, by the same (watch, story) rule,
    its alert; a stored hit whose watch the new text no longer mentions gets
    ``removed_at``. ``after`` runs last, in the same transaction.
    ``join_story`` names a story a new article belongs to whatever its text (a post
    and the article it links). ``prepared``: ``prepare(article)``, made elsewhere.
    """
    now = utcnow()
    result = SaveResult()
    hits = tuple(hits)
    sig: Signature | None = None
    if stories is not None:
        sig = prepared.signature if prepared is not None else stories.signature(article.text)
    words = prepared.words if prepared is not None else None
    with write_transaction(db):
        if article_id is not None:
            existing = db.execute(
                "SELECT id, story_id, content_hash, removed_at FROM articles WHERE id = ?",
                [article_id],
            ).fetchone()
        else:
            existing = db.execute(
                "SELECT id, story_id, content_hash, removed_at FROM articles "
                "WHERE canonical_url = ?",
                [article.canonical_url],
            ).fetchone()
        if existing is not None:
            article_id, story_id, old_hash, removed_at = existing
            result.duplicate = True
            result.article_id, result.story_id = article_id, story_id
            _remember_urls(db, article, article_id)
            if old_hash != article.content_hash:
                result.updated = True
                _record_update(db, article, article_id, now, prepared)
                inserted = _insert_hits(db, article_id, story_id, hits, now, updated_at=now)
                _queue_alerts(db, inserted, story_id, route, enqueue, now, result)
                result.mentions_removed = _mark_mentions(db, article_id, hits, now)
                if stories is not None and sig is not None:
                    stories.store(db, article_id, sig, now)
            _record_fetch(db, article, article_id, now)
            if removed_at is not None:
                result.restored = True
                db.execute(
                    "UPDATE articles SET removed_at = NULL, removed_reason = NULL WHERE id = ?",
                    [article_id],
                )
        else:
            story_id, result.similarity = _story_for(db, article, sig, stories, join_story)
            cross = _cross_language(article, stories, entities) if story_id is None else None
            if cross is not None:
                story_id, result.similarity = cross.story_id, cross.similarity
                result.cross_language = True
            if story_id is None:
                story_id = _insert(
                    db,
                    "stories",
                    {
                        "title": article.title,
                        "first_seen_at": now,
                        "last_seen_at": now,
                        "article_count": 0,
                    },
                )
                result.new_story = True
            db.execute(
                "UPDATE stories SET article_count = article_count + 1, last_seen_at = ? "
                "WHERE id = ?",
                [now, story_id],
            )
            fetched_at = article.fetched_at or now
            article_id = _insert(
                db,
                "articles",
                {
                    "url": article.url,
                    "canonical_url": article.canonical_url,
                    "source": article.source,
                    "title": article.title,
                    "published_at": article.published_at,
                    "fetched_at": fetched_at,
                    "first_fetched_at": fetched_at,
                    "checked_at": fetched_at,
                    "language": article.language,
                    "text": article.text,
                    "content_hash": article.content_hash,
                    "story_id": story_id,
                    "story_similarity": result.similarity,
                    "etag": article.etag or None,
                    "last_modified": article.last_modified or None,
                },
            )
            _remember_urls(db, article, article_id)
            _index_for_search(db, article_id, article.title, article.text, words)
            _index_unspaced(db, article_id, article.title, article.text, prepared)
            if stories is not None and sig is not None:
                stories.store(db, article_id, sig, now)
            day = published_day(article)
            keep_entities = entities is not None and entities.watches and article.language
            if keep_entities and day is not None:
                assert entities is not None and article.language
                save_entities(db, article_id, article.language, day, entities, now)
            result.article_id, result.story_id = article_id, story_id
            inserted = _insert_hits(db, article_id, story_id, hits, now)
            _queue_alerts(db, inserted, story_id, route, enqueue, now, result)
        if after is not None:
            after(db, int(article_id), result)
    # Only a committed article may be found by the next one.
    if stories is not None and sig is not None and (result.updated or not result.duplicate):
        stories.add(int(result.article_id or 0), int(result.story_id or 0), sig)
    day = published_day(article)
    fresh = stories is not None and not result.duplicate and day is not None
    if fresh and entities is not None and entities.watches and article.language:
        assert stories is not None and day is not None
        stories.cross.add(
            int(result.article_id or 0), int(result.story_id or 0), article.language, day,
            entities,
        )  # fmt: skip
    return result


def _cross_language(
    article: Article, stories: StoryIndex | None, entities: Entities | None
) -> StoryMatch | None:
    """The story of this article's version in another language, if one was seen."""
    day = published_day(article)
    if stories is None or entities is None or not entities.watches or day is None:
        return None
    if not article.language:
        return None
    match = stories.cross.find(article.language, day, entities)
    if match is not None:
        log.debug(
            "%s joins story %d across languages (%.2f of names and numbers shared with "
            "article %d)",
            article.canonical_url,
            match.story_id,
            match.similarity,
            match.article_id,
        )
    return match


def story_versions(db: sqlite_utils.Database, story_id: int) -> dict[str, list[str]]:
    """A story's articles by language: {"en": [url, ...], "ru": [...]}, oldest first."""
    versions: dict[str, list[str]] = {}
    for language, url in db.execute(
        "SELECT COALESCE(language, ''), url FROM articles WHERE story_id = ? ORDER BY id",
        [story_id],
    ).fetchall():
        versions.setdefault(language, []).append(url)
    return versions


def _queue_alerts(
    db: sqlite_utils.Database,
    inserted: list[tuple[Hit, int]],
    story_id: int,
    route: ChannelRouter,
    enqueue: Enqueue,
    now: str,
    result: SaveResult,
) -> None:
    """Queue the alerts of newly stored hits, unless an editor dismissed the watch's story."""
    for hit, hit_id in inserted:
        result.hit_ids.append(hit_id)
        if _marked_irrelevant(db, hit.watch_id, story_id):
            result.alerts_suppressed += 1
            continue
        result.alerts_queued += enqueue(db, hit, hit_id, story_id, route(hit.watch_id), now)


def _mark_mentions(
    db: sqlite_utils.Database, article_id: int, hits: tuple[Hit, ...], now: str
) -> int:
    """After a text changed: hits of watches it no longer mentions are removed (``removed_at``),
    those it mentions again are not; return how many were newly removed."""
    found = sorted({hit.watch_id for hit in hits})
    marks = ", ".join("?" * len(found))
    not_found = f"AND watch_id NOT IN ({marks})" if found else ""
    removed = db.execute(
        f"UPDATE hits SET removed_at = ? WHERE article_id = ? AND removed_at IS NULL {not_found}",
        [now, article_id, *found],
    ).rowcount
    if found:
        db.execute(
            "UPDATE hits SET removed_at = NULL WHERE article_id = ? AND removed_at IS NOT NULL "
            f"AND watch_id IN ({marks})",
            [article_id, *found],
        )
    return max(removed, 0)


def _record_fetch(db: sqlite_utils.Database, article: Article, article_id: int, now: str) -> None:
    """A stored article was fetched again: when, and the validators to send next time."""
    fetched_at = article.fetched_at or now
    db.execute(
        "UPDATE articles SET fetched_at = ?, checked_at = ?, etag = ?, last_modified = ? "
        "WHERE id = ?",
        [fetched_at, fetched_at, article.etag or None, article.last_modified or None, article_id],
    )


def _insert(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> int:
    """Insert one row (of an integer-keyed table, with our own column names); return its key.

    Plain SQL rather than ``Table.insert``, which reads the table's schema on every call:
    that was half the single writer's time per article."""
    columns = ", ".join(f"[{name}]" for name in row)
    marks = ", ".join("?" for _ in row)
    cursor = db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(row.values()))
    return int(cursor.lastrowid or 0)


def _insert_hits(
    db: sqlite_utils.Database,
    article_id: int,
    story_id: int,
    hits: Iterable[Hit],
    now: str,
    *,
    updated_at: str | None = None,
) -> list[tuple[Hit, int]]:
    """Insert the article's hits not already stored; return them with their new ids.

    ``updated_at``: the hits were found in a changed text, at that time.
    """
    inserted = []
    for hit in hits:
        cursor = db.execute(
            "INSERT OR IGNORE INTO hits (article_id, watch_id, story_id, matched, span_start, "
            "span_end, snippet, confidence, reason, hidden_title, mention_count, mention_spans, "
            "status, created_at, article_updated_at, url_names_watch) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?)",
            [
                article_id,
                hit.watch_id,
                story_id,
                hit.matched,
                hit.start,
                hit.end,
                hit.snippet,
                hit.confidence,
                hit.reason,
                hit.hidden_title or None,
                len(hit.mentions) or 1,
                json.dumps([list(span) for span in hit.mentions or ((hit.start, hit.end),)]),
                now,
                updated_at,
                1 if hit.url_names_watch else None,
            ],
        )
        if cursor.rowcount == 1:
            inserted.append((hit, int(cursor.lastrowid or 0)))
    return inserted


def _story_for(
    db: sqlite_utils.Database,
    article: Article,
    sig: Signature | None,
    stories: StoryIndex | None,
    join_story: int | None = None,
) -> tuple[int | None, float | None]:
    """The story an article joins, and how similar it is to it; (None, None) for a new story.

    First the story it was told to join, then an earlier article with the same
    normalised text (at any age), then the most similar article of the last
    ``window_days`` at or above the index's threshold.
    """
    if join_story is not None:
        found = db.execute("SELECT 1 FROM stories WHERE id = ?", [join_story]).fetchone()
        if found is not None:
            return join_story, None
    if article.content_hash:
        row = db.execute(
            "SELECT story_id FROM articles WHERE content_hash = ? AND story_id IS NOT NULL "
            "ORDER BY id LIMIT 1",
            [article.content_hash],
        ).fetchone()
        if row is not None:
            return int(row[0]), 1.0
    if stories is not None and sig is not None:
        match = stories.find(sig)
        if match is not None:
            log.debug(
                "%s joins story %d (%.2f similar to article %d)",
                article.canonical_url,
                match.story_id,
                match.similarity,
                match.article_id,
            )
            return match.story_id, match.similarity
    return None, None


def _marked_irrelevant(db: sqlite_utils.Database, watch_id: str, story_id: int) -> bool:
    """Whether an editor marked a hit of this watch in this story irrelevant."""
    row = db.execute(
        "SELECT 1 FROM hits WHERE story_id = ? AND watch_id = ? AND status = 'irrelevant' LIMIT 1",
        [story_id, watch_id],
    ).fetchone()
    return row is not None


def _record_update(
    db: sqlite_utils.Database,
    article: Article,
    article_id: int,
    now: str,
    prepared: Prepared | None,
) -> None:
    """Keep the stored text as a revision and put the new one in its place."""
    db.execute(
        "INSERT INTO article_revisions (article_id, content_hash, title, text, fetched_at, "
        "replaced_at) SELECT id, content_hash, title, text, fetched_at, ? FROM articles "
        "WHERE id = ?",
        [now, article_id],
    )
    db.execute(
        "UPDATE articles SET title = ?, text = ?, content_hash = ?, language = ?, "
        "published_at = COALESCE(?, published_at), fetched_at = ?, updated_at = ? WHERE id = ?",
        [
            article.title,
            article.text,
            article.content_hash,
            article.language,
            article.published_at,
            article.fetched_at or now,
            now,
            article_id,
        ],
    )
    words = prepared.words if prepared is not None else None
    _index_for_search(db, article_id, article.title, article.text, words)
    _index_unspaced(db, article_id, article.title, article.text, prepared)
    db.execute(
        "UPDATE stories SET last_seen_at = ? WHERE id = (SELECT story_id FROM articles "
        "WHERE id = ?)",
        [now, article_id],
    )


def _remember_urls(db: sqlite_utils.Database, article: Article, article_id: int) -> None:
    for url in {article.url, article.canonical_url, *article.other_urls}:
        if url:
            db.execute(
                "INSERT OR IGNORE INTO article_urls (url, article_id) VALUES (?, ?)",
                [url, article_id],
            )


def start_run(db: sqlite_utils.Database) -> int:
    """Insert a ``runs`` row for a cycle that starts now; return its id.

    Called under the run lock, so a row still ``running`` belongs to a run that
    was killed: it is closed as ``aborted`` first.
    """
    now = utcnow()
    with write_transaction(db):
        aborted = db.execute(
            "UPDATE runs SET status = 'aborted', finished_at = ? WHERE status = 'running'", [now]
        ).rowcount
        if aborted:
            log.warning("%d earlier run(s) ended without finishing; marked aborted", aborted)
        return _insert(db, "runs", {"started_at": now, "status": "running"})


def finish_run(db: sqlite_utils.Database, run_id: int, status: str, counts: dict[str, Any]) -> None:
    """Close a ``runs`` row with its status and counts."""
    with write_transaction(db):
        db.table("runs").update(run_id, {"finished_at": utcnow(), "status": status, **counts})
