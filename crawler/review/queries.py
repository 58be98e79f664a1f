"""What the review desk reads and writes: the queue, precision, dashboard figures, verdicts.

Plain functions over a ``sqlite3.Connection``, so Datasette runs them in its
thread pool (``Database.execute_fn`` / ``execute_write_fn``), and a test or a
benchmark calls them directly.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlite_utils

from alerts.outbox import status as outbox_status
from crawler.db import immediate
from crawler.matching.scripts import CJK, DOT, script_of, undotted
from crawler.matching.searchkey import fts_query, search_key
from crawler.matching.textnorm import fold, tokenize

# Verdicts an editor can give; 'new' puts a hit back in the queue.
STATUSES = ("new", "relevant", "irrelevant", "follow-up")
PAGE_SIZE = 25  # stories per queue page
OTHER_ARTICLES = 8  # other articles listed per story
MAX_NOTE = 2000
MAX_BULK = 1000  # hits one verdict request may change
SEARCH_LIMIT = 50
MAX_PAGE = 10**9  # a larger page number is past the end anyway (and would overflow OFFSET)

DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The date a hit is filed under: its article's publication date, else when it was found.
HIT_DATE = "substr(COALESCE(a.published_at, h.created_at), 1, 10)"

# The queue's filters, shared by the queue page and its CSV/JSON export (a canned
# query). An empty parameter means "any"; an empty status means 'new'.
FILTER_SQL = f"""(:watch = '' OR h.watch_id = :watch)
  AND (:status = 'all' OR h.status = COALESCE(NULLIF(:status, ''), 'new'))
  AND (:source = '' OR a.source = :source)
  AND (:language = '' OR a.language = :language)
  AND (:story = '' OR h.story_id = :story)
  AND (:since = '' OR {HIT_DATE} >= :since)
  AND (:until = '' OR {HIT_DATE} <= :until)"""

# Hits grouped by story; a hit whose article has no story is a story of its own.
STORY_KEY = "COALESCE(h.story_id, -h.article_id)"

EXPORT_SQL = f"""SELECT h.id AS hit_id, h.watch_id, h.status, h.note, h.reviewed_by, h.reviewed_at,
  a.title, a.url, a.source, a.published_at, a.language, h.story_id, h.matched, h.reason,
  h.confidence, h.snippet, h.created_at
FROM hits h JOIN articles a ON a.id = h.article_id
WHERE {FILTER_SQL}
ORDER BY h.created_at DESC, h.id DESC"""

CANNED_QUERIES: dict[str, dict[str, Any]] = {
    "removed_articles": {
        "title": "Removed articles and mentions",
        "description": "Articles a revisit found taken down, and hits whose mention a changed "
        "text dropped, newest first.",
        "sql": """SELECT 'article' AS what, a.removed_at, a.removed_reason AS reason, a.title,
  a.url, a.source,
  (SELECT group_concat(watch_id, ', ') FROM hits WHERE article_id = a.id) AS watches
FROM articles a WHERE a.removed_at IS NOT NULL
UNION ALL
SELECT 'mention', h.removed_at, 'no longer in the text', a.title, a.url, a.source, h.watch_id
FROM hits h JOIN articles a ON a.id = h.article_id
WHERE h.removed_at IS NOT NULL AND a.removed_at IS NULL
ORDER BY 2 DESC""",
    },
    "review_queue": {
        "title": "Review queue (export)",
        "description": "The hits the review queue shows for the same filters, one row per hit.",
        "sql": EXPORT_SQL,
        "params": ["watch", "status", "source", "language", "story", "since", "until"],
    },
    "hits_for_a_watch_this_week": {
        "title": "Hits for a watch this week",
        "description": "Every hit for one watch found in the last seven days, newest first.",
        "sql": """SELECT h.id AS hit_id, h.status, a.title, a.url, a.source, a.published_at,
  a.language, h.matched, h.reason, h.snippet, h.created_at
FROM hits h JOIN articles a ON a.id = h.article_id
WHERE h.watch_id = :watch
  AND h.created_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')
ORDER BY h.created_at DESC""",
        "params": ["watch"],
    },
    "relevant_hits_by_source": {
        "title": "Relevant hits by source",
        "description": "How many hits editors confirmed, per source.",
        "sql": """SELECT a.source, COUNT(*) AS relevant_hits, COUNT(DISTINCT h.story_id) AS stories,
  COUNT(DISTINCT h.watch_id) AS watches, MAX(h.reviewed_at) AS last_reviewed_at
FROM hits h JOIN articles a ON a.id = h.article_id
WHERE h.status = 'relevant'
GROUP BY a.source
ORDER BY relevant_hits DESC, a.source""",
    },
}


@dataclass(frozen=True)
class Filters:
    """The queue's filters, read leniently from a query string (bad values mean "any")."""

    watch: str = ""
    status: str = "new"
    source: str = ""
    language: str = ""
    story: str = ""
    since: str = ""
    until: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        """Filters from request arguments; unknown statuses and malformed dates are dropped."""

        def text(name: str) -> str:
            return str(args.get(name) or "").strip()[:200]

        status = text("status") or "new"
        page = text("page")
        return cls(
            watch=text("watch"),
            status=status if status in (*STATUSES, "all") else "new",
            source=text("source"),
            language=text("language"),
            story=text("story") if text("story").isdigit() else "",
            since=text("since") if DAY_RE.match(text("since")) else "",
            until=text("until") if DAY_RE.match(text("until")) else "",
            page=min(max(1, int(page)), MAX_PAGE) if page.isdigit() else 1,
        )

    def params(self) -> dict[str, str]:
        """The named parameters of ``FILTER_SQL``."""
        return {
            "watch": self.watch,
            "status": self.status,
            "source": self.source,
            "language": self.language,
            "story": self.story,
            "since": self.since,
            "until": self.until,
        }

    def query(self, **changes: Any) -> str:
        """A query string for these filters with ``changes`` applied; defaults left out."""
        changed = replace(self, **changes)
        items = {**changed.params(), "page": str(changed.page)}
        defaults = {**Filters().params(), "page": "1"}
        return urlencode({k: v for k, v in items.items() if v != defaults[k]})

    @property
    def active(self) -> bool:
        """True if anything but the default view is selected."""
        return self != Filters(page=self.page)


@dataclass
class WatchStats:
    """How a watch's hits have been judged so far."""

    watch_id: str
    total: int = 0
    new: int = 0
    relevant: int = 0
    irrelevant: int = 0
    follow_up: int = 0

    @property
    def reviewed(self) -> int:
        """Hits with a final verdict (relevant or irrelevant)."""
        return self.relevant + self.irrelevant

    @property
    def precision(self) -> float | None:
        """relevant / reviewed, or None before the first verdict."""
        return self.relevant / self.reviewed if self.reviewed else None


@dataclass
class StoryGroup:
    """One story in the queue: its hits on this page and the other articles in it."""

    key: int
    story_id: int | None
    title: str
    article_count: int
    hits: list[dict[str, Any]] = field(default_factory=list)
    others: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0  # other articles not listed
    languages: list[str] = field(default_factory=list)  # of the story's versions, sorted


@dataclass
class Queue:
    """A page of the review queue."""

    filters: Filters
    groups: list[StoryGroup]
    total_hits: int
    total_stories: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages the filtered queue has."""
        return max(1, -(-self.total_stories // self.page_size))


def _rows(conn: sqlite3.Connection, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def load_queue(conn: sqlite3.Connection, filters: Filters, page_size: int = PAGE_SIZE) -> Queue:
    """The stories with hits matching ``filters``, newest first, one page of them."""
    params: dict[str, Any] = filters.params()
    total_hits, total_stories = conn.execute(
        f"SELECT COUNT(*), COUNT(DISTINCT {STORY_KEY}) FROM hits h "
        f"JOIN articles a ON a.id = h.article_id WHERE {FILTER_SQL}",
        params,
    ).fetchone()
    keys = _rows(
        conn,
        f"SELECT {STORY_KEY} AS key, MAX(h.created_at) AS newest, MAX(a.published_at) AS latest "
        f"FROM hits h JOIN articles a ON a.id = h.article_id WHERE {FILTER_SQL} "
        "GROUP BY key ORDER BY newest DESC, latest DESC, key DESC LIMIT :limit OFFSET :offset",
        {**params, "limit": page_size, "offset": (filters.page - 1) * page_size},
    )
    queue = Queue(filters, [], int(total_hits), int(total_stories), page_size)
    if not keys:
        return queue
    wanted = [row["key"] for row in keys]
    key_params = {f"k{n}": key for n, key in enumerate(wanted)}
    hits = _rows(
        conn,
        f"SELECT {STORY_KEY} AS key, h.id, h.article_id, h.watch_id, h.story_id, h.matched, "
        "h.snippet, h.confidence, h.reason, h.status, h.note, h.created_at, h.reviewed_at, "
        "h.reviewed_by, h.mention_count, a.title, a.url, a.source, a.published_at, "
        "a.fetched_at, a.language, "
        "h.removed_at, h.article_updated_at, a.updated_at, a.removed_at AS article_removed_at, "
        "a.removed_reason, "
        "(SELECT COUNT(*) FROM article_revisions r WHERE r.article_id = a.id) AS revisions, "
        "(SELECT COUNT(*) FROM evidence e WHERE e.article_id = a.id) AS evidence_records, "
        "s.title AS story_title, s.article_count "
        "FROM hits h JOIN articles a ON a.id = h.article_id "
        "LEFT JOIN stories s ON s.id = h.story_id "
        f"WHERE {FILTER_SQL} AND {STORY_KEY} IN ({', '.join(':' + name for name in key_params)}) "
        "ORDER BY h.created_at DESC, h.id DESC",
        {**params, **key_params},
    )
    groups: dict[int, StoryGroup] = {}
    for key in wanted:
        groups[key] = StoryGroup(key=key, story_id=None, title="", article_count=1)
    for hit in hits:
        group = groups[hit["key"]]
        if not group.hits:
            group.story_id = hit["story_id"]
            group.title = hit["story_title"] or hit["title"] or ""
            group.article_count = int(hit["article_count"] or 1)
        group.hits.append(hit)
    _attach_other_articles(conn, list(groups.values()))
    queue.groups = list(groups.values())
    return queue


def _attach_other_articles(conn: sqlite3.Connection, groups: Sequence[StoryGroup]) -> None:
    """Fill each group's ``others``: articles of the story that none of its hits is about."""
    by_story = {group.story_id: group for group in groups if group.story_id is not None}
    if not by_story:
        return
    stories = list(by_story)
    rows = _rows(
        conn,
        "SELECT * FROM (SELECT id, story_id, title, url, source, published_at, fetched_at, "
        "language, ROW_NUMBER() OVER (PARTITION BY story_id "
        "ORDER BY COALESCE(published_at, fetched_at) DESC, id DESC) AS rank "
        f"FROM articles WHERE story_id IN ({', '.join('?' * len(stories))})) "
        "WHERE rank <= ?",
        [*stories, OTHER_ARTICLES + 20],
    )
    for row in rows:
        group = by_story[row["story_id"]]
        if row["language"] and row["language"] not in group.languages:
            group.languages = sorted([*group.languages, row["language"]])
        if row["id"] in {hit["article_id"] for hit in group.hits}:
            continue
        if len(group.others) < OTHER_ARTICLES:
            group.others.append(row)
    for group in by_story.values():
        shown = len(group.others) + len({hit["article_id"] for hit in group.hits})
        group.more = max(0, group.article_count - shown)


def watch_stats(conn: sqlite3.Connection) -> dict[str, WatchStats]:
    """Counts of hits per status for every watch that has hits."""
    stats: dict[str, WatchStats] = {}
    for watch_id, status, count in conn.execute(
        "SELECT watch_id, status, COUNT(*) FROM hits GROUP BY watch_id, status"
    ):
        item = stats.setdefault(watch_id, WatchStats(watch_id))
        item.total += count
        attribute = status.replace("-", "_")
        if attribute in ("new", "relevant", "irrelevant", "follow_up"):
            setattr(item, attribute, getattr(item, attribute) + count)
    return dict(sorted(stats.items()))


def filter_options(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The values the queue's watch, source and language filters offer."""

    def column(sql: str) -> list[str]:
        return [row[0] for row in conn.execute(sql) if row[0]]

    return {
        "watches": column("SELECT DISTINCT watch_id FROM hits ORDER BY watch_id"),
        "sources": column(
            "SELECT name FROM sources UNION SELECT DISTINCT source FROM articles ORDER BY 1"
        ),
        "languages": column("SELECT DISTINCT language FROM articles ORDER BY language"),
    }


def record_verdict(
    conn: sqlite3.Connection,
    hit_ids: Iterable[int],
    *,
    status: str | None,
    note: str | None,
    actor: str,
    now: str,
    via: str | None = None,
) -> list[int]:
    """Set the status and/or note of hits, recording who and when; return the ids changed.

    ``via`` says how ``actor`` signed in (``account``, ``shared``, ``local``, or
    ``datasette`` for an actor another plugin made); it goes in the ``reviews`` log.
    """
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown status {status!r} (expected one of {', '.join(STATUSES)})")
    ids = sorted(set(hit_ids))[:MAX_BULK]
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    with immediate(conn):  # the write lock first: a run storing articles waits, never fails
        found = [
            int(row[0]) for row in conn.execute(f"SELECT id FROM hits WHERE id IN ({marks})", ids)
        ]
        if not found:
            return []
        marks = ", ".join("?" * len(found))
        # reviewed_at/reviewed_by are the last verdict's: a note alone changes neither
        # (the reviews log records who wrote it).
        conn.execute(
            "UPDATE hits SET status = COALESCE(?, status), "
            "note = CASE WHEN ? THEN ? ELSE note END, "
            "reviewed_at = CASE WHEN ? THEN ? ELSE reviewed_at END, "
            "reviewed_by = CASE WHEN ? THEN ? ELSE reviewed_by END "
            f"WHERE id IN ({marks})",
            [status, note is not None, note or None, status is not None, now,
             status is not None, actor, *found],
        )
        conn.executemany(
            "INSERT INTO reviews (hit_id, status, note, actor, at, via) "
            "SELECT id, status, note, ?, ?, ? FROM hits WHERE id = ?",
            [(actor, now, via, hit_id) for hit_id in found],
        )
    return found


def daily_hits(
    conn: sqlite3.Connection, *, days: int = 90, today: date | None = None
) -> tuple[list[str], dict[str, list[int]]]:
    """Hits per watch per day over the last ``days`` days (by the hit's date), oldest first."""
    last = today or date.today()
    first = last - timedelta(days=days - 1)
    labels = [(first + timedelta(days=n)).isoformat() for n in range(days)]
    index = {day: n for n, day in enumerate(labels)}
    series: dict[str, list[int]] = {}
    for watch_id, day, count in conn.execute(
        f"SELECT h.watch_id, {HIT_DATE} AS day, COUNT(*) FROM hits h "
        "JOIN articles a ON a.id = h.article_id "
        f"WHERE {HIT_DATE} BETWEEN ? AND ? GROUP BY h.watch_id, day",
        [labels[0], labels[-1]],
    ):
        series.setdefault(watch_id, [0] * days)[index[day]] = count
    return labels, dict(sorted(series.items()))


def source_health(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every source with its status (ok, failing, stale), last success, last new article, last
    error and consecutive failures: failing first, then stale, then the rest by name.

    Reads whatever columns the file has (a desk over a file written by an older newswatch
    shows what it can).
    """
    rows = _rows(conn, "SELECT * FROM sources")
    for row in rows:
        failures = int(row.get("consecutive_failures") or 0)
        row["consecutive_failures"] = failures
        row["status"] = "failing" if failures else (row.get("status") or "ok")
        for key in ("last_new_article_at", "stale_since", "stale_reason", "usual_gap_seconds"):
            row.setdefault(key, None)
    order = {"failing": 0, "stale": 1}
    return sorted(
        rows, key=lambda r: (order.get(r["status"], 2), -r["consecutive_failures"], r["name"])
    )


def last_hits(conn: sqlite3.Connection) -> dict[str, dict[str, str | None]]:
    """Per watch: its last hit's time and its first run (when it began to be watched)."""
    found: dict[str, dict[str, str | None]] = {}
    for watch_id, last in conn.execute("SELECT watch_id, MAX(created_at) FROM hits GROUP BY 1"):
        found.setdefault(watch_id, {"first_run_at": None})["last_hit_at"] = last
    try:
        for watch_id, first in conn.execute("SELECT watch_id, first_run_at FROM alert_watches"):
            found.setdefault(watch_id, {"last_hit_at": None})["first_run_at"] = first
    except sqlite3.OperationalError:  # a file from before delivery state existed
        pass
    for item in found.values():
        item.setdefault("last_hit_at", None)
    return found


def alert_health(conn: sqlite3.Connection, limit: int = 20) -> dict[str, Any]:
    """Outbox counts (as ``newswatch alerts status`` gives them) and the latest failed alerts."""
    counts = outbox_status(sqlite_utils.Database(conn, recursive_triggers=False))
    problems = _rows(
        conn,
        "SELECT id, watch_id, story_id, channel, status, attempts, next_attempt_at, "
        "last_error, created_at FROM alerts WHERE status IN ('failed', 'dead') "
        "ORDER BY COALESCE(next_attempt_at, created_at) DESC LIMIT ?",
        [limit],
    )
    return {"counts": counts, "problems": problems}


def watch_has_hits(conn: sqlite3.Connection, watch_id: str) -> bool:
    """True if the watch has any hit (a feed for a watch the desk never saw is a 404)."""
    found = conn.execute("SELECT 1 FROM hits WHERE watch_id = ? LIMIT 1", [watch_id]).fetchone()
    return found is not None


def relevant_hits(conn: sqlite3.Connection, watch_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """A watch's hits marked relevant, most recently reviewed first (for its Atom feed)."""
    return _rows(
        conn,
        "SELECT h.id, h.watch_id, h.matched, h.snippet, h.reason, h.note, h.reviewed_at, "
        "h.reviewed_by, h.created_at, a.title, a.url, a.source, a.published_at, a.language "
        "FROM hits h JOIN articles a ON a.id = h.article_id "
        "WHERE h.watch_id = ? AND h.status = 'relevant' "
        "ORDER BY COALESCE(h.reviewed_at, h.created_at) DESC, h.id DESC LIMIT ?",
        [watch_id, limit],
    )


def article_versions(conn: sqlite3.Connection, article_id: int) -> dict[str, Any] | None:
    """An article with every text it had, oldest first: its revisions, then the current one.

    Each version has ``title``, ``text``, ``content_hash``, ``from`` (when that text was
    fetched) and ``until`` (when a changed text replaced it; None for the current one).
    Also the article's hits and its evidence records. None if there is no such article.
    """
    rows = _rows(
        conn,
        "SELECT id, url, canonical_url, source, title, text, content_hash, published_at, "
        "first_fetched_at, fetched_at, checked_at, updated_at, next_revisit_at, removed_at, "
        "removed_reason, language, story_id FROM articles WHERE id = ?",
        [article_id],
    )
    if not rows:
        return None
    article = rows[0]
    versions = _rows(
        conn,
        "SELECT title, text, content_hash, fetched_at AS 'from', replaced_at AS until "
        "FROM article_revisions WHERE article_id = ? ORDER BY replaced_at, id",
        [article_id],
    )
    versions.append(
        {
            "title": article["title"],
            "text": article["text"],
            "content_hash": article["content_hash"],
            "from": article["updated_at"] or article["first_fetched_at"] or article["fetched_at"],
            "until": None,
        }
    )
    article["versions"] = versions
    article["hits"] = _rows(
        conn,
        "SELECT id, watch_id, matched, snippet, status, created_at, removed_at, "
        "article_updated_at FROM hits WHERE article_id = ? ORDER BY id",
        [article_id],
    )
    article["evidence"] = _rows(
        conn,
        "SELECT id, fetched_at, url, status, sha256, body_bytes, warc_file, warc_offset "
        "FROM evidence WHERE article_id = ? ORDER BY fetched_at, id",
        [article_id],
    )
    return article


def removed_items(conn: sqlite3.Connection, limit: int = 200) -> dict[str, list[dict[str, Any]]]:
    """Articles found taken down, and mentions gone from a changed text, newest first."""
    articles = _rows(
        conn,
        "SELECT a.id, a.title, a.url, a.source, a.published_at, a.removed_at, a.removed_reason, "
        "(SELECT group_concat(watch_id, ', ') FROM hits WHERE article_id = a.id) AS watches, "
        "(SELECT MIN(id) FROM hits WHERE article_id = a.id) AS hit_id, "
        "(SELECT COUNT(*) FROM evidence WHERE article_id = a.id) AS evidence_records "
        "FROM articles a WHERE a.removed_at IS NOT NULL ORDER BY a.removed_at DESC, a.id DESC "
        "LIMIT ?",
        [limit],
    )
    mentions = _rows(
        conn,
        "SELECT h.id, h.watch_id, h.matched, h.snippet, h.removed_at, a.id AS article_id, "
        "a.title, a.url, a.source, "
        "(SELECT COUNT(*) FROM evidence WHERE article_id = a.id) AS evidence_records "
        "FROM hits h JOIN articles a ON a.id = h.article_id "
        "WHERE h.removed_at IS NOT NULL AND a.removed_at IS NULL "
        "ORDER BY h.removed_at DESC, h.id DESC LIMIT ?",
        [limit],
    )
    return {"articles": articles, "mentions": mentions}


# Markers FTS5 puts around matched words; the page escapes the text, then turns them into <mark>.
MARK_START, MARK_END = "\x02", "\x03"


def fts_phrase_query(text: str) -> str:
    """A user's words as an FTS5 query that cannot be a syntax error: each word a phrase."""
    words = [word.replace('"', '""') for word in text.split()]
    return " ".join(f'"{word}"' for word in words if word)


def search_articles(
    conn: sqlite3.Connection, text: str, filters: Filters, limit: int = SEARCH_LIMIT
) -> list[dict[str, Any]]:
    """Articles whose title or text match ``text`` (FTS5 syntax, else plain words), best first.

    Plain words are looked up by their search keys (``crawler.matching.searchkey``), so "Kemarova"
    also finds «Кемаровой» and "Kemarovanyng"; a query with FTS5 syntax (quotes, ``*``,
    OR, NOT, NEAR, parentheses) searches the words as written. ``title_marked`` and
    ``snippet`` carry MARK_START/MARK_END around the matched words. Each row lists the
    watches that hit the article (``watches``, comma-separated).
    """
    if script_of(text) == CJK and has_unspaced_search(conn):
        return _search_unspaced(conn, text, filters, limit)
    if not _FTS_SYNTAX.search(text) and has_key_search(conn):
        keys = fts_query(text)
        if keys:
            return _search_by_keys(conn, keys, text, filters, limit)
    sql = (
        f"SELECT a.id, a.url, a.source, a.published_at, a.fetched_at, a.language, a.story_id, "
        f"highlight(articles_fts, 0, '{MARK_START}', '{MARK_END}') AS title_marked, "
        f"snippet(articles_fts, 1, '{MARK_START}', '{MARK_END}', '…', 24) AS snippet, "
        "(SELECT group_concat(watch_id, ', ') FROM hits WHERE article_id = a.id) AS watches "
        "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
        "WHERE articles_fts MATCH :q AND (:source = '' OR a.source = :source) "
        "AND (:since = '' OR substr(COALESCE(a.published_at, a.fetched_at), 1, 10) >= :since) "
        "AND (:until = '' OR substr(COALESCE(a.published_at, a.fetched_at), 1, 10) <= :until) "
        "ORDER BY rank LIMIT :limit"
    )
    params = {
        "source": filters.source,
        "since": filters.since,
        "until": filters.until,
        "limit": limit,
    }
    try:
        return _rows(conn, sql, {**params, "q": text})
    except sqlite3.OperationalError:
        # Not valid FTS5 syntax (a stray quote or bracket): search the words instead.
        return _rows(conn, sql, {**params, "q": fts_phrase_query(text)})


_FTS_SYNTAX = re.compile(r'["*()^:]|\b(?:AND|OR|NOT|NEAR)\b')
SNIPPET_WORDS = 24


def _search_by_keys(
    conn: sqlite3.Connection, keys: str, text: str, filters: Filters, limit: int
) -> list[dict[str, Any]]:
    """Articles having every word of ``text`` in some form or script, best (bm25) first."""
    rows = _rows(
        conn,
        "SELECT a.id, a.url, a.source, a.published_at, a.fetched_at, a.language, a.story_id, "
        "a.title, a.text, "
        "(SELECT group_concat(watch_id, ', ') FROM hits WHERE article_id = a.id) AS watches "
        "FROM articles_search s JOIN articles a ON a.id = s.rowid "
        "WHERE articles_search MATCH :q AND (:source = '' OR a.source = :source) "
        "AND (:since = '' OR substr(COALESCE(a.published_at, a.fetched_at), 1, 10) >= :since) "
        "AND (:until = '' OR substr(COALESCE(a.published_at, a.fetched_at), 1, 10) <= :until) "
        "ORDER BY s.rank LIMIT :limit",
        {
            "q": keys,
            "source": filters.source,
            "since": filters.since,
            "until": filters.until,
            "limit": limit,
        },
    )
    wanted = {key for word in tokenize(text).words for key in search_key(word)}
    for row in rows:
        row["title_marked"] = _mark(row.pop("title") or "", wanted, None)
        row["snippet"] = _mark(row.pop("text") or "", wanted, SNIPPET_WORDS)
    return rows


def _mark(text: str, wanted: set[str], window: int | None) -> str:
    """``text`` with the words whose keys are ``wanted`` between MARK_START and MARK_END;
    with ``window``, only about that many words around the first one, "…" where cut."""
    tokens = tokenize(text)
    hits = [i for i, word in enumerate(tokens.words) if wanted.intersection(search_key(word))]
    first, stop = 0, len(tokens)
    if window is not None:
        first = max(0, (hits[0] if hits else 0) - window // 3)
        stop = min(len(tokens), first + window)
    if first >= stop:
        return text if window is None else ""
    begin = 0 if first == 0 else tokens.span(first, first + 1)[0]
    end = len(text) if stop == len(tokens) else tokens.span(stop - 1, stop)[1]
    pieces = ["…" if begin > 0 else ""]
    at = begin
    for i in hits:
        if first <= i < stop:
            start, finish = tokens.span(i, i + 1)
            pieces += [text[at:start], MARK_START, text[start:finish], MARK_END]
            at = finish
    pieces += [text[at:end], "…" if end < len(text) else ""]
    return "".join(pieces)


SNIPPET_CHARS = 120
_PIECE = re.compile(r"[^\W_]+")


def _search_unspaced(
    conn: sqlite3.Connection, text: str, filters: Filters, limit: int
) -> list[dict[str, Any]]:
    """Articles holding every piece of ``text`` (folded: 薩依拉古麗 finds 萨依拉古丽), by the
    trigram index: pieces of three characters or more through MATCH (ranked), shorter ones
    (a two-character Chinese name) as substrings of the same index's text."""
    pieces = list(dict.fromkeys(_PIECE.findall(undotted(fold(text).text))))
    if not pieces:
        return []
    params: dict[str, Any] = {
        "source": filters.source,
        "since": filters.since,
        "until": filters.until,
        "limit": limit,
    }
    where = []
    long = [piece for piece in pieces if len(piece) >= 3]
    if long:
        where.append("articles_trigram MATCH :q")
        params["q"] = " AND ".join(f'"{piece}"' for piece in long)
    for number, piece in enumerate(p for p in pieces if len(p) < 3):
        where.append(
            f"(articles_trigram.title LIKE :p{number} OR articles_trigram.text LIKE :p{number})"
        )
        params[f"p{number}"] = f"%{piece}%"
    rows = _rows(
        conn,
        "SELECT a.id, a.url, a.source, a.published_at, a.fetched_at, a.language, a.story_id, "
        "a.title, a.text, "
        "(SELECT group_concat(watch_id, ', ') FROM hits WHERE article_id = a.id) AS watches "
        "FROM articles_trigram JOIN articles a ON a.id = articles_trigram.rowid "
        f"WHERE {' AND '.join(where)} AND (:source = '' OR a.source = :source) "
        "AND (:since = '' OR substr(COALESCE(a.published_at, a.fetched_at), 1, 10) >= :since) "
        "AND (:until = '' OR substr(COALESCE(a.published_at, a.fetched_at), 1, 10) <= :until) "
        f"ORDER BY {'articles_trigram.rank' if long else 'a.id DESC'} LIMIT :limit",
        params,
    )
    for row in rows:
        row["title_marked"] = _mark_pieces(row.pop("title") or "", pieces, None)
        row["snippet"] = _mark_pieces(row.pop("text") or "", pieces, SNIPPET_CHARS)
    return rows


def _mark_pieces(text: str, pieces: list[str], window: int | None) -> str:
    """``text`` with every occurrence of the folded ``pieces`` between MARK_START and MARK_END;
    with ``window``, about that many characters around the first one, "…" where cut."""
    folded = fold(text)
    kept = [at for at, char in enumerate(folded.text) if char != DOT]  # as the index has it
    plain = undotted(folded.text)
    spans = []
    for piece in pieces:
        at = plain.find(piece)
        while at >= 0:
            spans.append(folded.span(kept[at], kept[at + len(piece) - 1] + 1))
            at = plain.find(piece, at + len(piece))
    spans.sort()
    begin, end = 0, len(text)
    if window is not None:
        first = spans[0][0] if spans else 0
        begin = max(0, first - window // 3)
        end = min(len(text), begin + window)
    pieces_out = ["…" if begin > 0 else ""]
    at = begin
    for start, stop in spans:
        if start < at or stop > end:
            continue
        pieces_out += [text[at:start], MARK_START, text[start:stop], MARK_END]
        at = stop
    pieces_out += [text[at:end], "…" if end < len(text) else ""]
    return "".join(pieces_out)


def has_unspaced_search(conn: sqlite3.Connection) -> bool:
    """True if the database has the trigram index for CJK text (``articles_trigram``)."""
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles_trigram'").fetchone()
    return row is not None


def has_key_search(conn: sqlite3.Connection) -> bool:
    """True if the database has the cross-script search index (``articles_search``)."""
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles_search'").fetchone()
    return row is not None


def has_search(conn: sqlite3.Connection) -> bool:
    """True if the database has the articles full-text index (schema version 2 on)."""
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles_fts'").fetchone()
    return row is not None
