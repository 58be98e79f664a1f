"""End to end: syndicated copies become one story and one alert per (watch, story), over two runs.

Three outlets on the session test server carry the same agency story (tests/data/web/syndication,
see its README): Steppe Wire's original, Dala Times' copy (new intro and headline, an
"Originally published by" line, its own boilerplate, a utm/fbclid feed link and a rel=canonical
pointing off-site) and Qala Post's exact copy. Hard negatives sit beside them: a second story
about the same person on the same day, and a follow-up that quotes the first. A fourth outlet,
Steppe Digest, is a second server over a temp dir that the test rewrites between the runs: the
second run brings a late copy of the agency story and, behind a redirect, an updated text of an
article stored in the first run.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from alerts.signing import verify
from crawler.extraction.urls import canonicalize
from tests.conftest import WEB_ROOT, WebServer, newswatch_cli, serve_web
from tests.test_run import SECRET, rows

pytestmark = pytest.mark.e2e

SYNDICATION = WEB_ROOT / "syndication"

WIRE = "/syndication/wire/2026/11/"
DALA = "/syndication/dala/news/2026/11/"
QALA = "/syndication/qala/news/2026/11/"

CONFIG = """
database = "nw.db"

[crawl]
autothrottle = false
retries = 0
download_timeout = 5

[alerts]
backfill_hours = 0  # the fixtures carry fixed dates; every hit here is news

[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
aliases = ["Айгерим Тулегенова"]
channels = {channels}

[[channel]]
id = "hook"
type = "webhook"
url_env = "NW_HOOK_URL"
secret_env = "NW_HOOK_SECRET"

[[channel]]
id = "hook2"
type = "webhook"
url_env = "NW_HOOK2_URL"
secret_env = "NW_HOOK_SECRET"

[[source]]
name = "steppe-wire"
feed = "{web}/syndication/wire/feed.xml"
allow_private = true

[[source]]
name = "dala-times"
feed = "{web}/syndication/dala/feed.xml"
allow_private = true

[[source]]
name = "qala-post"
site = "{web}/syndication/qala/"
allow_private = true
sections = ["{web}/syndication/qala/news/"]
follow = ['/syndication/qala/news/\\d{{4}}/']

[[source]]
name = "steppe-digest"
feed = "{later}/later/feed.xml"
allow_private = true
"""


def write_config(tmp_path: Path, web: WebServer, later: WebServer, channels: list[str]) -> Path:
    config = tmp_path / "newswatch.toml"
    text = CONFIG.format(web=web.url, later=later.url, channels=json.dumps(channels))
    config.write_text(text, encoding="utf-8")
    return config


def run(config: Path, web: WebServer, hooks: tuple[str, str]) -> dict[str, Any]:
    env = {
        "NW_HOOK_URL": web.hook_url(hooks[0]),
        "NW_HOOK2_URL": web.hook_url(hooks[1]),
        "NW_HOOK_SECRET": SECRET,
    }
    result = newswatch_cli("run", "--json", "-c", str(config), env=env)
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def stage(later_root: Path, run_number: int) -> None:
    """Lay out Steppe Digest's site as it is at the given run."""
    target = later_root / "later"
    target.mkdir(parents=True, exist_ok=True)
    source = SYNDICATION / "later"
    shutil.copy(source / f"feed-{run_number}.xml", target / "feed.xml")
    shutil.copy(source / f"hearing-{run_number}.html", target / "hearing.html")
    if run_number == 2:
        for name in ("appeal-digest.html", "mother-digest.html"):
            shutil.copy(source / name, target / name)


def stories_by_path(db: Path, *bases: str) -> dict[str, int]:
    """Each stored article's path (its canonical URL without the server's base) -> story id."""
    found = {}
    for row in rows(db, "SELECT canonical_url, story_id FROM articles"):
        url = row["canonical_url"]
        for base in bases:
            url = url.removeprefix(base)
        found[url] = row["story_id"]
    return found


def test_one_story_one_alert_across_outlets_and_runs(tmp_path: Path, web: WebServer) -> None:
    hooks = (f"stories-{tmp_path.name}", f"stories2-{tmp_path.name}")
    later_root = tmp_path / "later-site"
    stage(later_root, 1)
    with serve_web(later_root) as later:
        config = write_config(tmp_path, web, later, ["hook"])
        db = tmp_path / "nw.db"

        # --- run 1: the agency story, two copies, two hard negatives, one more story
        first = run(config, web, hooks)
        assert first["sources_failed"] == 0
        story_of = stories_by_path(db, web.url, later.url)
        appeal = story_of[WIRE + "tulegenova-appeal-filed.html"]
        mother = story_of[WIRE + "tulegenova-mother-pleads.html"]
        assert sorted(story_of) == sorted(
            [
                WIRE + "tulegenova-appeal-filed.html",
                WIRE + "tulegenova-mother-pleads.html",
                WIRE + "tulegenova-appeal-hearing-date.html",
                # utm_*/fbclid dropped; the off-site rel=canonical (steppewire.example) ignored
                DALA + "tulegenova-appeal/",
                # reached only through its AMP URL; its rel=canonical names the full page
                DALA + "tulegenova-mother/",
                QALA + "appeal-tulegenova.html",
                QALA + "bus-routes.html",
                "/later/hearing.html",
            ]
        )
        # Copies join the agency story; the hard negatives stay stories of their own.
        assert story_of[DALA + "tulegenova-appeal/"] == appeal
        assert story_of[QALA + "appeal-tulegenova.html"] == appeal
        assert story_of[DALA + "tulegenova-mother/"] == mother
        followup = story_of[WIRE + "tulegenova-appeal-hearing-date.html"]
        hearing = story_of["/later/hearing.html"]
        assert len({appeal, mother, followup, hearing, story_of[QALA + "bus-routes.html"]}) == 5
        assert first["stories_new"] == 5 and first["articles_new"] == 8

        similarity = {
            r["canonical_url"].removeprefix(web.url): r["story_similarity"]
            for r in rows(db, "SELECT canonical_url, story_similarity FROM articles")
        }
        # Qala Post's copy is word for word the agency text: an exact fingerprint match
        # (whichever of the two was stored second carries it).
        assert 1.0 in (
            similarity[QALA + "appeal-tulegenova.html"],
            similarity[WIRE + "tulegenova-appeal-filed.html"],
        )
        assert (
            similarity[DALA + "tulegenova-mother/"]
            or similarity[WIRE + "tulegenova-mother-pleads.html"]
        )

        stories = {r["id"]: r for r in rows(db, "SELECT * FROM stories")}
        assert stories[appeal]["article_count"] == 3
        assert stories[mother]["article_count"] == 2
        assert stories[appeal]["title"] in {
            "Lawyers for Aigerim Tulegenova file appeal against eight-year sentence",
            "Tulegenova defence says trial court ignored the evidence",
        }
        hits = rows(
            db,
            "SELECT hits.story_id, articles.story_id AS article_story FROM hits "
            "JOIN articles ON articles.id = hits.article_id",
        )
        assert len(hits) == 7  # every article naming her; not the bus routes
        assert all(h["story_id"] == h["article_story"] for h in hits)

        # One alert per (watch, story): four stories name her, four webhooks arrive.
        alerts = rows(db, "SELECT * FROM alerts")
        assert sorted(a["story_id"] for a in alerts) == sorted([appeal, mother, followup, hearing])
        assert {a["status"] for a in alerts} == {"sent"}
        received = web.hook_requests(hooks[0])
        assert len(received) == 4
        bodies = {}
        for request in received:
            assert verify(SECRET, request["headers"], request["body"])
            data = json.loads(request["body"])["data"]
            bodies[data["story_id"]] = data
        assert sorted(bodies) == sorted([appeal, mother, followup, hearing])
        # The other outlets' copies are listed, not alerted.
        appeal_urls = {
            canonicalize(r["url"])
            for r in rows(db, "SELECT url FROM articles WHERE story_id = ?", appeal)
        }
        alerted = canonicalize(bodies[appeal]["article"]["url"])
        assert {canonicalize(u) for u in bodies[appeal]["also_reported_by"]} == appeal_urls - {
            alerted
        }
        assert bodies[followup]["also_reported_by"] == []

        # --- between the runs: an editor marks the mother story irrelevant for the
        # watch, staff add a second channel, and Steppe Digest publishes again.
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE hits SET status = 'irrelevant' WHERE story_id = ?", [mother])
        config = write_config(tmp_path, web, later, ["hook", "hook2"])
        stage(later_root, 2)
        hearing_before = rows(db, "SELECT * FROM articles WHERE story_id = ?", hearing)[0]

        # --- run 2: late copies of both agency stories; an updated text behind a short link
        second = run(config, web, hooks)
        assert second["articles_new"] == 2 and second["stories_new"] == 0
        story_of = stories_by_path(db, web.url, later.url)
        assert story_of["/later/appeal-digest.html"] == appeal
        assert story_of["/later/mother-digest.html"] == mother
        counts = {r["id"]: r["article_count"] for r in rows(db, "SELECT * FROM stories")}
        assert counts[appeal] == 4 and counts[mother] == 3

        # The updated article: same row and story, new text and hash, old text kept.
        hearing_after = rows(db, "SELECT * FROM articles WHERE id = ?", hearing_before["id"])[0]
        assert hearing_after["story_id"] == hearing
        assert hearing_after["content_hash"] != hearing_before["content_hash"]
        assert "4 December" in hearing_after["text"]
        assert hearing_after["updated_at"] and hearing_before["updated_at"] is None
        revisions = rows(
            db, "SELECT * FROM article_revisions WHERE article_id = ?", hearing_before["id"]
        )
        assert [r["content_hash"] for r in revisions] == [hearing_before["content_hash"]]
        assert "16 December" in revisions[0]["text"]
        # The short link is remembered as a name of the article, so it is not fetched again.
        short_link = canonicalize(f"{later.url}/_fault/redirect?to={later.url}/later/hearing.html")
        assert rows(db, "SELECT article_id FROM article_urls WHERE url = ?", short_link) == [
            {"article_id": hearing_before["id"]}
        ]

        # No second alert on the first channel for any story, none for the update; the
        # new channel hears of the agency story through its late copy, and never of
        # the story the editor marked irrelevant.
        assert len(web.hook_requests(hooks[0])) == 4
        alerts = rows(db, "SELECT watch_id, story_id, channel FROM alerts")
        assert sorted((a["story_id"], a["channel"]) for a in alerts) == sorted(
            [
                (appeal, "hook"),
                (mother, "hook"),
                (followup, "hook"),
                (hearing, "hook"),
                (appeal, "hook2"),
            ]
        )
        late = web.hook_requests(hooks[1])
        assert [json.loads(r["body"])["data"]["story_id"] for r in late] == [appeal]
        late_data = json.loads(late[0]["body"])["data"]
        assert {canonicalize(u) for u in late_data["also_reported_by"]} | {
            canonicalize(late_data["article"]["url"])
        } == appeal_urls | {canonicalize(f"{later.url}/later/appeal-digest.html")}
        runs = rows(db, "SELECT articles_new, stories_new FROM runs ORDER BY id")
        assert [(r["articles_new"], r["stories_new"]) for r in runs] == [(8, 5), (2, 0)]
