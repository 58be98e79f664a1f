"""What the spiders fetch from third-party links: http(s) only, each bad link alone, failures noted.

Feeds, sitemaps and section pages are written by whoever runs the site; each test
serves a small site of its own and runs ``newswatch run`` on it in a subprocess.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SECRET, WEB_ROOT, WebServer, newswatch_cli, serve_web

pytestmark = pytest.mark.e2e

MARKER = "Kestrel-7 memo"  # only in the local file a feed points at

WATCH = """
[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
channels = ["hook"]

[[channel]]
id = "hook"
type = "webhook"
url_env = "NW_HOOK_URL"
secret_env = "NW_HOOK_SECRET"
"""

COURT = (WEB_ROOT / "feeds" / "articles" / "court-tulegenova.html").read_text(encoding="utf-8")


def article(title: str) -> str:
    """A test article page (a hit on the watch) under its own title, with no canonical URL."""
    page = "\n".join(line for line in COURT.splitlines() if "{{BASE}}" not in line)
    return page.replace("<h1>", f"<h1>{title}: ").replace(
        '<div class="story-body">', f'<div class="story-body">\n<p>{title} reports.</p>'
    )


def rss(links: list[str]) -> str:
    items = "\n".join(
        f"<item><title>Item {n}</title><link>{link.replace('&', '&amp;')}</link>"
        f"<pubDate>Mon, 16 Nov 2026 0{n % 10}:00:00 GMT</pubDate></item>"
        for n, link in enumerate(links)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
        f"<link>{{{{BASE}}}}/</link><description>Test</description>{items}</channel></rss>"
    )


def urlset(locs: list[str], kind: str = "urlset", tag: str = "url") -> str:
    entries = "".join(f"<{tag}><loc>{loc}</loc></{tag}>" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<{kind} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</{kind}>'
    )


def run(
    tmp_path: Path,
    web: WebServer,
    sources: str,
    *args: str,
    crawl: str = "",
    base_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``newswatch run`` over these sources with the watch below and its webhook."""
    config = tmp_path / "newswatch.toml"
    config.write_text(
        f'database = "nw.db"\n\n[alerts]\nbackfill_hours = 0\n\n'
        f"[crawl]\nautothrottle = false\nretries = 0\n{crawl}\n{WATCH}\n{sources}",
        encoding="utf-8",
    )
    env = {"NW_HOOK_URL": web.hook_url(tmp_path.name), "NW_HOOK_SECRET": SECRET}
    return newswatch_cli("run", "-c", str(config), *args, env=env, base_env=base_env)


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql)]


def wire_source(web: WebServer) -> str:
    return f'\n[[source]]\nname = "wire"\nfeed = "{web.url}/feed.xml"\nallow_private = true\n'


def test_links_to_local_files_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "private" / "memo.html"
    secret.parent.mkdir()
    secret.write_text(article(MARKER), encoding="utf-8")
    root = tmp_path / "web"
    (root / "news" / "2026").mkdir(parents=True)
    for name in ("feed-good", "sitemap-good", "section-good"):
        (root / "news" / "2026" / f"{name}.html").write_text(article(name), encoding="utf-8")
    file_links = [f"file://localhost{secret}", f"file:{secret}", f"file://{secret}"]
    (root / "feed.xml").write_text(
        rss([
            *file_links,
            # A redirect to a file is not followed either.
            f"{{{{BASE}}}}/_fault/redirect?to=file://localhost{secret}",
            "{{BASE}}/news/2026/feed-good.html",
        ]),
        encoding="utf-8",
    )
    hrefs = [*file_links, "2026/section-good.html"]
    anchors = "".join(f'<a href="{link}">{n}</a> ' for n, link in enumerate(hrefs))
    (root / "news" / "index.html").write_text(f"<html><body>{anchors}</body></html>", "utf-8")
    with serve_web(root) as web:
        # The site under the name localhost: file://localhost/... then counts as the same
        # site, so only the scheme check keeps it out.
        site = web.url.replace("127.0.0.1", "localhost")
        (root / "sitemap-index.xml").write_text(
            urlset([f"file://localhost{secret}", f"{site}/sitemap.xml"], "sitemapindex", "sitemap"),
            encoding="utf-8",
        )
        (root / "sitemap.xml").write_text(
            urlset([*file_links, f"{site}/news/2026/sitemap-good.html"]), encoding="utf-8"
        )
        sources = wire_source(web) + (
            f'\n[[source]]\nname = "herald"\nsite = "{site}/"\nallow_private = true\n'
            f'sitemaps = ["{site}/sitemap-index.xml"]\nsections = ["{site}/news/"]\n'
        )
        result = run(tmp_path, web, sources, "-v")
        assert result.returncode == 0, result.stderr
        hooks = web.hook_requests(tmp_path.name)
    articles = rows(tmp_path / "nw.db", "SELECT url, text FROM articles")
    assert sorted(row["url"].rsplit("/", 1)[1] for row in articles) == [
        "feed-good.html", "section-good.html", "sitemap-good.html"
    ]
    assert not [row for row in articles if MARKER in row["text"]]
    # One story (the three pages tell it alike), one alert; the memo is in none.
    assert len(hooks) == 1 and MARKER not in hooks[0]["body"]
    # Skipped and counted, not errors: the -v log says so once per link. The feed's three;
    # the sitemap index's one; the sitemap's one with a host (the others, and the section
    # page's, are not links to the site at all).
    skipped = [line for line in result.stderr.splitlines() if "skipping link 'file:" in line]
    assert len(skipped) == 3 + 1 + 1, skipped
    assert all("not an http(s) URL (file scheme)" in line for line in skipped)
    wire = rows(tmp_path / "nw.db", "SELECT * FROM sources WHERE name = 'wire'")[0]
    assert wire["consecutive_failures"] == 0
    assert wire["last_error"].startswith("1 article not fetched: ")
    assert wire["last_error"].endswith("/_fault/redirect?to=file://localhost"
                                       f"{secret}: HTTP 302")


def test_bad_links_are_skipped_one_by_one(tmp_path: Path) -> None:
    root = tmp_path / "web"
    (root / "news").mkdir(parents=True)
    goods = [f"good-{n}" for n in range(4)]
    for name in goods:
        (root / "news" / f"{name}.html").write_text(article(name), encoding="utf-8")
    (root / "feed.xml").write_text(
        rss([
            "javascript:void(0)", "{{BASE}}/news/good-0.html",
            "mailto:editor@example.org", "{{BASE}}/news/good-1.html",
            "http://[::1", "http://127.0.0.1:99999/x", "{{BASE}}/news/good-2.html",
            "data:text/html,<p>Aigerim Tulegenova</p>", "ftp://example.org/x.html",
            "{{BASE}}/news/good-3.html",
        ]),
        encoding="utf-8",
    )
    with serve_web(root) as web:
        sources = wire_source(web)
        result = run(tmp_path, web, sources, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # nothing to warn about
    assert json.loads(result.stdout)["articles_new"] == len(goods)
    stored = sorted(row["url"].rsplit("/", 1)[1] for row in
                    rows(tmp_path / "nw.db", "SELECT url FROM articles"))
    assert stored == [f"{name}.html" for name in goods]
    (wire,) = rows(tmp_path / "nw.db", "SELECT * FROM sources")
    assert wire["consecutive_failures"] == 0 and wire["last_error"] is None


def test_articles_that_cannot_be_fetched_are_noted_while_the_source_stays_ok(
    tmp_path: Path,
) -> None:
    root = tmp_path / "web"
    (root / "news").mkdir(parents=True)
    (root / "news" / "good.html").write_text(article("Good"), encoding="utf-8")
    (root / "feed.xml").write_text(
        rss([
            "{{BASE}}/news/good.html",
            "{{BASE}}/news/missing.html",
            "{{BASE}}/_fault/big?bytes=300000",
            "{{BASE}}/_fault/loop",  # A redirects to B, B back to A
        ]),
        encoding="utf-8",
    )
    with serve_web(root) as web:
        sources = wire_source(web)
        result = run(tmp_path, web, sources, crawl="max_page_bytes = 200000")
        base = web.url
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the source is ok: no warning line for it
    assert [row["url"] for row in rows(tmp_path / "nw.db", "SELECT url FROM articles")] == [
        f"{base}/news/good.html"
    ]
    (wire,) = rows(tmp_path / "nw.db", "SELECT * FROM sources")
    assert wire["consecutive_failures"] == 0 and wire["last_ok_at"]
    note = wire["last_error"]
    assert note.startswith("3 articles not fetched: "), note
    assert f"{base}/news/missing.html: HTTP 404" in note
    assert f"{base}/_fault/big?bytes=300000: too big: 300000 bytes, over max_page_bytes" in note
    assert (
        f"{base}/_fault/loop: redirect loop: {base}/_fault/loop?back=1 redirects back to "
        f"{base}/_fault/loop" in note
    )


def test_a_broken_feed_without_a_usable_entry_is_a_failed_fetch(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    # Not well-formed (the channel is never closed, an entity is undefined) and its
    # items carry no link: nothing in it can be fetched.
    (root / "stub.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Stub &nbsp; wire</title>'
        "<item><title>Placeholder one</title></item><item><title>Placeholder two</title>",
        encoding="utf-8",
    )
    with serve_web(root) as web:
        source = f'[[source]]\nname = "stub"\nfeed = "{web.url}/stub.xml"\nallow_private = true\n'
        result = run(tmp_path, web, source)
    assert result.returncode == 1, result.stderr
    (health,) = rows(tmp_path / "nw.db", "SELECT last_error, consecutive_failures FROM sources")
    assert "not a feed (no entry with a link)" in health["last_error"]
    assert health["consecutive_failures"] == 1
    assert "sources 0 ok" in result.stdout and "1 failed (stub)" in result.stdout
