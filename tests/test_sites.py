"""Hostile sitemaps in one ``newswatch run``: gzip bombs, a million URLs, an index of 60,000.

The files are generated into a temp root served by its own test server; the run
is the CLI in a subprocess, its peak memory measured by a parent of its own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import WEB_ROOT, serve_web
from tests.test_run import rows

pytestmark = pytest.mark.e2e

URLSET = b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
INDEX = b'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
MAX_PAGE_BYTES = 10 * 1024 * 1024
PEAK_CEILING_MB = 500
RUN_TIMEOUT = 600

# A parent of its own, so the peak RSS it reports is the run's alone: argv = OUT COMMAND...
MEASURE = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""

WATCHLIST = """
[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
aliases = ["Айгерим Тулегенова"]
channels = ["console"]
"""

ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Appeal of Aigerim Tulegenova heard in Kostanay — Bomb Gazette</title>
<meta property="article:published_time" content="2026-11-20T08:00:00+00:00">
</head><body>
<nav><a href="/bomb/">Home</a> | <a href="/bomb/news/">News</a></nav>
<article><h1>Appeal of Aigerim Tulegenova heard in Kostanay</h1>
<p>The regional court in Kostanay heard on Friday the appeal of Aigerim Tulegenova, the
blogger sentenced last month to two years of restricted freedom over a post about insulin
shortages at the regional hospital. Her lawyer asked the panel of three judges to quash the
verdict, arguing that the trial court had refused to hear the patients she had quoted.</p>
<p>Tulegenova told the court that she had checked every quotation and had asked the hospital
for comment before publishing. The prosecutor asked the court to leave the sentence in force,
saying the post had frightened patients across the region. Several journalists, members of
civic groups and relatives of patients attended the hearing, which lasted four hours.</p>
<p>The court said it would announce its decision next week. If the verdict stands, Aigerim
Tulegenova will remain barred from leaving the region and from posting on social media. Her
supporters said they would take the case to the supreme court if the appeal failed, and
international press freedom groups have called for the charges to be dropped.</p>
</article>
<footer><p>Bomb Gazette, an invented outlet of the newswatch test suite.</p></footer>
</body></html>
"""


def write_gzip(path: Path, pieces: Iterable[bytes], level: int = 9) -> int:
    """Compress ``pieces`` into ``path`` as they come (memory stays small); return the
    inflated size."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    size = 0
    with path.open("wb") as out:
        for piece in pieces:
            size += len(piece)
            out.write(compressor.compress(piece))
        out.write(compressor.flush())
    return size


def bomb() -> Iterator[bytes]:
    """A sitemap that opens as one and goes on with 1 GiB of spaces (about 1 MB gzipped)."""
    yield URLSET
    spaces = b" " * (1 << 20)
    for _ in range(1024):
        yield spaces
    yield b"</urlset>\n"


def days_back(count: int) -> list[str]:
    """``count`` dates, newest first, ending 20 November 2026."""
    last = date(2026, 11, 20)
    return [(last - timedelta(days=n)).isoformat() for n in range(count)]


def giant(base: str, count: int = 1_000_000) -> Iterator[bytes]:
    """A sitemap of ``count`` article URLs, newest first (10,000 a day)."""
    yield URLSET
    days = days_back(count // 10_000 + 1)
    for start in range(0, count, 10_000):
        lastmod = days[start // 10_000]
        yield "".join(
            f"<url><loc>{base}/giant/news/{n:07d}.html</loc><lastmod>{lastmod}</lastmod></url>\n"
            for n in range(start, min(start + 10_000, count))
        ).encode()
    yield b"</urlset>\n"


def index(base: str, count: int = 60_000) -> Iterator[bytes]:
    """A sitemap index of ``count`` sitemaps, newest first; all are child.xml, told apart by
    their query."""
    yield INDEX
    days = days_back(count // 1_000 + 1)
    for start in range(0, count, 1_000):
        lastmod = days[start // 1_000]
        yield "".join(
            f"<sitemap><loc>{base}/index/child.xml?n={n}</loc><lastmod>{lastmod}</lastmod>"
            "</sitemap>\n"
            for n in range(start, start + 1_000)
        ).encode()
    yield b"</sitemapindex>\n"


def archive(count: int = 3_000) -> str:
    """A sitemap of ``count`` article links oldest first, a minute apart (as many CMSs list)."""
    urls = "".join(
        f"<url><loc>{{{{BASE}}}}/archive/news/{n}.html</loc><lastmod>2026-11-"
        f"{1 + n // 1440:02d}T{n // 60 % 24:02d}:{n % 60:02d}:00Z</lastmod></url>\n"
        for n in range(count)
    )
    return URLSET.decode() + urls + "</urlset>\n"


def child_sitemap(count: int = 100) -> str:
    """The sitemap every index entry names: ``count`` article links (none exists: 404)."""
    urls = "".join(
        f"<url><loc>{{{{BASE}}}}/index/news/{n}.html</loc></url>\n" for n in range(count)
    )
    return URLSET.decode() + urls + "</urlset>\n"


def config_text(base: str) -> str:
    """The config: the good site, the two bombs, the giant sitemap and index, an archive."""
    sources = {
        "good": ("news1", ["news1/sitemap.xml"], ["news1/news/"], "'/news1/news/\\d{4}/'", 200),
        "bomb": ("bomb", ["bomb/sitemap.xml.gz"], ["bomb/news/"], "'/bomb/news/\\d{4}/'", 200),
        "encoded": ("encoded", ["_fault/gzip/bomb/sitemap.xml.gz"], [], "", 200),
        "giant": ("giant", ["giant/sitemap.xml.gz"], [], "'/giant/news/'", 100),
        "index": ("index", ["index/sitemap.xml.gz"], [], "'/index/news/'", 30),
        "archive": ("archive", ["archive/sitemap.xml"], [], "'/archive/news/'", 10),
    }
    text = f"""
database = "nw.db"
watchlist = ["watchlist.toml"]

[alerts]
backfill_hours = 0

[crawl]
autothrottle = false
retries = 0
download_timeout = 60
max_page_bytes = {MAX_PAGE_BYTES}

[[channel]]
id = "console"
type = "console"
"""
    # A Python list of str prints as a TOML array of literal strings.
    for name, (site, sitemaps, sections, follow, max_articles) in sources.items():
        text += f"""
[[source]]
name = "{name}"
site = "{base}/{site}/"
sitemaps = {[f"{base}/{path}" for path in sitemaps]!r}
sections = {[f"{base}/{path}" for path in sections]!r}
follow = [{follow}]
max_articles = {max_articles}
allow_private = true
"""
    return text


def build_site(root: Path, base: str) -> None:
    """The good site (a copy of news1), the bomb site and the giant files, under ``root``."""
    shutil.copytree(WEB_ROOT / "news1", root / "news1")
    shutil.copy(WEB_ROOT / "robots.txt", root / "robots.txt")
    article = root / "bomb" / "news" / "2026" / "11" / "tulegenova-appeal.html"
    article.parent.mkdir(parents=True)
    article.write_text(ARTICLE, encoding="utf-8")
    (root / "bomb" / "news" / "index.html").write_text(
        '<html><body><a href="/bomb/news/2026/11/tulegenova-appeal.html">Appeal heard</a>'
        "</body></html>",
        encoding="utf-8",
    )
    assert write_gzip(root / "bomb" / "sitemap.xml.gz", bomb()) > 2**30
    assert (root / "bomb" / "sitemap.xml.gz").stat().st_size < 2 * 2**20
    (root / "giant").mkdir()
    write_gzip(root / "giant" / "sitemap.xml.gz", giant(base), level=1)
    (root / "index").mkdir()
    write_gzip(root / "index" / "sitemap.xml.gz", index(base), level=1)
    (root / "index" / "child.xml").write_text(child_sitemap(), encoding="utf-8")
    (root / "archive").mkdir()
    (root / "archive" / "sitemap.xml").write_text(archive(), encoding="utf-8")


def run_measured(config: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """``newswatch -v run`` under a parent that reports its peak RSS; (result, peak MB)."""
    peak_file = tmp_path / "peak-kb"
    command = [sys.executable, "-m", "crawler.cli", "-v", "run", "-c", str(config)]
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(peak_file), *command],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    return result, int(peak_file.read_text()) / 1024  # ru_maxrss is in KiB on Linux


def test_bombs_and_giants_cost_little_and_the_good_source_is_crawled(tmp_path: Path) -> None:
    root = tmp_path / "web"
    root.mkdir()
    with serve_web(root) as web:
        build_site(root, web.url)
        (tmp_path / "watchlist.toml").write_text(WATCHLIST, encoding="utf-8")
        config = tmp_path / "newswatch.toml"
        config.write_text(config_text(web.url), encoding="utf-8")

        started = time.monotonic()
        result, peak_mb = run_measured(config, tmp_path)
        # Figures for the benchmark notes (bench/README.md), not a pass/fail criterion.
        print(f"\nhostile run: {time.monotonic() - started:.1f} s, peak RSS {peak_mb:.0f} MB")
        requests = [entry["path"] for entry in web.log()]

    # Two sources failed (their sitemap is a bomb): exit 1, so cron hears of it.
    assert result.returncode == 1, result.stderr[-3000:]
    assert "sources 4 ok (0 not modified), 2 failed (bomb, encoded)" in result.stdout
    assert "Traceback" not in result.stderr
    assert peak_mb < PEAK_CEILING_MB

    db = tmp_path / "nw.db"
    sources = {row["name"]: row for row in rows(db, "SELECT * FROM sources")}
    cap = f"too big: decompresses to over max_page_bytes ({MAX_PAGE_BYTES})"
    # The bomb inflated in the spider (a .gz file) and in Scrapy (Content-Encoding: gzip).
    assert sources["bomb"]["last_error"] == f"{web.url}/bomb/sitemap.xml.gz: {cap}"
    assert sources["encoded"]["last_error"] == f"{web.url}/_fault/gzip/bomb/sitemap.xml.gz: {cap}"
    healthy = ("good", "giant", "index", "archive")
    assert {sources[name]["consecutive_failures"] for name in healthy} == {0}

    # The good source's four articles, and the one the bomb site's section page links
    # (its other entry point still counts), are stored; each hit was alerted.
    stored = {row["url"].removeprefix(web.url) for row in rows(db, "SELECT * FROM articles")}
    assert stored == {
        "/news1/news/2026/11/tulegenova-trial-opens.html",
        "/news1/news/2026/11/sud-nad-tulegenovoy-otlozhen.html",
        "/news1/news/2026/11/water-tariffs-rise.html",
        "/news1/news/2026/11/press-freedom-report.html",
        "/bomb/news/2026/11/tulegenova-appeal.html",
    }
    alerts = rows(
        db,
        "SELECT a.status, ar.url FROM alerts a JOIN hits h ON h.id = a.hit_id "
        "JOIN articles ar ON ar.id = h.article_id",
    )
    assert {alert["status"] for alert in alerts} == {"sent"}
    alerted = {alert["url"].removeprefix(web.url) for alert in alerts}
    assert alerted == {
        "/news1/news/2026/11/tulegenova-trial-opens.html",
        "/news1/news/2026/11/sud-nad-tulegenovoy-otlozhen.html",
        "/bomb/news/2026/11/tulegenova-appeal.html",
    }
    for path in alerted:
        assert f"url:        {web.url}{path}" in result.stdout

    # The giant sitemap gave its newest max_articles and was read no further.
    giant_articles = [path for path in requests if path.startswith("/giant/news/")]
    assert sorted(giant_articles) == [f"/giant/news/{n:07d}.html" for n in range(100)]
    # The index was read up to 50,000 entries (noted); its newest child filled the
    # source's max_articles, so no further child was fetched.
    assert "index/sitemap.xml.gz of source index lists more than 50000 entries" in result.stderr
    children = [path for path in requests if path.startswith("/index/child.xml")]
    assert children == ["/index/child.xml?n=0"]
    assert len([path for path in requests if path.startswith("/index/news/")]) == 30
    # A sitemap listed oldest first gave its newest max_articles, not its first.
    archived = [path for path in requests if path.startswith("/archive/news/")]
    assert sorted(archived) == sorted(f"/archive/news/{n}.html" for n in range(2990, 3000))
