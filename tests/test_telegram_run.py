"""End to end: Telegram channels read by ``newswatch run`` from a local preview server.

Each test serves its own folder (``serve_web``) and rewrites the channel between runs
(``tests/telegram_pages.py``): pages of five posts, ``?before=N`` for every N.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from alerts.signing import verify
from crawler.review.queries import Filters, load_queue
from tests.conftest import SECRET, WEB_ROOT, WebServer, newswatch_cli, serve_web
from tests.telegram_pages import TgPost, write_channel
from tests.test_distributed import redis_server, redis_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

CHANNEL = "steppe_rights"
NOW = "2026-11-20T12:00:00Z"
ARTICLE = "/news1/news/2026/11/tulegenova-trial-opens.html"

WATCHLIST = """
[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
aliases = ["Айгерим Тулегенова"]
channels = ["hook"]

[[watch]]
id = "serikzhan-bilash"
name = "Serikzhan Bilash"
aliases = ["Серікжан Біләш"]
channels = ["hook"]
"""

# Invented posts, in turn Russian, Kazakh and English; every fourth names nobody watched.
TEXTS = (
    "Суд над Айгерим Тулегеновой снова отложен. Заседание номер {n} перенесли, "
    "адвокат подала ходатайство.<br/>Мы будем следить за делом.",
    "Айгерим Тулегенованың ісі бойынша {n}-отырыс өтті. Құқық қорғаушылар сотқа жиналды.",
    "Day {n} of the trial: supporters of Aigerim Tulegenova stood outside the court "
    "in the snow.",
    "Weekly digest number {n}: water tariffs, snow clearing and the city budget.",
)


def post(n: int, **fields: Any) -> TgPost:
    """Post ``n``: one of the texts above, unless given; an hour apart, the newest last."""
    text = fields.pop("text", TEXTS[n % len(TEXTS)].format(n=n))
    return TgPost(n, text, when=f"2026-11-19T{n % 24:02d}:00:00+00:00", **fields)


def posts(first: int, last: int) -> list[TgPost]:
    """Posts ``first``..``last``, with a forward, a link preview and a photo alone among them."""
    found = []
    for n in range(first, last + 1):
        if n == 5:
            found.append(post(n, photo=True, text=""))
        elif n == 6:
            found.append(
                post(
                    n,
                    text="Serikzhan Bilash will speak at the press club on Friday.",
                    forwarded=("Atajurt Volunteers", "https://t.me/atajurt_volunteers/4410"),
                )
            )
        elif n == 7:
            found.append(
                post(
                    n,
                    text='Our statement: <a href="https://courier.example/statement">read it</a>',
                    preview=(
                        "https://courier.example/statement",
                        "Lawyers for Aigerim Tulegenova appeal",
                        "The defence says the court ignored three witnesses.",
                    ),
                )
            )
        else:
            found.append(post(n))
    return found


def text_posts(first: int, last: int) -> set[str]:
    return {f"https://t.me/{CHANNEL}/{n}" for n in range(first, last + 1) if n != 5}


def make_config(tmp_path: Path, web: WebServer, source: str = "") -> Path:
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
download_timeout = 10
telegram_base = "{web.url}"
telegram_delay = 0.05

[[channel]]
id = "hook"
type = "webhook"
url_env = "NW_HOOK_URL"
secret_env = "NW_HOOK_SECRET"

[[source]]
telegram = "https://t.me/s/{CHANNEL}"
language = "ru"
allow_private = true
{source}
""",
        encoding="utf-8",
    )
    return config


def newswatch(
    config: Path, web: WebServer, *args: str, now: str = NOW
) -> subprocess.CompletedProcess[str]:
    env = {"NW_HOOK_URL": web.hook_url("tg"), "NW_HOOK_SECRET": SECRET, "NEWSWATCH_NOW": now}
    return newswatch_cli(*args, "-c", str(config), env=env)


def run(
    config: Path, web: WebServer, now: str = NOW
) -> tuple[dict[str, Any], list[str], str]:
    """One ``newswatch run --json``: its summary, the preview pages it asked for, in order,
    and its standard error."""
    earlier = len(web.log("/s/"))
    result = newswatch(config, web, "run", "--json", now=now)
    assert result.returncode in (0, 1), result.stderr
    pages = [entry["path"] for entry in web.log("/s/")[earlier:]]
    return json.loads(result.stdout), pages, result.stderr


def rows(db: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def index(before: int | None = None) -> str:
    return f"/s/{CHANNEL}" + (f"?before={before}" if before is not None else "")


def test_runs_read_each_post_once_newest_first(tmp_path: Path) -> None:
    root = tmp_path / "web"
    write_channel(root, CHANNEL, posts(1, 12))
    with serve_web(root) as web:
        config = make_config(tmp_path, web)
        db = tmp_path / "nw.db"

        first, pages, _ = run(config, web)
        assert first["exit_code"] == 0 and first["sources_ok"] == 1
        assert pages == [index(), index(8), index(3)]  # back to the channel's first post
        assert first["articles_new"] == 11  # twelve posts, one a photo alone
        stored = {row["canonical_url"] for row in rows(db, "SELECT * FROM articles")}
        assert stored == text_posts(1, 12)

        write_channel(root, CHANNEL, posts(1, 15))
        second, pages, _ = run(config, web)
        assert pages == [index()]  # the three new posts are on the newest page
        assert second["articles_new"] == 3

        write_channel(root, CHANNEL, posts(1, 27))
        third, pages, _ = run(config, web)
        assert pages == [index(), index(23), index(18)]  # back to post 16, no further
        assert third["articles_new"] == 12

        idle, pages, _ = run(config, web)
        assert pages == [index()] and idle["articles_new"] == 0 and idle["exit_code"] == 0

    articles = rows(db, "SELECT * FROM articles ORDER BY id")
    assert {a["canonical_url"] for a in articles} == text_posts(1, 27)
    assert len(articles) == 26  # each post stored once
    by_id = {int(a["canonical_url"].rsplit("/", 1)[1]): a for a in articles}
    assert {a["source"] for a in articles} == {CHANNEL}
    assert by_id[8]["language"] == "ru" and by_id[9]["language"] == "kk"
    assert by_id[10]["language"] == "en"
    assert by_id[10]["published_at"] == "2026-11-19T10:00:00Z"
    assert by_id[8]["text"].splitlines()[1] == "Мы будем следить за делом."  # <br/>
    assert by_id[6]["text"].startswith("Forwarded from Atajurt Volunteers\n")
    assert "Lawyers for Aigerim Tulegenova appeal" in by_id[7]["text"]
    forward = rows(db, "SELECT * FROM telegram_posts WHERE post_id = 6")[0]
    assert forward["forwarded_url"] == "https://t.me/atajurt_volunteers/4410"
    assert rows(db, "SELECT newest_post_id, gaps FROM telegram_channels") == [
        {"newest_post_id": 27, "gaps": "[]"}
    ]
    # The review desk shows a post as an article of the channel's source.
    with sqlite3.connect(db) as conn:
        queue = load_queue(conn, Filters(source=CHANNEL))
    assert queue.total_hits == len(rows(db, "SELECT id FROM hits")) > 0


def test_a_429_waits_when_short_and_ends_the_run_when_long(tmp_path: Path) -> None:
    root = tmp_path / "web"
    write_channel(root, CHANNEL, posts(1, 12))
    with serve_web(root) as web:
        config = make_config(tmp_path, web)
        db = tmp_path / "nw.db"
        web.script_get(index(8), [{"status": 429, "headers": {"Retry-After": "1"}}])
        first, pages, _ = run(config, web)
        assert first["exit_code"] == 0
        assert pages == [index(), index(8), index(8), index(3)]  # asked again after the wait
        assert first["articles_new"] == 11

        write_channel(root, CHANNEL, posts(1, 24))
        web.script_get(index(15), [{"status": 429, "headers": {"Retry-After": "3600"}}])
        second, pages, stderr = run(config, web)
        assert second["exit_code"] == 1 and second["failed_sources"] == [CHANNEL]
        assert pages == [index(), index(20), index(15)]
        assert second["articles_new"] == 10  # posts 15 to 24; 13 and 14 wait
        reason = (
            "HTTP 429 Too Many Requests, asked to wait 3600 s (Retry-After); "
            "the next run reads on from here"
        )
        assert f"source {CHANNEL}: {web.url}{index(15)}: {reason}" in stderr
        assert "Traceback" not in stderr
        source = rows(db, "SELECT * FROM sources")[0]
        assert reason in source["last_error"] and source["consecutive_failures"] == 1
        assert rows(db, "SELECT newest_post_id, gaps FROM telegram_channels") == [
            {"newest_post_id": 24, "gaps": "[[12, 15]]"}
        ]

        write_channel(root, CHANNEL, posts(1, 26))
        third, pages, _ = run(config, web)
        assert third["exit_code"] == 0
        assert pages == [index(), index(15)]  # the new posts, then the gap
        assert third["articles_new"] == 4
    assert {a["canonical_url"] for a in rows(db, "SELECT * FROM articles")} == text_posts(1, 26)
    assert rows(db, "SELECT gaps FROM telegram_channels") == [{"gaps": "[]"}]
    assert rows(db, "SELECT consecutive_failures FROM sources") == [{"consecutive_failures": 0}]


def test_a_linked_article_joins_the_post_story_and_alerts_once(tmp_path: Path) -> None:
    root = tmp_path / "web"
    (root / Path(ARTICLE).parent.relative_to("/")).mkdir(parents=True)
    shutil.copy(WEB_ROOT / ARTICLE.lstrip("/"), root / ARTICLE.lstrip("/"))
    linking = post(
        1,
        text="Суд над Айгерим Тулегеновой начался. Репортаж из зала: "
        f'<a href="{{{{BASE}}}}{ARTICLE}?utm_source=telegram">courier</a>',
    )
    other = post(2, text='Who we are: <a href="{{BASE}}/about/">about us</a>')
    write_channel(root, CHANNEL, [linking, other, post(3, photo=True, text="")])
    with serve_web(root) as web:
        config = make_config(tmp_path, web, "follow_links = true\nfollow = ['/news1/news/']")
        db = tmp_path / "nw.db"
        first, pages, _ = run(config, web)
        assert first["exit_code"] == 0, first
        assert first["articles_new"] == 3  # two posts and the article
        assert not web.log("/about/")  # not an article link by the follow rules

        articles = {a["canonical_url"]: a for a in rows(db, "SELECT * FROM articles")}
        post_url, article_url = f"https://t.me/{CHANNEL}/1", f"{web.url}{ARTICLE}"
        assert articles[article_url]["story_id"] == articles[post_url]["story_id"]
        assert articles[article_url]["source"] == CHANNEL

        received = web.hook_requests("tg")
        assert len(received) == 1  # one (watch, story): the post and the article
        # Signed at the run's instant (NEWSWATCH_NOW), not this process's.
        assert verify(SECRET, received[0]["headers"], received[0]["body"], tolerance=None)
        data = json.loads(received[0]["body"])["data"]
        assert data["watch_id"] == "aigerim-tulegenova"
        assert data["article"]["url"] == post_url
        assert data["article"]["source"] == f"Telegram {CHANNEL}"
        assert data["also_reported_by"] == [article_url]

        # A post that repeats the article's text joins its story by itself: no new alert.
        paragraphs = [
            line.strip().removeprefix("<p>").removesuffix("</p>")
            for line in (root / ARTICLE.lstrip("/")).read_text(encoding="utf-8").splitlines()
            if line.strip().startswith("<p>") and "Tulegenova" in line
        ]
        repeat = post(4, text="<br/><br/>".join(paragraphs))
        write_channel(root, CHANNEL, [linking, other, post(3, photo=True, text=""), repeat])
        second, pages, _ = run(config, web)
        assert pages == [index()] and second["articles_new"] == 1
        assert second["stories_new"] == 0 and second["alerts_sent"] == 0
        assert len(web.hook_requests("tg")) == 1
    story = rows(db, "SELECT story_id FROM articles WHERE canonical_url = ?", post_url)
    assert rows(db, "SELECT article_count FROM stories WHERE id = ?", story[0]["story_id"]) == [
        {"article_count": 3}
    ]
    assert Counter(a["status"] for a in rows(db, "SELECT status FROM alerts")) == {"sent": 1}


def test_a_channel_without_a_public_preview_fails_with_a_reason(tmp_path: Path) -> None:
    root = tmp_path / "web"
    (root / "s" / CHANNEL).mkdir(parents=True)
    (root / "s" / CHANNEL / "index.html").write_text(
        "<html><body><div class='tgme_page'>Steppe Rights</div></body></html>",
        encoding="utf-8",
    )
    with serve_web(root) as web:
        config = make_config(tmp_path, web)
        summary, pages, stderr = run(config, web)
    assert summary["exit_code"] == 1 and pages == [index()]
    assert "no public preview of this channel" in stderr


def test_crawl_workers_read_channels_for_the_ingest_side(
    tmp_path: Path, redis_url: str  # noqa: F811 (the fixture)
) -> None:
    root = tmp_path / "web"
    (root / Path(ARTICLE).parent.relative_to("/")).mkdir(parents=True)
    shutil.copy(WEB_ROOT / ARTICLE.lstrip("/"), root / ARTICLE.lstrip("/"))
    link = f'<a href="{{{{BASE}}}}{ARTICLE}">репортаж</a>'
    channel = [*posts(2, 12), post(1, text=f"Суд над Айгерим Тулегеновой: {link}")]
    write_channel(root, CHANNEL, channel)
    with serve_web(root) as web:
        config = make_config(tmp_path, web, "follow_links = true")
        env = {**os.environ, "NEWSWATCH_NOW": NOW}
        command = [
            sys.executable, "-m", "crawler.cli", "crawl", "--redis", redis_url, "-c", str(config)
        ]
        logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
        workers = []
        for log in logs:
            with log.open("w") as out:
                workers.append(
                    subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
                )
        try:
            first = newswatch(config, web, "ingest", "--redis", redis_url, "--json")
            assert first.returncode == 0, first.stderr
            assert json.loads(first.stdout)["articles_new"] == 12  # eleven posts, one article
            pages = Counter(e["path"] for e in web.log("/s/"))
            assert pages == {index(): 1, index(8): 1, index(3): 1}  # each page by one worker
            db = tmp_path / "nw.db"
            articles = {a["canonical_url"]: a for a in rows(db, "SELECT * FROM articles")}
            assert set(articles) == text_posts(1, 12) | {f"{web.url}{ARTICLE}"}
            assert articles[f"{web.url}{ARTICLE}"]["story_id"] == (
                articles[f"https://t.me/{CHANNEL}/1"]["story_id"]
            )
            assert rows(db, "SELECT newest_post_id FROM telegram_channels") == [
                {"newest_post_id": 12}
            ]
            again = newswatch(config, web, "ingest", "--redis", redis_url, "--json")
            assert again.returncode == 0, again.stderr
            assert json.loads(again.stdout)["articles_new"] == 0
            assert Counter(e["path"] for e in web.log("/s/"))[index()] == 2
            assert sum(Counter(e["path"] for e in web.log("/s/")).values()) == 4
            # Two hours on, the posts with a hit and the linked article are read again.
            earlier = len(web.log())
            later = newswatch(
                config, web, "ingest", "--redis", redis_url, "--json", now="2026-11-20T14:00:00Z"
            )
            assert later.returncode == 0, later.stderr
            with_hits = {
                row["canonical_url"]
                for row in rows(
                    db, "SELECT DISTINCT a.canonical_url FROM hits h "
                    "JOIN articles a ON a.id = h.article_id"
                )
            }
            asked = Counter(e["path"] for e in web.log()[earlier:] if e["method"] == "GET")
            embeds = {p for p in asked if "embed=1" in p}
            assert embeds == {
                f"/{CHANNEL}/{url.rsplit('/', 1)[1]}?embed=1&mode=tme"
                for url in with_hits
                if url.startswith("https://t.me/")
            }
            assert asked[ARTICLE] == 1 and set(asked.values()) == {1}
            assert rows(db, "SELECT COUNT(*) AS n FROM evidence WHERE url LIKE '%embed=1%'") == [
                {"n": len(embeds)}
            ]
        finally:
            for worker in workers:
                worker.terminate()
        for worker, log in zip(workers, logs, strict=True):
            assert worker.wait(timeout=30) == 0
            text = log.read_text()
            assert "Traceback" not in text and "Deprecat" not in text, text


def test_posts_with_hits_are_read_again_and_kept_as_evidence(tmp_path: Path) -> None:
    root = tmp_path / "web"
    quiet = "Weekly digest: water tariffs, snow clearing and the city budget."
    edited = post(1, text="Aigerim Tulegenova was released on bail this morning.")
    first = [edited, post(2, text=quiet), post(3, text="Aigerim Tulegenova is on hunger strike.")]
    write_channel(root, CHANNEL, first)
    with serve_web(root) as web:
        config = make_config(tmp_path, web)
        db = tmp_path / "nw.db"
        summary, _, _ = run(config, web)
        assert summary["articles_new"] == 3 and summary["alerts_sent"] == 2
        # The preview page the posts were read from is the evidence of the two with a hit.
        page = web.client.get(index()).content
        evidence = rows(
            db,
            "SELECT a.canonical_url, e.url, e.sha256, e.status FROM evidence e "
            "JOIN articles a ON a.id = e.article_id ORDER BY a.id",
        )
        assert [row["canonical_url"] for row in evidence] == [
            f"https://t.me/{CHANNEL}/3",
            f"https://t.me/{CHANNEL}/1",
        ]
        assert {(row["url"], row["sha256"], row["status"]) for row in evidence} == {
            (f"{web.url}{index()}", hashlib.sha256(page).hexdigest(), 200)
        }

        # An hour later than their first read, the posts with a hit are due: one was
        # edited to name another watched person, one was deleted.
        changed = "Aigerim Tulegenova was released on bail; Serikzhan Bilash met her."
        write_channel(root, CHANNEL, [post(1, text=changed), post(2, text=quiet)], last_id=3)
        earlier = len(web.log())
        later, pages, _ = run(config, web, now="2026-11-20T14:00:00Z")
        assert later["exit_code"] == 0 and later["articles_new"] == 0
        asked = [
            entry["path"]
            for entry in web.log()[earlier:]
            if entry["method"] == "GET" and entry["path"] != "/robots.txt"
        ]
        assert sorted(asked) == sorted(
            [index(), f"/{CHANNEL}/1?embed=1&mode=tme", f"/{CHANNEL}/3?embed=1&mode=tme"]
        )
        assert pages == [index()]
        received = [json.loads(r["body"]) for r in web.hook_requests("tg")]

    articles = {a["canonical_url"]: a for a in rows(db, "SELECT * FROM articles")}
    one, three = articles[f"https://t.me/{CHANNEL}/1"], articles[f"https://t.me/{CHANNEL}/3"]
    assert one["text"] == changed and one["updated_at"] is not None
    assert rows(db, "SELECT text FROM article_revisions WHERE article_id = ?", one["id"]) == [
        {"text": "Aigerim Tulegenova was released on bail this morning."}
    ]
    assert three["removed_at"] is not None and three["removed_reason"] == "deleted from the channel"
    assert articles[f"https://t.me/{CHANNEL}/2"]["next_revisit_at"] is not None  # not yet due
    updated = [r for r in received if r["data"]["watch_id"] == "serikzhan-bilash"]
    assert len(updated) == 1 and updated[0]["data"]["article"]["url"] == one["canonical_url"]
    assert updated[0]["data"]["article"]["updated_at"]
    # Each read again is evidence too, from the post's own page.
    again = rows(db, "SELECT url FROM evidence WHERE url LIKE '%embed=1%' ORDER BY url")
    assert [row["url"].removeprefix(web.url) for row in again] == [
        f"/{CHANNEL}/1?embed=1&mode=tme",
        f"/{CHANNEL}/3?embed=1&mode=tme",
    ]


def test_sources_test_reads_a_channel_without_storing_it(tmp_path: Path) -> None:
    root = tmp_path / "web"
    write_channel(root, CHANNEL, posts(1, 12))
    with serve_web(root) as web:
        config = make_config(tmp_path, web)
        tested = newswatch(config, web, "sources", "test", CHANNEL, "--max-articles", "4")
        as_json = newswatch(config, web, "sources", "test", CHANNEL, "--json")
        pages = [entry["path"] for entry in web.log("/s/")]
    assert tested.returncode == 0, tested.stderr
    lines = tested.stdout.splitlines()
    assert lines[0] == f"source {CHANNEL}: telegram https://t.me/s/{CHANNEL}"
    assert lines[1] == f"  channel {web.url}{index()}: 5 posts with text"
    assert "  4 articles it would collect:" in lines
    assert f"    https://t.me/{CHANNEL}/12" in lines and "  problems: none" in lines
    report = json.loads(as_json.stdout)
    assert [a["url"] for a in report["articles"]][:2] == [
        f"https://t.me/{CHANNEL}/12",
        f"https://t.me/{CHANNEL}/11",
    ]
    assert len(report["articles"]) == 11 and not report["problems"]  # 12 posts, a photo alone
    assert pages == [index(), index(), index(8), index(3)]
    assert not (tmp_path / "nw.db").exists()  # nothing stored


def test_a_channel_of_photos_alone_is_blind(tmp_path: Path) -> None:
    root = tmp_path / "web"
    write_channel(root, CHANNEL, [post(n, photo=True, text="") for n in (1, 2, 3)])
    with serve_web(root) as web:
        summary, pages, stderr = run(make_config(tmp_path, web), web)
    assert pages == [index()] and summary["articles_new"] == 0
    source = rows(tmp_path / "nw.db", "SELECT status, last_error FROM sources")[0]
    assert source["status"] == "stale"
    assert source["last_error"] == "the channel's preview answered but shows no post with text"
    assert f"source {CHANNEL}: stale: the channel's preview answered" in stderr
