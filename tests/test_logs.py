"""What a cron log shows: ``newswatch run`` without -v prints one line per problem, no traceback."""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

import pytest

from crawler.config import Source
from crawler.logs import OneLineFormatter
from crawler.run.health import SourceEvent, SourceHealth
from crawler.storage.store import open_database
from tests.conftest import WebServer, free_port, newswatch_cli

WATCH = """
[[channel]]
id = "console"
type = "console"

[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
channels = ["console"]
"""


def run(tmp_path: Path, sources: str, *args: str, crawl: str = "") -> tuple[int, list[str]]:
    """``newswatch run`` over these sources; its exit code and its stderr lines."""
    config = tmp_path / "newswatch.toml"
    config.write_text(
        f'database = "nw.db"\n\n[crawl]\nautothrottle = false\n{crawl}\n{WATCH}\n{sources}',
        encoding="utf-8",
    )
    result = newswatch_cli("run", "-c", str(config), *args)
    assert "Traceback" not in result.stdout
    return result.returncode, result.stderr.splitlines()


def feed(name: str, url: str) -> str:
    # The test server is on 127.0.0.1, a private address: every source here allows them.
    return f'\n[[source]]\nname = "{name}"\nfeed = "{url}"\nallow_private = true\n'


def site(name: str, home: str, section: str) -> str:
    return (
        f'\n[[source]]\nname = "{name}"\nsite = "{home}"\nsections = ["{section}"]\n'
        "allow_private = true\n"
    )


def last_errors(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "nw.db") as db:
        return dict(db.execute("SELECT name, last_error FROM sources"))


@pytest.mark.e2e
def test_an_unreachable_feed_is_one_line_naming_source_url_and_reason(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/feed.xml"
    # Default retries: Scrapy gives up on robots.txt and on the feed, three tries each.
    code, lines = run(tmp_path, feed("down", url))
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].endswith(f"WARNING crawler.run.health: source down: {url}: connection refused")
    assert last_errors(tmp_path) == {"down": f"{url}: connection refused"}


@pytest.mark.e2e
def test_an_unreachable_site_source_is_one_line(tmp_path: Path) -> None:
    home = f"http://127.0.0.1:{free_port()}/"
    code, lines = run(tmp_path, site("down-site", home, home + "news/"))
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].endswith(f"source down-site: {home}news/: connection refused")


@pytest.mark.e2e
def test_sources_failing_alike_on_one_dead_host_share_one_line(tmp_path: Path) -> None:
    port = free_port()
    home = f"http://127.0.0.1:{port}/"
    sources = feed("herald-feed", home + "feed.xml") + site("herald", home, home + "news/")
    code, lines = run(tmp_path, sources)
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        f"127.0.0.1:{port}: connection refused (sources herald-feed, herald)"
    )
    # The database still says per source what failed.
    assert last_errors(tmp_path) == {
        "herald-feed": f"{home}feed.xml: connection refused",
        "herald": f"{home}news/: connection refused",
    }


@pytest.mark.e2e
def test_each_failing_source_gets_its_reason(tmp_path: Path, web: WebServer) -> None:
    https = web.url.replace("http://", "https://")
    sources = (
        feed("unavailable", f"{web.url}/_fault/status/503")
        + feed("slow", f"{web.url}/_fault/slow?seconds=3")
        + feed("big", f"{web.url}/_fault/big?bytes=300000")
        + feed("plain-http", f"{https}/feeds/rss20.xml")
        + site("private", f"{web.url}/news1/", f"{web.url}/news1/private/")
    )
    code, lines = run(
        tmp_path, sources, crawl="retries = 0\ndownload_timeout = 1\nmax_page_bytes = 200000"
    )
    assert code == 1
    # Same host and port, different reasons: one line each, in config order.
    assert len(lines) == 5, lines
    tails = [line.split(" WARNING crawler.run.health: ", 1)[1] for line in lines]
    assert tails[:3] == [
        f"source unavailable: {web.url}/_fault/status/503: HTTP 503",
        f"source slow: {web.url}/_fault/slow?seconds=3: timed out after 1 s",
        f"source big: {web.url}/_fault/big?bytes=300000: "
        "too big: 300000 bytes, over max_page_bytes (200000)",
    ]
    assert tails[3].startswith(f"source plain-http: {https}/feeds/rss20.xml: TLS error: ")
    assert tails[4] == f"source private: {web.url}/news1/private/: forbidden by robots.txt"


@pytest.mark.e2e
def test_malformed_feeds_log_at_most_one_line_each(tmp_path: Path, web: WebServer) -> None:
    sources = (
        feed("html-page", f"{web.url}/_fault/notfeed")
        + feed("truncated", f"{web.url}/_fault/truncated-feed")  # usable: logged at -v only
        + feed("bad-links", f"{web.url}/feeds/badlinks.xml")
    )
    code, lines = run(tmp_path, sources, crawl="retries = 0")
    assert code == 1
    assert not [line for line in lines if "Traceback" in line]
    health = [line for line in lines if " crawler.run.health: " in line]
    assert len(health) == 1, lines
    assert f"source html-page: {web.url}/_fault/notfeed: not a feed (no entry): " in health[0]
    # javascript:, mailto: and malformed links are skipped one by one, quietly, and the
    # source is ok.
    assert [line for line in lines if line not in health] == [], lines
    assert last_errors(tmp_path)["bad-links"] is None
    # The good entry after them is stored (alone: the truncated feed links it too).
    alone = tmp_path / "alone"
    alone.mkdir()
    assert run(alone, feed("bad-links", f"{web.url}/feeds/badlinks.xml")) == (0, [])
    with sqlite3.connect(alone / "nw.db") as db:
        stored = [row[0] for row in db.execute("SELECT url FROM articles")]
    assert stored == [f"{web.url}/feeds/articles/city-budget.html"]


@pytest.mark.e2e
def test_vv_shows_scrapy_s_messages_and_tracebacks_again(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/feed.xml"
    code, lines = run(tmp_path, feed("down", url), "-vv", crawl="retries = 0")
    assert code == 1
    text = "\n".join(lines)
    assert "Traceback (most recent call last):" in text
    assert "ERROR scrapy.downloadermiddlewares.retry: Gave up retrying <GET" in text
    assert "ERROR scrapy.downloadermiddlewares.robotstxt: Error downloading" in text
    assert " INFO scrapy" in text
    assert f"source down: {url}: connection refused" in text


def events(health: SourceHealth, *reports: tuple[str, str, str]) -> list[str]:
    for name, url, error in reports:
        health.record(SourceEvent(name, "failed", url=url, error=error))
    return health.failure_lines()


def test_failure_lines_group_by_host_and_reason_only() -> None:
    health = SourceHealth(
        tuple(Source(name, feed=f"http://h.example/{name}") for name in "abcdef")
    )
    health.ok("f")
    # As crawl workers report them: a and b share host and reason; c the host only;
    # d the reason on another port; e failed twice, on two URLs, for one reason.
    lines = events(
        health,
        ("a", "http://h.example/a", "connection refused"),
        ("b", "http://h.example:80/b", "connection refused"),
        ("c", "http://h.example/c", "HTTP 503"),
        ("d", "http://h.example:8080/d", "connection refused"),
        ("e", "https://x.example/e1", "HTTP 404"),
        ("e", "https://x.example/e2", "HTTP 404"),
    )
    assert lines == [
        "h.example:80: connection refused (sources a, b)",
        "source c: http://h.example/c: HTTP 503",
        "source d: http://h.example:8080/d: connection refused",
        "source e: https://x.example/e1 and 1 more: HTTP 404",
    ]


def test_articles_not_fetched_are_a_note_not_a_failure(tmp_path: Path) -> None:
    health = SourceHealth((Source("wire", feed="http://h.example/rss"),))
    health.ok("wire")
    for n in range(7):
        reason = "HTTP 404" if n < 3 else f"timed out after {n} s"
        health.article_failed("wire", f"http://h.example/{n}", reason)
    health.article_failed("wire", "http://h.example/0", "HTTP 404")  # retried: once
    db = open_database(tmp_path / "nw.db")
    assert health.finish(db) == (1, 0, 0)
    assert health.failure_lines() == []  # nothing to warn about
    row = db.execute("SELECT last_error, consecutive_failures FROM sources").fetchone()
    assert row == (
        "7 articles not fetched: http://h.example/0, http://h.example/1, http://h.example/2: "
        "HTTP 404; http://h.example/3: timed out after 3 s; http://h.example/4: timed out "
        "after 4 s; and 2 more",
        0,
    )


def test_one_line_formatter_folds_messages_and_tracebacks() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = logging.LogRecord(
            "crawler.x", logging.ERROR, __file__, 1, "first\nsecond", None, sys.exc_info()
        )
    line = OneLineFormatter("%(levelname)s %(message)s").format(record)
    assert line == "ERROR first | second: ValueError: bad | value"
    assert record.exc_info is not None  # other handlers still get the traceback
