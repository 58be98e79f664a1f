"""Articles that change and vanish (issue 13): ``newswatch run`` against a local site a test
edits between runs, each run started at its own instant (``NEWSWATCH_NOW``).

Revisits made due by a newer sitemap ``<lastmod>`` or by the schedule, conditional GETs
answered 304, changed texts alerting only new watches, takedowns (404, 410, a redirect to
the home page) and a 503 that is not one, removal notices, and the WARC evidence of it all.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from warcio.archiveiterator import ArchiveIterator

from alerts.signing import verify
from crawler.clock import parse
from crawler.config import ConfigError, RevisitSettings, load_config
from crawler.run.revisit import KnownArticle, next_revisit
from tests.conftest import WebServer, newswatch_cli, serve_web
from tests.test_distributed import redis_server, redis_url  # noqa: F401  (fixtures)
from tests.test_run import SECRET, rows

T0 = "2026-12-10T08:00:00Z"
PUBLISHED = "2026-12-10T07:00:00Z"

WATCHLIST = """
[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
channels = ["hook"]
notify_removals = true

[[watch]]
id = "zhanna-umirova"
name = "Zhanna Umirova"
channels = ["hook"]
notify_removals = true
"""

PARAGRAPHS = [
    "The trial of Aigerim Tulegenova, a blogger from Kostanay who wrote about shortages of "
    "insulin at the regional hospital, opened on Monday with the prosecution asking for a "
    "two-year restriction of freedom.",
    "Tulegenova, 34, is charged with disseminating knowingly false information after a post in "
    "which she quoted patients who said they had been told to buy insulin at private pharmacies.",
    "In court, Aigerim Tulegenova said she had checked every quotation with the patients "
    "themselves and had asked the hospital for comment before publishing.",
    "Several journalists and members of local civic groups attended the hearing, which was "
    "adjourned until Thursday.",
]
UMIROVA = (
    "Among them was the activist Zhanna Umirova, who said the case was meant to frighten "
    "everyone who writes about the hospitals of the region."
)

ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} — Steppe Courier</title>
<link rel="canonical" href="{{{{BASE}}}}/news/2026/12/{slug}.html">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{published}">
</head><body>
<header><a href="/">Steppe Courier</a>
<nav><a href="/">Home</a> | <a href="/news/">News</a></nav></header>
<article><h1>{title}</h1>
{body}
</article>
<footer><p>An invented outlet used by the newswatch test suite.</p></footer>
</body></html>
"""

HOME = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Steppe Courier</title></head><body>
<h1>Steppe Courier</h1>
<ul>{links}</ul>
</body></html>
"""


class Site:
    """A news site in a folder the test server serves; the test edits it between runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lastmod: dict[str, str] = {}
        self.routes: dict[str, dict[str, Any]] = {}
        (root / "news" / "2026" / "12").mkdir(parents=True)

    def path(self, slug: str) -> str:
        return f"/news/2026/12/{slug}.html"

    def article(self, slug: str, paragraphs: list[str], *, lastmod: str = PUBLISHED) -> None:
        title = f"Story {slug}: the trial of a blogger"
        body = "\n".join(f"<p>{text}</p>" for text in paragraphs)
        page = ARTICLE.format(title=title, slug=slug, published=PUBLISHED, body=body)
        (self.root / self.path(slug).lstrip("/")).write_text(page, encoding="utf-8")
        self.lastmod[slug] = lastmod
        self.write_indexes()

    def write_indexes(self) -> None:
        entries = "".join(
            f"<url><loc>{{{{BASE}}}}{self.path(slug)}</loc><lastmod>{lastmod}</lastmod></url>\n"
            for slug, lastmod in self.lastmod.items()
        )
        (self.root / "sitemap.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{entries}</urlset>\n",
            encoding="utf-8",
        )
        links = "".join(f'<li><a href="{self.path(slug)}">{slug}</a></li>' for slug in self.lastmod)
        (self.root / "index.html").write_text(HOME.format(links=links), encoding="utf-8")

    def answer(self, slug: str, **override: Any) -> None:
        """Make the article's URL answer otherwise (status, location) from now on."""
        self.routes[self.path(slug)] = override
        (self.root / "_routes.json").write_text(json.dumps(self.routes), encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Site, WebServer]]:
    root = tmp_path / "site"
    root.mkdir()
    built = Site(root)
    with serve_web(root) as server:
        yield built, server


def write_config(tmp_path: Path, web: WebServer, extra: str = "") -> Path:
    (tmp_path / "watchlist.toml").write_text(WATCHLIST, encoding="utf-8")
    config = tmp_path / "newswatch.toml"
    config.write_text(
        f"""
database = "nw.db"
watchlist = ["watchlist.toml"]

[alerts]
backfill_hours = 0

[crawl]
autothrottle = false
retries = 0
download_timeout = 5

[[channel]]
id = "hook"
type = "webhook"
url_env = "NW_HOOK_URL"
secret_env = "NW_HOOK_SECRET"

[[source]]
name = "steppe"
site = "{web.url}/"
sitemaps = ["{web.url}/sitemap.xml"]
follow = ['/news/\\d{{4}}/']
allow_private = true
{extra}
""",
        encoding="utf-8",
    )
    return config


def newswatch(
    config: Path, web: WebServer, *args: str, now: str = T0
) -> subprocess.CompletedProcess[str]:
    env = {"NW_HOOK_URL": web.hook_url("revisit"), "NW_HOOK_SECRET": SECRET, "NEWSWATCH_NOW": now}
    return newswatch_cli(*args, "-c", str(config), env=env)


def run(config: Path, web: WebServer, now: str, *, code: int = 0) -> dict[str, Any]:
    result = newswatch(config, web, "run", "--json", now=now)
    assert result.returncode == code, result.stderr + result.stdout
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def requests_for(web: WebServer, path: str, since: float) -> list[dict[str, Any]]:
    return [entry for entry in web.log(path) if entry["time"] >= since and entry["path"] == path]


def hooks(web: WebServer) -> list[dict[str, Any]]:
    received = web.hook_requests("revisit")
    for request in received:
        # Signed at the run's own instant (NEWSWATCH_NOW), not this process's.
        assert verify(SECRET, request["headers"], request["body"], tolerance=None)
        request["json"] = json.loads(request["body"])
    return received


@pytest.mark.e2e
def test_an_edit_with_a_newer_lastmod_alerts_only_the_new_watch(
    tmp_path: Path, site: tuple[Site, WebServer]
) -> None:
    pages, web = site
    pages.article("hearing", PARAGRAPHS)
    config = write_config(tmp_path, web)
    db = tmp_path / "nw.db"

    first = run(config, web, T0)
    assert first["articles_new"] == 1 and first["hits"] == 1 and first["alerts_sent"] == 1
    article = rows(db, "SELECT * FROM articles")[0]
    assert article["etag"] and article["last_modified"]
    # An article with a hit is revisited an hour after its first fetch, then 6 h, 24 h...
    assert "2026-12-10T09:00:00Z" <= article["next_revisit_at"] < "2026-12-10T09:05:00Z"

    # The site adds a paragraph naming a second watched person and says so in its sitemap.
    pages.article("hearing", [*PARAGRAPHS[:3], UMIROVA, PARAGRAPHS[3]],
                  lastmod="2026-12-10T08:30:00Z")
    started = time.time()
    second = run(config, web, "2026-12-10T08:45:00Z")  # before the scheduled revisit
    assert second["articles_revisited"] == 1 and second["articles_changed"] == 1
    assert second["articles_new"] == 0 and second["hits"] == 1
    assert second["alerts_queued"] == 1 and second["alerts_sent"] == 1
    fetches = requests_for(web, pages.path("hearing"), started)
    assert len(fetches) == 1
    assert fetches[0]["headers"]["if-none-match"] == article["etag"]  # a conditional GET
    assert fetches[0]["headers"]["if-modified-since"] == article["last_modified"]

    received = hooks(web)
    assert [r["json"]["type"] for r in received] == ["hit.created", "hit.created"]
    assert [r["json"]["data"]["watch_id"] for r in received] == [
        "aigerim-tulegenova",
        "zhanna-umirova",
    ]
    assert "updated_at" not in received[0]["json"]["data"]["article"]
    after = rows(db, "SELECT * FROM articles")[0]
    assert after["id"] == article["id"] and UMIROVA in after["text"]
    assert received[1]["json"]["data"]["article"]["updated_at"] == after["updated_at"]
    assert after["updated_at"] >= "2026-12-10T08:45:00Z"
    assert "Zhanna Umirova" in received[1]["json"]["data"]["snippet"]
    revisions = rows(db, "SELECT * FROM article_revisions")
    assert len(revisions) == 1 and UMIROVA not in revisions[0]["text"]
    assert revisions[0]["content_hash"] == article["content_hash"]
    hits = rows(db, "SELECT watch_id, article_updated_at, removed_at FROM hits ORDER BY id")
    assert hits == [
        {"watch_id": "aigerim-tulegenova", "article_updated_at": None, "removed_at": None},
        {"watch_id": "zhanna-umirova", "article_updated_at": after["updated_at"],
         "removed_at": None},
    ]

    # The next edit drops her again: the mention is removed, and her channel is told.
    pages.article("hearing", PARAGRAPHS, lastmod="2026-12-10T08:50:00Z")
    third = run(config, web, "2026-12-10T08:55:00Z")
    assert third["articles_changed"] == 1 and third["alerts_queued"] == 0
    assert third["removals_notified"] == 1
    removed = rows(db, "SELECT watch_id, removed_at FROM hits WHERE removed_at IS NOT NULL")
    assert [hit["watch_id"] for hit in removed] == ["zhanna-umirova"]
    notices = [r for r in hooks(web) if r["json"]["type"] != "hit.created"]
    assert [n["json"]["type"] for n in notices] == ["mention.removed"]
    data = notices[0]["json"]["data"]
    assert data["watch_id"] == "zhanna-umirova" and data["matched"] == "Zhanna Umirova"
    assert data["article"]["url"] == f"{web.url}{pages.path('hearing')}"
    assert data["removed_at"] == removed[0]["removed_at"]
    headers = notices[0]["headers"]
    assert headers["webhook-id"].startswith("nw_rm_") and headers["webhook-timestamp"]
    assert len(rows(db, "SELECT * FROM article_revisions")) == 2
    # Nothing more the run after: the alerts and the notice went once each.
    run(config, web, "2026-12-10T08:58:00Z")
    assert len(hooks(web)) == 3


@pytest.mark.e2e
def test_a_due_revisit_answered_304_changes_nothing_and_keeps_evidence(
    tmp_path: Path, site: tuple[Site, WebServer]
) -> None:
    pages, web = site
    pages.article("hearing", PARAGRAPHS)
    pages.article("weather", ["Snow is expected in the north of the region this week. " * 6])
    config = write_config(tmp_path, web)
    db = tmp_path / "nw.db"
    run(config, web, T0)
    before = {row["canonical_url"]: row for row in rows(db, "SELECT * FROM articles")}
    hearing = before[f"{web.url}{pages.path('hearing')}"]
    weather = before[f"{web.url}{pages.path('weather')}"]
    # Without a hit, a recent article is revisited at 6 h and 24 h only.
    assert weather["next_revisit_at"].startswith("2026-12-10T14:00")

    started = time.time()
    second = run(config, web, "2026-12-10T10:00:00Z")  # the 1 h revisit is due
    assert second["articles_revisited"] == 1
    assert second["articles_changed"] == 0 and second["articles_removed"] == 0
    assert second["hits"] == 0 and second["alerts_queued"] == 0
    fetches = requests_for(web, pages.path("hearing"), started)
    assert len(fetches) == 1
    assert fetches[0]["headers"]["if-none-match"] == hearing["etag"]
    assert fetches[0]["headers"]["if-modified-since"] == hearing["last_modified"]
    assert not requests_for(web, pages.path("weather"), started)  # not due yet

    after = {row["canonical_url"]: row for row in rows(db, "SELECT * FROM articles")}
    now_hearing = after[hearing["canonical_url"]]
    for column in ("text", "content_hash", "title", "updated_at", "fetched_at", "etag"):
        assert now_hearing[column] == hearing[column]
    assert now_hearing["checked_at"] >= "2026-12-10T10:00:00Z"
    assert now_hearing["next_revisit_at"].startswith("2026-12-10T14:00")  # the 6 h step
    assert rows(db, "SELECT * FROM article_revisions") == []
    assert len(rows(db, "SELECT * FROM hits")) == 1 and len(hooks(web)) == 1

    # Evidence: both fetches of the article with a hit, none of the other one.
    records = rows(db, "SELECT * FROM evidence ORDER BY id")
    assert [(r["article_id"], r["status"]) for r in records] == [
        (hearing["id"], 200),
        (hearing["id"], 304),
    ]
    served = httpx.get(f"{web.url}{pages.path('hearing')}").content
    assert records[0]["sha256"] == hashlib.sha256(served).hexdigest()
    assert records[1]["sha256"] == hashlib.sha256(b"").hexdigest()
    warc = tmp_path / records[0]["warc_file"]
    assert warc.parent == tmp_path / "evidence" and warc.name == "2026-12-10.warc.gz"
    with warc.open("rb") as handle:
        responses = [
            (
                record.rec_headers.get_header("WARC-Target-URI"),
                record.http_headers.get_statuscode(),
                record.rec_headers.get_header("WARC-Date"),
                record.content_stream().read(),
            )
            for record in ArchiveIterator(handle)
            if record.rec_type == "response"
        ]
    assert [(uri, status) for uri, status, _, _ in responses] == [
        (hearing["url"], "200"),
        (hearing["url"], "304"),
    ]
    assert responses[0][3] == served
    assert [date for _, _, date, _ in responses] == [r["fetched_at"] for r in records]
    # Each record reads alone from its offset.
    with warc.open("rb") as handle:
        handle.seek(records[0]["warc_offset"])
        member = handle.read(records[0]["warc_length"])
    assert b"Aigerim Tulegenova" in gzip.decompress(member)

    status = newswatch(config, web, "alerts", "status", "--json", now="2026-12-10T10:05:00Z")
    used = json.loads(status.stdout)["evidence"]
    assert used["files"] == 1 and used["bytes"] == warc.stat().st_size
    assert used["records"] == 2 and used["articles"] == 1

    verified = newswatch(config, web, "evidence", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "2 records checked, 0 mismatches" in verified.stdout
    # Someone edits the kept page (same length, so every offset still holds) ...
    tampered = gzip.decompress(member).replace(b"Aigerim Tulegenova", b"Aigerim Tulegenovo", 1)
    data = warc.read_bytes()
    start, end = records[0]["warc_offset"], records[0]["warc_offset"] + len(member)
    replacement = gzip.compress(tampered)
    warc.write_bytes(data[:start] + replacement + data[end:])
    with sqlite3.connect(db) as conn:  # ... and the lengths in the table
        shift = len(replacement) - len(member)
        conn.execute("UPDATE evidence SET warc_length = ? WHERE id = ?",
                     [len(replacement), records[0]["id"]])
        conn.execute("UPDATE evidence SET warc_offset = warc_offset + ? WHERE id = ?",
                     [shift, records[1]["id"]])
    caught = newswatch(config, web, "evidence", "verify", "--json")
    assert caught.returncode == 1
    report = json.loads(caught.stdout)
    assert report["checked"] == 2 and not report["ok"]
    assert [m["evidence_id"] for m in report["mismatches"]] == [records[0]["id"]]
    assert "sha256" in report["mismatches"][0]["problem"]
    plain = newswatch(config, web, "evidence", "verify")
    assert plain.returncode == 1 and f"evidence {records[0]['id']} " in plain.stderr


@pytest.mark.e2e
def test_takedowns_are_removals_and_a_503_is_not(
    tmp_path: Path, site: tuple[Site, WebServer]
) -> None:
    pages, web = site
    slugs = ("gone", "withdrawn", "moved-home", "broken")
    for slug in slugs:
        pages.article(slug, [f"{slug.capitalize()}: " + PARAGRAPHS[0], *PARAGRAPHS[1:]])
    config = write_config(tmp_path, web)
    db = tmp_path / "nw.db"
    first = run(config, web, T0)
    assert first["articles_new"] == 4 and first["hits"] == 4

    pages.answer("gone", status=404)
    pages.answer("withdrawn", status=410)
    pages.answer("moved-home", status=301, location="{{BASE}}/")
    pages.answer("broken", status=503)
    started = time.time()
    second = run(config, web, "2026-12-10T10:00:00Z")
    assert second["articles_revisited"] == 4 and second["articles_removed"] == 3
    assert second["sources_failed"] == 0  # a failing revisit is not a failing source
    assert requests_for(web, "/", started)  # the redirect was followed to the home page

    articles = {
        row["canonical_url"].removeprefix(web.url): row
        for row in rows(db, "SELECT * FROM articles")
    }
    reasons = {path: row["removed_reason"] for path, row in articles.items()}
    assert reasons[pages.path("gone")] == "HTTP 404"
    assert reasons[pages.path("withdrawn")] == "HTTP 410"
    assert reasons[pages.path("moved-home")] == f"redirected to {web.url}/, not an article"
    assert reasons[pages.path("broken")] is None  # a 503 is not a removal
    assert articles[pages.path("broken")]["next_revisit_at"].startswith("2026-12-10T14:00")
    for slug in ("gone", "withdrawn", "moved-home"):
        row = articles[pages.path(slug)]
        assert row["removed_at"] >= "2026-12-10T10:00:00Z" and row["next_revisit_at"] is None
        assert PARAGRAPHS[2] in row["text"]  # the text stays
    hits = rows(db, "SELECT * FROM hits")
    assert len(hits) == 4 and all(hit["removed_at"] is None for hit in hits)  # hits kept

    notices = [r for r in hooks(web) if r["json"]["type"] == "article.removed"]
    assert sorted(n["json"]["data"]["article"]["url"].removeprefix(web.url) for n in notices) == (
        sorted(pages.path(slug) for slug in ("gone", "withdrawn", "moved-home"))
    )
    for notice in notices:
        data = notice["json"]["data"]
        assert data["watch_id"] == "aigerim-tulegenova"
        assert data["article"]["removed_at"] == data["removed_at"]
        assert notice["headers"]["webhook-signature"].startswith("v1,")
    assert len({n["headers"]["webhook-id"] for n in notices}) == 3
    assert second["removals_notified"] == 3
    # The 404 answer is evidence too.
    gone = articles[pages.path("gone")]
    assert [r["status"] for r in rows(
        db, "SELECT status FROM evidence WHERE article_id = ? ORDER BY id", gone["id"]
    )] == [200, 404]

    # Later runs: removed articles are not fetched again and nothing is said twice; the
    # broken one is revisited at its next step and comes back.
    pages.routes.pop(pages.path("broken"))
    pages.answer("gone", status=404)
    started = time.time()
    third = run(config, web, "2026-12-10T15:00:00Z")
    assert third["articles_revisited"] == 1 and third["articles_removed"] == 0
    for slug in ("gone", "withdrawn", "moved-home"):
        assert not requests_for(web, pages.path(slug), started)
    assert len(requests_for(web, pages.path("broken"), started)) == 1
    assert len([r for r in hooks(web) if r["json"]["type"] == "article.removed"]) == 3


# --- the schedule, without a crawl -----------------------------------------------------------


def schedule(now: str, *, hits: bool = True, published: str | None = None,
             settings: RevisitSettings | None = None) -> str | None:
    return next_revisit(
        settings or RevisitSettings(),
        first_fetched_at="2026-12-10T08:00:00Z",
        published_at=published,
        has_hits=hits,
        now=parse(now),
    )


def test_revisits_grow_from_the_first_fetch_and_skip_missed_steps() -> None:
    assert schedule("2026-12-10T08:00:00Z") == "2026-12-10T09:00:00Z"
    assert schedule("2026-12-10T09:00:00Z") == "2026-12-10T14:00:00Z"
    assert schedule("2026-12-11T07:00:00Z") == "2026-12-11T08:00:00Z"
    # Off for three days: the next step ahead, not every step missed.
    assert schedule("2026-12-13T09:00:00Z") == "2026-12-17T08:00:00Z"
    assert schedule("2026-12-17T08:00:00Z") is None  # the schedule is over
    # Without a hit: a recent article at 6 h and 24 h, an old one never.
    assert schedule("2026-12-10T08:00:00Z", hits=False) == "2026-12-10T14:00:00Z"
    assert schedule("2026-12-10T15:00:00Z", hits=False) == "2026-12-11T08:00:00Z"
    assert schedule("2026-12-11T09:00:00Z", hits=False) is None
    assert schedule("2026-12-10T08:00:00Z", hits=False, published="2026-12-01T08:00:00Z") is None
    off = RevisitSettings(enabled=False)
    assert schedule("2026-12-10T08:00:00Z", settings=off) is None


def test_a_later_date_means_changed_only_after_the_last_fetch() -> None:
    known = KnownArticle(1, "2026-12-10T08:00:00Z", '"e"', "")
    assert known.changed_since_checked("2026-12-10T08:30:00+00:00")
    assert not known.changed_since_checked("2026-12-10T07:59:00Z")
    assert not known.changed_since_checked("2026-12-10")  # midnight: before the fetch
    assert not known.changed_since_checked("yesterday")
    assert known.revisit("https://x/a", "s").conditional_headers() == {"If-None-Match": '"e"'}


def test_revisit_settings_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "newswatch.toml"
    config.write_text(
        '[revisit]\nintervals = ["1h", "30x"]\nrecent_intervals = ["1d", "6h"]\n'
        "budget = -1\n[evidence]\nmax_file_mb = 0\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_config(config)
    problems = "\n".join(error.value.problems)
    assert "revisit.intervals: expected periods such as" in problems and "'30x'" in problems
    assert "revisit.recent_intervals: expected growing periods" in problems
    assert "revisit.budget: expected a number from 0 to 1000000, got -1" in problems
    assert "evidence.max_file_mb: expected a number from 1 to 100000, got 0" in problems
    config.write_text('[revisit]\nintervals = ["2h", "3d"]\nbudget = 10\n', encoding="utf-8")
    loaded = load_config(config)
    assert loaded.revisit.intervals == ("2h", "3d") and loaded.revisit.budget == 10


# --- distributed mode: the same revisits through a crawl worker ------------------------------


@pytest.mark.e2e
def test_crawl_workers_revisit_too(
    tmp_path: Path, site: tuple[Site, WebServer], redis_url: str  # noqa: F811  (the fixture)
) -> None:
    pages, web = site
    pages.article("hearing", PARAGRAPHS)
    pages.article("gone", ["Gone: " + PARAGRAPHS[0], *PARAGRAPHS[1:]])
    quiet = ["The city council passed its winter budget on Tuesday after a long debate. " * 5]
    pages.article("council", quiet)
    config = write_config(tmp_path, web)
    db = tmp_path / "nw.db"

    def cycle(now: str) -> dict[str, Any]:
        env = {**os.environ, "NW_HOOK_URL": web.hook_url("revisit"),
               "NW_HOOK_SECRET": SECRET, "NEWSWATCH_NOW": now}
        base = [sys.executable, "-m", "crawler.cli"]
        log = (tmp_path / "worker.log").open("a")
        worker = subprocess.Popen(
            [*base, "crawl", "--redis", redis_url, "--idle-exit", "30", "-c", str(config)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        try:
            result = subprocess.run(
                [*base, "ingest", "--redis", redis_url, "--json", "-c", str(config)],
                capture_output=True, text=True, timeout=120, env=env,
            )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log.close()
        assert result.returncode == 0, result.stderr
        summary: dict[str, Any] = json.loads(result.stdout)
        return summary

    first = cycle(T0)
    assert first["articles_new"] == 3 and first["hits"] == 2
    before = {row["canonical_url"].removeprefix(web.url): row
              for row in rows(db, "SELECT * FROM articles")}

    # Two hours on: the articles with hits are due; one is gone. The council article has no
    # hit (not due until 6 h) but its sitemap date says it changed: it now names her.
    pages.answer("gone", status=404)
    pages.article("council", [*quiet, PARAGRAPHS[0]], lastmod="2026-12-10T09:00:00Z")
    started = time.time()
    second = cycle("2026-12-10T10:00:00Z")
    assert second["articles_revisited"] == 3
    assert second["articles_changed"] == 1 and second["articles_removed"] == 1
    assert second["hits"] == 1 and second["alerts_sent"] == 1
    hearing = requests_for(web, pages.path("hearing"), started)
    assert len(hearing) == 1
    assert hearing[0]["headers"]["if-none-match"] == before[pages.path("hearing")]["etag"]
    council = requests_for(web, pages.path("council"), started)
    assert [r["headers"]["if-none-match"] for r in council] == [
        before[pages.path("council")]["etag"]
    ]
    after = {row["canonical_url"].removeprefix(web.url): row
             for row in rows(db, "SELECT * FROM articles")}
    assert after[pages.path("gone")]["removed_reason"] == "HTTP 404"
    assert after[pages.path("hearing")]["checked_at"] >= "2026-12-10T10:00:00Z"
    alerts = [r["json"]["data"] for r in hooks(web) if r["json"]["type"] == "hit.created"]
    updated = [data["article"]["url"] for data in alerts if "updated_at" in data["article"]]
    assert updated == [f"{web.url}{pages.path('council')}"]
    assert [r["json"]["type"] for r in hooks(web)].count("article.removed") == 1
    evidence = rows(db, "SELECT a.canonical_url AS url, e.status FROM evidence e "
                        "JOIN articles a ON a.id = e.article_id ORDER BY e.id")
    assert sorted((r["url"].removeprefix(web.url), r["status"]) for r in evidence) == sorted([
        (pages.path("hearing"), 200), (pages.path("gone"), 200),
        (pages.path("hearing"), 304), (pages.path("gone"), 404), (pages.path("council"), 200),
    ])
    assert "Traceback" not in (tmp_path / "worker.log").read_text()
