"""Never blind without knowing it: blind and quiet sources, silent watches, sources test and
discover, one fetch per article; the CLI in a subprocess against local sites."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.signing import verify
from tests.conftest import SECRET, WebServer, newswatch_cli, serve_web

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]

WORDS = [
    "court", "appeal", "lawyer", "hearing", "judge", "witness", "verdict", "prison",
    "activist", "village", "council", "budget", "river", "bridge", "school", "winter",
    "harvest", "market", "railway", "hospital", "election", "minister", "protest", "archive",
    "library", "theatre", "museum", "festival", "football", "mountain", "lake", "factory",
    "workers", "union", "tariff", "water", "heating", "doctors", "nurses", "students",
    "teachers", "farmers", "drivers", "pensioners", "police", "journalist", "editor",
    "newspaper", "radio", "broadcast", "interview", "letter", "petition", "statement",
    "report",
]


def article_page(title: str, published: str, extra: str = "") -> str:
    """An article page the extractor accepts: a headline, a date and a few paragraphs, whose
    words differ from one title to the next (so that no two are one story)."""
    rng = random.Random(title)
    body = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(30)) + f". {extra}</p>"
        for _ in range(4)
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta property="og:type" content="article">'
        f'<meta property="article:published_time" content="{published}"></head><body>'
        '<nav><a href="/">Home</a> <a href="/about/">About</a></nav>'
        f"<article><h1>{title}</h1>{body}</article></body></html>"
    )


def rss(items: list[tuple[str, str, str]]) -> str:
    """An RSS 2.0 feed of (title, link, pubDate) items."""
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate></item>"
        for title, link, date in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Test Outlet</title><link>{{{{BASE}}}}/</link>{entries}</channel></rss>"
    )


def newswatch(
    config: Path,
    *args: str,
    web: WebServer | None = None,
    hook: str = "",
    now: str = "",
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess (optionally started at ``now``), the hook's URL and secret set."""
    env = {"NW_HOOK_SECRET": SECRET}
    if web is not None:
        env["NW_HOOK_URL"] = web.hook_url(hook)
    if now:
        env["NEWSWATCH_NOW"] = now
    return newswatch_cli(*args, "-c", str(config), env=env, cwd=config.parent, timeout=timeout)


def rows(db: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def notices(web: WebServer, hook: str, kind: str = "") -> list[dict[str, Any]]:
    """Webhook bodies received by ``hook`` (signed), of one type if given."""
    received = []
    for request in web.hook_requests(hook):
        # Signed when the CLI's clock said (NEWSWATCH_NOW): the time is not checked here.
        assert verify(SECRET, request["headers"], request["body"], tolerance=None)
        body = json.loads(request["body"])
        if not kind or body["type"] == kind:
            received.append(body)
    return received


HOOK_CHANNEL = """
[[channel]]
id = "hook"
type = "webhook"
url_env = "NW_HOOK_URL"
secret_env = "NW_HOOK_SECRET"
"""


def write_config(path: Path, sources: str, *, watches: str = "", operator: bool = True) -> Path:
    path.write_text(
        'database = "nw.db"\n'
        "[crawl]\nautothrottle = false\nretries = 0\ndownload_timeout = 5\n"
        "[alerts]\nbackfill_hours = 0\n"
        + ('operator_channel = "hook"\n' if operator else "")
        + HOOK_CHANNEL + sources + watches,
        encoding="utf-8",
    )
    return path


# --- a site whose follow rule matches nothing ---------------------------------------------

BLIND = """
[[source]]
name = "courier"
site = "BASE/news1/"
sitemaps = ["BASE/news1/sitemap.xml"]
sections = ["BASE/news1/news/"]
follow = ['FOLLOW']
allow_private = true
"""


def test_a_site_whose_follow_matches_nothing_is_flagged_at_its_first_run(
    tmp_path: Path, web: WebServer
) -> None:
    wrong, right = r"/news1/articles/\d{4}/", r"/news1/news/\d{4}/"
    config = write_config(
        tmp_path / "newswatch.toml", BLIND.replace("BASE", web.url).replace("FOLLOW", wrong)
    )
    # sources test names the links no rule took, stores nothing, and says why it is blind.
    tested = newswatch(config, "sources", "test", "courier")
    assert tested.returncode == 1, tested.stderr
    assert not (tmp_path / "nw.db").exists()
    assert "problem: no link on the section pages or sitemaps matched follow" in tested.stdout
    assert f"{web.url}/news1/news/2026/11/tulegenova-trial-opens.html" in tested.stdout
    as_json = newswatch(config, "sources", "test", "courier", "--json")
    report = json.loads(as_json.stdout)
    assert report["source"] == "courier" and report["articles"] == []
    assert f"{web.url}/news1/news/2026/11/water-tariffs-rise.html" in report["unmatched_links"]
    # The articles come before the section and home pages: they look like articles.
    assert all("/2026/11/" in url for url in report["unmatched_links"][:4])
    assert any("matched follow" in problem for problem in report["problems"])
    assert not (tmp_path / "nw.db").exists()

    first = newswatch(config, "run", web=web, hook="quiet-blind")
    assert first.returncode == 0, first.stderr
    assert "sources 1 ok (0 not modified, 1 stale: courier [no link matched follow])" in (
        first.stdout
    )
    assert "source courier: stale: no link on the section pages or sitemaps matched follow" in (
        first.stderr
    )
    db = tmp_path / "nw.db"
    (source,) = rows(db, "SELECT * FROM sources")
    assert source["status"] == "stale" and source["consecutive_failures"] == 0
    assert source["last_error"].startswith(
        "no link on the section pages or sitemaps matched follow ['/news1/articles/\\d{4}/'];"
    )
    assert "links seen, e.g. /news1/news/2026/11/" in source["last_error"]
    (stale,) = notices(web, "quiet-blind", "source.stale")
    assert stale["data"]["source"] == "courier"
    assert "matched follow" in stale["data"]["reason"]
    assert stale["data"]["last_new_article_at"] is None

    again = newswatch(config, "run", web=web, hook="quiet-blind")
    assert "1 stale: courier" in again.stdout
    assert len(notices(web, "quiet-blind")) == 1  # told once

    config.write_text(config.read_text().replace(wrong, right), encoding="utf-8")
    fixed = newswatch(config, "run", web=web, hook="quiet-blind")
    assert fixed.returncode == 0, fixed.stderr
    assert "stale" not in fixed.stdout and "articles 4 new" in fixed.stdout
    recovered = notices(web, "quiet-blind", "source.recovered")
    assert [n["data"]["was"] for n in recovered] == ["stale"]
    assert rows(db, "SELECT status FROM sources")[0]["status"] == "ok"


# --- a feed that goes quiet -------------------------------------------------------------------


@pytest.fixture
def outlet(tmp_path: Path) -> Iterator[tuple[Path, WebServer]]:
    """A temp dir served by its own test server, for a site the test rewrites between runs."""
    root = tmp_path / "site"
    root.mkdir()
    with serve_web(root) as server:
        yield root, server


def publish(root: Path, count: int) -> None:
    """The outlet's feed with its first ``count`` daily stories, newest first."""
    items = []
    for day in range(count):
        name = f"story-{day}.html"
        published = f"2026-12-{day + 1:02d}T07:00:00Z"
        (root / name).write_text(article_page(f"Court news, day {day}", published), "utf-8")
        items.append((f"Court news, day {day}", f"{{{{BASE}}}}/{name}",
                      f"{day + 1:02d} Dec 2026 07:00:00 GMT"))
    (root / "feed.xml").write_text(rss(items[::-1]), encoding="utf-8")


def test_a_feed_that_goes_quiet_is_stale_once_past_its_rhythm(
    tmp_path: Path, outlet: tuple[Path, WebServer], web: WebServer
) -> None:
    root, site = outlet
    config = write_config(
        tmp_path / "newswatch.toml",
        f'\n[[source]]\nname = "daily"\nfeed = "{site.url}/feed.xml"\nallow_private = true\n',
    )
    # Five days with a new story each morning: four gaps of a day, a rhythm learned.
    for day in range(5):
        publish(root, day + 1)
        result = newswatch(config, "run", web=web, hook="quiet-feed",
                           now=f"2026-12-{day + 1:02d}T08:00:00Z")
        assert result.returncode == 0, result.stderr
        assert "stale" not in result.stdout
    db = tmp_path / "nw.db"
    assert len(rows(db, "SELECT * FROM source_arrivals WHERE source = 'daily'")) == 5
    # Stale after max(1 day, 1.5 x its longest gap of a day): a day and a half.
    quiet = newswatch(config, "run", web=web, hook="quiet-feed", now="2026-12-06T14:00:00Z")
    assert "stale" not in quiet.stdout
    (source,) = rows(db, "SELECT * FROM sources")
    assert source["status"] == "ok" and source["last_new_article_at"].startswith("2026-12-05T08")
    assert source["stale_after_seconds"] == pytest.approx(1.5 * 86400, rel=0.01)
    assert not notices(web, "quiet-feed")

    stale = newswatch(config, "run", web=web, hook="quiet-feed", now="2026-12-07T10:00:00Z")
    assert stale.returncode == 0, stale.stderr
    assert "sources 1 ok (1 not modified, 1 stale: daily [quiet 2 days]), 0 failed" in stale.stdout
    assert "source daily: stale: no new article for 2 days" in stale.stderr
    (told,) = notices(web, "quiet-feed")
    assert told["type"] == "source.stale"
    assert told["data"]["source"] == "daily"
    assert told["data"]["last_new_article_at"].startswith("2026-12-05T08")
    assert "usually gives one every 24 h" in told["data"]["reason"]
    status = json.loads(newswatch(config, "alerts", "status", "--json").stdout)
    assert [item["source"] for item in status["sources"]["stale"]] == ["daily"]
    text = newswatch(config, "alerts", "status").stdout
    assert "source daily stale since 2026-12-07T10" in text

    later = newswatch(config, "run", web=web, hook="quiet-feed", now="2026-12-07T20:00:00Z")
    assert "1 stale: daily" in later.stdout
    assert len(notices(web, "quiet-feed")) == 1  # once per quiet spell

    publish(root, 6)
    back = newswatch(config, "run", web=web, hook="quiet-feed", now="2026-12-08T08:00:00Z")
    assert "stale" not in back.stdout and "articles 1 new" in back.stdout
    recovered = notices(web, "quiet-feed", "source.recovered")
    assert len(recovered) == 1
    assert recovered[0]["data"]["was"] == "stale"
    assert recovered[0]["data"]["last_new_article_at"].startswith("2026-12-08T08")
    assert rows(db, "SELECT status FROM sources")[0]["status"] == "ok"


def test_stale_after_on_a_source_sets_the_limit(
    tmp_path: Path, outlet: tuple[Path, WebServer], web: WebServer
) -> None:
    root, site = outlet
    publish(root, 1)
    config = write_config(
        tmp_path / "newswatch.toml",
        f'\n[[source]]\nname = "daily"\nfeed = "{site.url}/feed.xml"\nallow_private = true\n'
        'stale_after = "36h"\n',
    )
    assert newswatch(config, "run", web=web, hook="quiet-36h",
                     now="2026-12-01T08:00:00Z").returncode == 0
    ok = newswatch(config, "run", web=web, hook="quiet-36h", now="2026-12-02T19:00:00Z")
    assert "stale" not in ok.stdout
    stale = newswatch(config, "run", web=web, hook="quiet-36h", now="2026-12-02T21:00:00Z")
    assert "1 stale: daily [quiet 37 h]" in stale.stdout
    assert "stale_after = '36h'" in rows(tmp_path / "nw.db", "SELECT * FROM sources")[0][
        "stale_reason"]
    bad = write_config(tmp_path / "bad.toml", f'\n[[source]]\nname = "x"\nfeed = '
                       f'"{site.url}/feed.xml"\nstale_after = "3 days"\n')
    checked = newswatch(bad, "check", web=web, hook="quiet-36h")
    assert checked.returncode == 2
    assert "source[0].stale_after: expected a duration such as \"36h\" or \"3d\"" in (
        checked.stderr
    )


# --- a watch that goes silent -----------------------------------------------------------------

WATCHES = """
[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
channels = ["hook"]
silence_days = 3

[[watch]]
id = "never-named"
name = "Zhanargul Qoishybaeva"
channels = ["hook"]
silence_days = 3
"""


def test_a_watch_that_goes_silent_tells_its_channels_once_per_silent_period(
    tmp_path: Path, outlet: tuple[Path, WebServer], web: WebServer
) -> None:
    root, site = outlet

    def story(number: int, day: int) -> None:
        (root / f"hit-{number}.html").write_text(
            article_page(f"Hearing {number}", f"2026-12-{day:02d}T07:00:00Z",
                         extra="Aigerim Tulegenova spoke to reporters."), encoding="utf-8")
        items = [(f"Hearing {n}", f"{{{{BASE}}}}/hit-{n}.html", f"{day:02d} Dec 2026 07:00 GMT")
                 for n in range(number, -1, -1)]
        (root / "feed.xml").write_text(rss(items), encoding="utf-8")

    story(0, 1)
    config = write_config(
        tmp_path / "newswatch.toml",
        f'\n[[source]]\nname = "wire"\nfeed = "{site.url}/feed.xml"\nallow_private = true\n',
        watches=WATCHES, operator=False,
    )

    def run(now: str) -> subprocess.CompletedProcess[str]:
        result = newswatch(config, "run", web=web, hook="quiet-watch", now=now)
        assert result.returncode == 0, result.stderr
        return result

    run("2026-12-01T08:00:00Z")
    assert [n["type"] for n in notices(web, "quiet-watch")] == ["hit.created"]
    run("2026-12-03T08:00:00Z")
    assert len(notices(web, "quiet-watch")) == 1  # two days: not yet

    run("2026-12-04T09:00:00Z")
    silent = notices(web, "quiet-watch", "watch.silent")
    by_watch = {n["data"]["watch_id"]: n["data"] for n in silent}
    assert sorted(by_watch) == ["aigerim-tulegenova", "never-named"]
    told = by_watch["aigerim-tulegenova"]
    assert told["watch_name"] == "Aigerim Tulegenova"
    assert told["days"] == 3 and told["days_silent"] == 3
    assert told["last_hit_at"].startswith("2026-12-01T08")
    assert by_watch["never-named"]["last_hit_at"] is None  # counted from its first run
    assert by_watch["never-named"]["since"].startswith("2026-12-01T08")
    status = newswatch(config, "alerts", "status", "--json", now="2026-12-04T10:00:00Z")
    assert {w["watch_id"] for w in json.loads(status.stdout)["silent_watches"]} == set(by_watch)

    run("2026-12-04T20:00:00Z")
    assert len(notices(web, "quiet-watch", "watch.silent")) == 2  # not repeated

    story(1, 5)  # a new hit starts a new silent period for her, not for the other
    run("2026-12-05T08:00:00Z")
    assert len(notices(web, "quiet-watch", "hit.created")) == 2
    run("2026-12-07T08:00:00Z")
    assert len(notices(web, "quiet-watch", "watch.silent")) == 2
    run("2026-12-08T09:00:00Z")
    silent = notices(web, "quiet-watch", "watch.silent")
    assert [n["data"]["watch_id"] for n in silent[2:]] == ["aigerim-tulegenova"]
    assert silent[2]["data"]["last_hit_at"].startswith("2026-12-05T08")
    hers = [r["headers"]["webhook-id"] for r in web.hook_requests("quiet-watch")
            if json.loads(r["body"])["type"] == "watch.silent"
            and json.loads(r["body"])["data"]["watch_id"] == "aigerim-tulegenova"]
    assert len(hers) == len(set(hers)) == 2  # two silent periods, two notices


# --- one fetch per article per run ------------------------------------------------------------


def test_an_article_in_a_feed_and_a_sitemap_is_fetched_once(
    tmp_path: Path, outlet: tuple[Path, WebServer], web: WebServer
) -> None:
    root, site = outlet
    (root / "news" / "2026" / "12").mkdir(parents=True)
    path = "/news/2026/12/court-hears-appeal.html"
    (root / path.lstrip("/")).write_text(
        article_page("Court hears appeal", "2026-12-01T07:00:00Z"), encoding="utf-8")
    (root / "feed.xml").write_text(
        rss([("Court hears appeal", "{{BASE}}" + path + "?utm_source=rss&utm_medium=feed",
              "01 Dec 2026 07:00 GMT")]), encoding="utf-8")
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{{{{BASE}}}}{path}</loc></url></urlset>", encoding="utf-8")
    config = write_config(
        tmp_path / "newswatch.toml",
        f'\n[[source]]\nname = "outlet-feed"\nfeed = "{site.url}/feed.xml"\nallow_private = true\n'
        f'\n[[source]]\nname = "outlet"\nsite = "{site.url}/"\n'
        f'sitemaps = ["{site.url}/sitemap.xml"]\nfollow = [\'/news/\\d{{4}}/\']\n'
        "allow_private = true\n",
    )
    result = newswatch(config, "run", "--json", web=web, hook="quiet-once")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["articles_new"] == 1 and summary["sources_ok"] == 2
    fetched = [r for r in site.log(path) if r["method"] == "GET"]
    assert len(fetched) == 1, [r["path"] for r in fetched]
    # Both sources gave it: neither counts as quiet.
    sources = {r["name"]: r for r in rows(tmp_path / "nw.db", "SELECT * FROM sources")}
    assert {name: s["status"] for name, s in sources.items()} == {
        "outlet-feed": "ok", "outlet": "ok"}
    assert sources["outlet"]["last_new_article_at"] == sources["outlet-feed"][
        "last_new_article_at"]


# --- discover ---------------------------------------------------------------------------------


def write_outlet(root: Path) -> None:
    """An outlet with a feed link, a robots.txt Sitemap line, an index and a news sitemap."""
    (root / "news" / "2026" / "12").mkdir(parents=True)
    slugs = ["appeal-filed-in-almaty", "activists-detained-at-rally", "lawyer-barred-from-court",
             "new-ngo-rules-debated"]
    for number, slug in enumerate(slugs):
        (root / "news" / "2026" / "12" / f"{slug}.html").write_text(
            article_page(slug.replace("-", " ").capitalize(), f"2026-12-0{number + 1}T07:00:00Z"),
            encoding="utf-8")
    links = "".join(f'<li><a href="/news/2026/12/{slug}.html">{slug}</a></li>' for slug in slugs)
    (root / "index.html").write_text(
        '<!DOCTYPE html><html lang="ru"><head><title>Steppe Daily</title>'
        '<link rel="alternate" type="application/rss+xml" title="News" href="/feed.xml">'
        "</head><body><nav><a href=\"/\">Home</a> <a href=\"/news/\">News</a> "
        '<a href="/about/">About</a> <a href="/tag/courts/">Courts</a></nav>'
        f"<ul>{links}</ul></body></html>", encoding="utf-8")
    (root / "news" / "index.html").write_text(
        f"<html><body><ul>{links}</ul></body></html>", encoding="utf-8")
    (root / "feed.xml").write_text(
        rss([(slug, f"{{{{BASE}}}}/news/2026/12/{slug}.html", "01 Dec 2026 07:00 GMT")
             for slug in slugs]), encoding="utf-8")
    (root / "robots.txt").write_text(
        "User-agent: *\nDisallow: /private/\nSitemap: {{BASE}}/sitemap.xml\n", encoding="utf-8")
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>{{BASE}}/sitemap-pages.xml</loc><lastmod>2026-11-01</lastmod></sitemap>"
        "<sitemap><loc>{{BASE}}/sitemap-news.xml</loc><lastmod>2026-12-04</lastmod></sitemap>"
        "</sitemapindex>", encoding="utf-8")
    news = "".join(
        f"<url><loc>{{{{BASE}}}}/news/2026/12/{slug}.html</loc><news:news><news:publication>"
        "<news:name>Steppe Daily</news:name><news:language>ru</news:language></news:publication>"
        f"<news:publication_date>2026-12-0{n + 1}T07:00:00Z</news:publication_date>"
        f"<news:title>{slug}</news:title></news:news></url>" for n, slug in enumerate(slugs))
    (root / "sitemap-news.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{news}</urlset>", encoding="utf-8")
    (root / "sitemap-pages.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{{BASE}}/</loc></url><url><loc>{{BASE}}/about/</loc></url></urlset>",
        encoding="utf-8")


def test_discover_finds_the_feed_the_sitemaps_and_the_article_links(
    tmp_path: Path, outlet: tuple[Path, WebServer]
) -> None:
    root, site = outlet
    write_outlet(root)
    config = tmp_path / "absent.toml"  # discover needs no config; an unnamed default is skipped
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NEWSWATCH_CONFIG", None)

    def discover(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "crawler.cli", "sources", "discover", f"{site.url}/", *args],
            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
        )

    refused = discover()
    assert refused.returncode == 1
    assert "loopback, private or link-local" in refused.stderr and "--allow-private" in (
        refused.stderr)
    assert not site.log("/feed.xml")  # refused before any request

    found = discover("--allow-private", "--name", "steppe-daily")
    assert found.returncode == 0, found.stderr
    out = found.stdout
    blocks = tomllib.loads(out)["source"]
    site_source, feed_source = blocks
    assert site_source == {
        "name": "steppe-daily",
        "site": f"{site.url}/",
        "sitemaps": [f"{site.url}/sitemap-news.xml"],
        "sections": [f"{site.url}/", f"{site.url}/news/"],
        "follow": [r"/news/\d{4}/"],
        "language": "ru",
        "allow_private": True,
    }
    assert feed_source["feed"] == f"{site.url}/feed.xml"
    assert f"# feed {site.url}/feed.xml: RSS 2.0, 4 items" in out
    assert '<link rel="alternate" type="application/rss+xml"> on the home page' in out
    assert f"# sitemap {site.url}/sitemap.xml: sitemap index of 2; robots.txt Sitemap line" in out
    assert f"# sitemap {site.url}/sitemap-news.xml: Google News sitemap, 4 articles; in the " \
           f"sitemap index {site.url}/sitemap.xml" in out
    assert "# follow '/news/\\d{4}/'" in out and "and 4 of the news sitemap's 4 URLs" in out
    assert f"GET {site.url}/rss: HTTP 404" in out  # what was tried in vain is said too
    assert not [r for r in site.log() if r["path"].startswith("/private/")]

    as_json = json.loads(discover("--allow-private", "--json").stdout)
    assert [f["url"] for f in as_json["feeds"]] == [f"{site.url}/feed.xml"]
    assert {s["kind"] for s in as_json["sitemaps"]} == {"sitemapindex", "news", "urlset"}
    assert as_json["follow"][0]["regex"] == r"/news/\d{4}/"
    assert as_json["name"] == "127-0-0-1"

    # The block is a working config: paste it, and `sources test` collects its articles.
    config.write_text('database = "nw.db"\n' + out, encoding="utf-8")
    tested = newswatch(config, "sources", "test", "--all", "--json")
    assert tested.returncode == 0, tested.stderr
    reports = [json.loads(line) for line in tested.stdout.splitlines()]
    assert [r["source"] for r in reports] == ["steppe-daily", "steppe-daily-feed"]
    for report in reports:
        assert len(report["articles"]) == 4 and not report["problems"]
    rules = {a["rule"] for a in reports[0]["articles"]}
    assert rules == {r"/news/\d{4}/"}
    assert all(a["words"] > 40 and a["language"] == "en" for a in reports[0]["articles"])
    assert not (tmp_path / "nw.db").exists()


# --- the demo site ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_site() -> Iterator[str]:
    from crawler.demo import SITE
    from crawler.demo.server import serve

    server, base = serve(SITE)
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def test_sources_test_and_discover_on_the_demo_site(tmp_path: Path, demo_site: str) -> None:
    from crawler.demo import CONFIG

    demo = CONFIG.read_text(encoding="utf-8").replace("{{BASE}}", demo_site)
    assert demo.count("allow_private = true") == 2  # the demo site is on this machine
    config = tmp_path / "newswatch.toml"
    config.write_text(demo, encoding="utf-8")
    tested = newswatch(config, "sources", "test", "--all")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    out = tested.stdout
    assert "source steppe-herald: site" in out and "source steppe-herald-feed: feed" in out
    assert out.count("6 articles it would collect") == 2
    assert "Dana Kemarova" in out or "Kemarova" in out
    assert " | ru | " in out and " | kk | " in out and " | en | " in out
    assert "follow '/news/\\d{4}/'" in out

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    found = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "sources", "discover", f"{demo_site}/",
         "--allow-private", "--test", "--json"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert found.returncode == 0, found.stderr
    data = json.loads(found.stdout)
    assert [f["url"] for f in data["feeds"]] == [f"{demo_site}/feed.xml"]
    assert [s["url"] for s in data["sitemaps"] if s["kind"] == "news"] == [
        f"{demo_site}/sitemap-news.xml"]
    assert data["follow"][0]["regex"] == r"/news/\d{4}/"
    assert [len(r["articles"]) for r in data["test"]] == [6, 6]
