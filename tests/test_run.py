"""End to end: ``newswatch run`` in a subprocess against the local test server."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from alerts.signing import verify
from tests.conftest import SECRET, WebServer, newswatch_cli

pytestmark = pytest.mark.e2e


WATCHLIST = """
[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
aliases = ["Айгерим Тулегенова"]
channels = ["hook"]

[[watch]]
id = "aigerim-tulegenov"
name = "Aigerim Tulegenov"
channels = ["hook"]
"""


def make_config(
    tmp_path: Path, web: WebServer, hook: str, sources: str, extra: str = "download_timeout = 5"
) -> Path:
    (tmp_path / "watchlist.toml").write_text(WATCHLIST, encoding="utf-8")
    config = tmp_path / "newswatch.toml"
    config.write_text(
        f"""
database = "nw.db"
watchlist = ["watchlist.toml"]

[alerts]
backfill_hours = 0  # the fixture articles have fixed dates in the past

[crawl]
autothrottle = false
retries = 0
{extra}

[[channel]]
id = "hook"
type = "webhook"
url_env = "NW_HOOK_URL"
secret_env = "NW_HOOK_SECRET"
{sources.replace("BASE", web.url)}
""",
        encoding="utf-8",
    )
    return config


FEEDS = "".join(
    f'\n[[source]]\nname = "{name}"\nfeed = "BASE/feeds/{name}.xml"\nallow_private = true\n'
    for name in ("rss20", "atom", "rss091", "rss10")
)
RSS20 = '\n[[source]]\nname = "rss20"\nfeed = "BASE/feeds/rss20.xml"\nallow_private = true\n'
SITE = """
[[source]]
name = "news1"
site = "BASE/news1/"
allow_private = true
sitemaps = ["BASE/news1/sitemap.xml"]
sections = ["BASE/news1/news/"]
follow = ['/news1/news/\\d{4}/']
"""


def newswatch(
    config: Path, web: WebServer, hook: str, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {"NW_HOOK_URL": web.hook_url(hook), "NW_HOOK_SECRET": SECRET}
    return newswatch_cli(*args, "-c", str(config), env=env, timeout=timeout)


def rows(db: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def test_run_stores_hits_and_delivers_signed_webhooks_once(tmp_path: Path, web: WebServer) -> None:
    config = make_config(tmp_path, web, "e2e-main", FEEDS + SITE)
    started = time.time()
    result = newswatch(config, web, "e2e-main", "run", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["sources_ok"] == 5 and summary["sources_failed"] == 0
    db = tmp_path / "nw.db"

    articles = {row["canonical_url"].removeprefix(web.url): row for row in
                rows(db, "SELECT * FROM articles")}
    # Five feed articles (two reached twice, one under utm parameters) and four site
    # articles; the robots-forbidden draft is neither fetched nor stored.
    assert sorted(articles) == sorted(
        [f"/feeds/articles/{n}.html" for n in
         ("court-tulegenova", "city-budget", "ru-tulegenova-interview", "kk-tulegenova-sot",
          "ru-weather")]
        + [f"/news1/news/2026/11/{n}.html" for n in
           ("tulegenova-trial-opens", "sud-nad-tulegenovoy-otlozhen", "water-tariffs-rise",
            "press-freedom-report")]
    )
    assert not [r for r in web.log("/news1/private/") if r["time"] >= started]
    court = articles["/feeds/articles/court-tulegenova.html"]
    assert court["language"] == "en" and court["published_at"] == "2026-11-16T08:00:00Z"
    assert "Latest" not in court["text"]
    assert articles["/feeds/articles/ru-tulegenova-interview.html"]["language"] == "ru"

    hits = rows(db, "SELECT hits.*, articles.canonical_url AS url FROM hits "
                    "JOIN articles ON articles.id = hits.article_id")
    hit_urls = {h["url"].removeprefix(web.url) for h in hits}
    assert {h["watch_id"] for h in hits} == {"aigerim-tulegenova"}  # never the one-letter-off
    assert {"/feeds/articles/court-tulegenova.html",
            "/feeds/articles/ru-tulegenova-interview.html",
            "/news1/news/2026/11/tulegenova-trial-opens.html"} <= hit_urls
    # The name appears only in the sidebar of this page: no hit.
    assert "/news1/news/2026/11/press-freedom-report.html" not in hit_urls
    for hit in hits:
        assert hit["status"] == "new" and hit["confidence"] > 0.5 and hit["matched"]
        assert "Tulegenova" in hit["snippet"] or "Тулегенов" in hit["snippet"]

    alerts = rows(db, "SELECT * FROM alerts")
    assert len(alerts) == len(hits)
    assert {a["status"] for a in alerts} == {"sent"}

    received = web.hook_requests("e2e-main")
    assert len(received) == len(alerts)
    assert {r["headers"]["webhook-id"] for r in received} == {a["idempotency_key"] for a in alerts}
    for request in received:
        assert verify(SECRET, request["headers"], request["body"])
        body = json.loads(request["body"])
        assert body["type"] == "hit.created"
        data = body["data"]
        assert data["watch_id"] == "aigerim-tulegenova"
        assert data["watch_name"] == "Aigerim Tulegenova"
        assert set(data["article"]) == {"url", "title", "source", "published_at", "language"}
        assert data["article"]["url"].startswith(web.url)
        assert "utm_" not in data["article"]["url"]
        assert {"matched", "snippet", "confidence", "story_id", "also_reported_by"} <= set(data)

    # Second cycle: every feed answers 304, nothing is fetched again or sent again.
    second_started = time.time()
    again = newswatch(config, web, "e2e-main", "run", "--json")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["sources_not_modified"] == 4
    assert summary["articles_new"] == 0 and summary["alerts_sent"] == 0
    assert len(web.hook_requests("e2e-main")) == len(alerts)
    later = [r for r in web.log() if r["time"] >= second_started]
    feed_requests = [r for r in later if r["path"].endswith((".xml",)) and "/feeds/" in r["path"]]
    assert len(feed_requests) == 4
    assert all("if-none-match" in r["headers"] for r in feed_requests)
    assert not [r for r in later if "/articles/" in r["path"]]
    runs = rows(db, "SELECT * FROM runs ORDER BY id")
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert runs[0]["hits"] == len(hits) and runs[1]["hits"] == 0


def test_broken_sources_fail_alone_and_exit_1(tmp_path: Path, web: WebServer) -> None:
    sources = """
[[source]]
name = "good"
feed = "BASE/feeds/rss20.xml"
allow_private = true

[[source]]
name = "server-error"
feed = "BASE/_fault/status/500"
allow_private = true

[[source]]
name = "not-a-feed"
feed = "BASE/_fault/notfeed"
allow_private = true

[[source]]
name = "truncated"
feed = "BASE/_fault/truncated-feed"
allow_private = true

[[source]]
name = "too-big"
feed = "BASE/_fault/big?bytes=300000"
allow_private = true

[[source]]
name = "slow"
feed = "BASE/_fault/slow?seconds=4"
allow_private = true

[[source]]
name = "no-server"
feed = "http://127.0.0.1:9/feed.xml"
allow_private = true
"""
    config = make_config(tmp_path, web, "e2e-broken", sources,
                         extra="max_page_bytes = 200000\ndownload_timeout = 1.5")
    result = newswatch(config, web, "e2e-broken", "run")
    assert result.returncode == 1, result.stderr
    assert "5 failed" in result.stdout
    db = tmp_path / "nw.db"
    health = {row["name"]: row for row in rows(db, "SELECT * FROM sources")}
    for name in ("server-error", "not-a-feed", "too-big", "slow", "no-server"):
        assert health[name]["consecutive_failures"] == 1, name
        assert health[name]["last_error"], name
        assert health[name]["last_ok_at"] is None
        assert name in result.stderr  # logged with its name and URL
    assert "HTTP 500" in health["server-error"]["last_error"]
    assert "not a feed" in health["not-a-feed"]["last_error"]
    for name in ("good", "truncated"):  # a bozo feed still yields what it can
        assert health[name]["consecutive_failures"] == 0 and health[name]["last_ok_at"]
    urls = {row["canonical_url"].removeprefix(web.url) for row in
            rows(db, "SELECT canonical_url FROM articles")}
    assert "/feeds/articles/court-tulegenova.html" in urls
    assert "/feeds/articles/city-budget.html" in urls
    assert len(web.hook_requests("e2e-broken")) >= 1

    # A failure streak is counted per run.
    newswatch(config, web, "e2e-broken", "run")
    assert rows(db, "SELECT consecutive_failures FROM sources WHERE name = 'server-error'"
                )[0]["consecutive_failures"] == 2


def test_failed_webhook_stays_pending_and_is_retried_with_the_same_id(
    tmp_path: Path, web: WebServer
) -> None:
    web.script("e2e-retry", [{"status": 503}, {"status": 503}])
    config = make_config(tmp_path, web, "e2e-retry", RSS20)
    result = newswatch(config, web, "e2e-retry", "run", "-vv")
    assert result.returncode == 1
    # Secrets (the signing secret and the webhook URL) never reach a log, even at -vv.
    assert " DEBUG " in result.stderr and " INFO scrapy" in result.stderr
    for secret in (SECRET, SECRET.removeprefix("whsec_"), web.hook_url("e2e-retry")):
        assert secret not in result.stderr and secret not in result.stdout
    db = tmp_path / "nw.db"
    assert {a["status"] for a in rows(db, "SELECT status FROM alerts")} <= {"failed", "pending"}
    first = web.hook_requests("e2e-retry")
    assert len(first) >= 1
    # Time passes: the row's next attempt is due.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alerts SET next_attempt_at = '2000-01-01T00:00:00Z'")
    result = newswatch(config, web, "e2e-retry", "alerts", "deliver")
    assert result.returncode == 0, result.stderr
    assert {a["status"] for a in rows(db, "SELECT status FROM alerts")} == {"sent"}
    received = web.hook_requests("e2e-retry")
    keys = {r["headers"]["webhook-id"] for r in received}
    assert len(keys) == len(rows(db, "SELECT id FROM alerts"))
    assert all(verify(SECRET, r["headers"], r["body"]) for r in received)
    status = newswatch(config, web, "e2e-retry", "alerts", "status", "--json")
    assert json.loads(status.stdout)["sent"] == len(keys)


def test_overlapping_run_exits_75_at_once(tmp_path: Path, web: WebServer) -> None:
    config = make_config(
        tmp_path, web, "e2e-lock",
        '\n[[source]]\nname = "slow"\nfeed = "BASE/_fault/slow?seconds=3"\nallow_private = true\n',
    )
    env = {**os.environ, "NW_HOOK_URL": web.hook_url("e2e-lock"), "NW_HOOK_SECRET": SECRET}
    first = subprocess.Popen([sys.executable, "-m", "crawler.cli", "run", "-c", str(config)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lock = tmp_path / "nw.db.lock"
        deadline = time.time() + 20
        while not (lock.exists() and lock.read_text().strip()) and time.time() < deadline:
            time.sleep(0.05)
        second = newswatch(config, web, "e2e-lock", "run")
        # 75 at once: had it waited for the lock, it would have run (and exited 1).
        assert second.returncode == 75
        assert "held by another newswatch process" in second.stderr
        assert first.poll() is None  # the first still holds it
    finally:
        first.communicate(timeout=60)
    assert first.returncode == 1  # it ran: the slow page is not a feed
    assert len(rows(tmp_path / "nw.db", "SELECT id FROM runs")) == 1


def test_a_killed_run_is_marked_aborted_by_the_next(tmp_path: Path, web: WebServer) -> None:
    config = make_config(tmp_path, web, "e2e-killed",
                         '\n[[source]]\nname = "slow"\nfeed = "BASE/_fault/slow?seconds=5"\n')
    env = {**os.environ, "NW_HOOK_URL": web.hook_url("e2e-killed"), "NW_HOOK_SECRET": SECRET}
    first = subprocess.Popen([sys.executable, "-m", "crawler.cli", "run", "-c", str(config)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        db = tmp_path / "nw.db"
        deadline = time.time() + 30
        while time.time() < deadline:
            if db.exists() and rows(db, "SELECT name FROM sqlite_master WHERE name = 'runs'") \
                    and rows(db, "SELECT id FROM runs"):
                break
            time.sleep(0.05)
        first.kill()  # kill -9: no finally block runs
    finally:
        first.communicate(timeout=60)
    assert [r["status"] for r in rows(db, "SELECT status FROM runs")] == ["running"]

    second = newswatch(config, web, "e2e-killed", "run")
    assert second.returncode == 1  # the slow page is not a feed
    runs = rows(db, "SELECT id, status, finished_at FROM runs ORDER BY id")
    assert [r["status"] for r in runs] == ["aborted", "partial"]
    assert runs[0]["finished_at"]
    assert "1 earlier run(s) ended without finishing; marked aborted" in second.stderr


def test_a_redacted_watch_hides_every_form_of_the_name_in_headlines(
    tmp_path: Path, web: WebServer
) -> None:
    config = make_config(tmp_path, web, "e2e-redact", FEEDS)
    (tmp_path / "watchlist.toml").write_text(
        WATCHLIST.replace('channels = ["hook"]\n', 'channels = ["hook"]\nredact = true\n', 1),
        encoding="utf-8",
    )
    result = newswatch(config, web, "e2e-redact", "run")
    assert result.returncode == 0, result.stderr
    titles = [json.loads(r["body"])["data"]["article"]["title"]
              for r in web.hook_requests("e2e-redact")]
    # The Kazakh headline names her in the genitive ("Айгерім Тулегенованың"), a form only
    # the matcher knows: it is hidden all the same.
    assert any(title.startswith("Блогер aigerim-tulegenova ") for title in titles), titles
    assert not any("Тулеген" in title or "Tulegen" in title for title in titles), titles
    with sqlite3.connect(tmp_path / "nw.db") as db:  # the database keeps the real headline
        stored = [row[0] for row in db.execute("SELECT title FROM articles")]
    assert any("Тулегенованың" in title for title in stored)


def test_match_lines_json(tmp_path: Path, web: WebServer) -> None:
    config = make_config(tmp_path, web, "e2e-match", FEEDS)
    text = ("Aigerim Tulegenova spoke.\nNothing here.\n"
            "Суд над Айгерим Тулегенова отложен. Aigerim Tulegenov is someone else.\n")
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "match", "--lines", "--json", "-c", str(config),
         "-"],
        input=text, capture_output=True, text=True, timeout=60,
        env={**os.environ, "NW_HOOK_URL": web.hook_url("x"), "NW_HOOK_SECRET": SECRET},
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [[h["watch_id"] for h in line["hits"]] for line in lines] == [
        ["aigerim-tulegenova"], [], ["aigerim-tulegenova", "aigerim-tulegenov"]
    ]
    assert lines[0]["hits"][0]["matched"] == "Aigerim Tulegenova"


def test_summary_counts_a_failed_alert_once(tmp_path: Path, web: WebServer) -> None:
    # rss20 has two Tulegenova stories: two alerts; the first is accepted, the second gets 500.
    text_dir, json_dir = tmp_path / "text", tmp_path / "json"
    text_dir.mkdir()
    json_dir.mkdir()
    web.script("e2e-counts", [{"status": 200}, {"status": 500}])
    result = newswatch(make_config(text_dir, web, "e2e-counts", RSS20), web, "e2e-counts", "run")
    assert result.returncode == 1, result.stderr  # a delivery failed
    statuses = sorted(row["status"] for row in rows(text_dir / "nw.db", "SELECT * FROM alerts"))
    assert statuses == ["failed", "sent"]
    (line,) = result.stdout.splitlines()
    assert line.endswith("; alerts 1 sent, 1 failed (1 will retry, 0 dead), 0 waiting"), line
    assert line.count("1 failed") == 1 and "pending" not in line

    web.script("e2e-counts-json", [{"status": 200}, {"status": 500}])
    config = make_config(json_dir, web, "e2e-counts-json", RSS20)
    result = newswatch(config, web, "e2e-counts-json", "run", "--json")
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["exit_code"] == 1
    assert summary["alerts_queued"] == 2 and summary["alerts_carried"] == 0
    counts = (summary["alerts_sent"], summary["alerts_failed"], summary["alerts_pending"])
    assert counts == (1, 1, 0)
    assert (summary["alerts_retrying"], summary["alerts_dead"]) == (1, 0)
    accounted = sum(
        summary[key]
        for key in ("alerts_sent", "alerts_summarized", "alerts_failed", "alerts_withdrawn",
                    "alerts_pending")
    )
    assert accounted == summary["alerts_queued"] + summary["alerts_carried"]

    # The next run finds the failed alert not yet due (its backoff, moved far ahead here so
    # that a slow machine cannot reach it): it waits, counted once more as carried over
    # from the run before, and the run is not a failure.
    with sqlite3.connect(json_dir / "nw.db") as conn:
        conn.execute("UPDATE alerts SET next_attempt_at = '2999-01-01T00:00:00Z' "
                     "WHERE status = 'failed'")
    again = json.loads(newswatch(config, web, "e2e-counts-json", "run", "--json").stdout)
    assert again["alerts_carried"] == 1 and again["alerts_queued"] == 0
    assert (again["alerts_sent"], again["alerts_failed"], again["alerts_pending"]) == (0, 0, 1)
    assert again["exit_code"] == 0
    # Once due, it is sent and nothing is left.
    with sqlite3.connect(json_dir / "nw.db") as conn:
        conn.execute("UPDATE alerts SET next_attempt_at = '2000-01-01T00:00:00Z'")
    last = json.loads(newswatch(config, web, "e2e-counts-json", "run", "--json").stdout)
    assert (last["alerts_carried"], last["alerts_sent"], last["alerts_pending"]) == (1, 1, 0)
    runs = rows(json_dir / "nw.db", "SELECT * FROM runs ORDER BY id")
    assert [r["alerts_retrying"] for r in runs] == [1, 0, 0]
    assert [r["alerts_pending"] for r in runs] == [0, 1, 0]


CASES = """
[[watch]]
id = "kostanay-insulin-trial"
kind = "case"
query = 'Kostanay AND insulin'
channels = ["hook", "console"]

[[watch]]
id = "diabetes-witnesses"
kind = "case"
name = "Diabetes patients as witnesses"
query = 'diabetes AND witness*'
channels = ["hook", "console"]
"""


def test_a_case_reaches_the_channels_under_its_name_or_its_id_in_words(
    tmp_path: Path, web: WebServer
) -> None:
    console = '\n[[channel]]\nid = "console"\ntype = "console"\n'
    config = make_config(tmp_path, web, "e2e-cases", RSS20 + console)
    (tmp_path / "watchlist.toml").write_text(CASES, encoding="utf-8")
    result = newswatch(config, web, "e2e-cases", "run")
    assert result.returncode == 0, result.stderr
    names = {}
    for request in web.hook_requests("e2e-cases"):
        data = json.loads(request["body"])["data"]
        names[data["watch_id"]] = data["watch_name"]
    assert names == {
        "kostanay-insulin-trial": "Kostanay insulin trial",
        "diabetes-witnesses": "Diabetes patients as witnesses",
    }
    assert "── alert: Kostanay insulin trial (kostanay-insulin-trial) ──" in result.stdout
    assert "── alert: Diabetes patients as witnesses (diabetes-witnesses) ──" in result.stdout
