"""Distributed mode under faults, on a real redis-server: a worker killed mid-crawl, long-lived
workers over several cycles (stale state, robots.txt changed), Redis stopped mid-cycle."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis

from crawler.config import Watch
from crawler.distributed import streams
from crawler.distributed.items import (
    AnalysedPage,
    AnalysedPost,
    analyse,
    analyse_post,
    decode_item,
    encode_item,
)
from crawler.distributed.keys import GROUP, queue_key
from crawler.extraction.telegram import Post
from crawler.matching.matcher import Matcher
from crawler.models import Article, Hit, Page
from crawler.run.analysis import Analyser, Analysis
from crawler.storage.store import prepare
from crawler.storage.stories import Entities
from tests.conftest import WebServer, free_port, serve_web
from tests.test_distributed import cli, redis_server, redis_url  # noqa: F401 (fixtures)
from tests.test_run import make_config, rows

NAMES = ("Aigerim Tulegenova", "the city council", "the regional court", "local farmers")
ARTICLE = """<!doctype html>
<html lang="en"><head><title>{title}</title></head>
<body><nav><a href="/">Home</a></nav>
<article><h1>{title}</h1>
<p>Published on {day} November 2026. {body}</p>
<p>{body} Observers said the matter would come up again next week.</p>
<p>Reporters who followed {name} for months describe a long process, and {body}</p>
</article></body></html>
"""
FEED_ITEM = """<item><title>{title}</title><link>{{{{BASE}}}}/{feed}/{slug}.html</link>
<pubDate>Mon, {day:02d} Nov 2026 08:00:00 +0000</pubDate></item>"""


def write_site(root: Path, feeds: dict[str, int], *, disallow: tuple[str, ...] = ()) -> None:
    """A site with one feed per key, listing that many articles (newest first), and a
    robots.txt that disallows the given path prefixes."""
    for feed, count in feeds.items():
        (root / feed).mkdir(parents=True, exist_ok=True)
        items = []
        for n in range(count, 0, -1):
            slug, name = f"story-{n}", NAMES[n % len(NAMES)]
            title = f"{feed.upper()} story {n}: news about {name}"
            body = (
                f"This is report number {n} of the {feed} desk about {name}, with enough "
                "words in it to count as the main text of a news article for the extractor."
            )
            page = ARTICLE.format(title=title, day=n % 28 + 1, body=body, name=name)
            (root / feed / f"{slug}.html").write_text(page, encoding="utf-8")
            items.append(FEED_ITEM.format(title=title, feed=feed, slug=slug, day=n % 28 + 1))
        (root / f"{feed}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{feed}</title><link>{{{{BASE}}}}/</link>{''.join(items)}</channel></rss>",
            encoding="utf-8",
        )
    rules = "".join(f"Disallow: {path}\n" for path in disallow)
    (root / "robots.txt").write_text(f"User-agent: *\n{rules}Allow: /\n", encoding="utf-8")


def feed_sources(feeds: tuple[str, ...], max_articles: int = 50) -> str:
    return "".join(
        f'\n[[source]]\nname = "{feed}"\nfeed = "BASE/{feed}.xml"\nallow_private = true\n'
        f"max_articles = {max_articles}\n"
        for feed in feeds
    )


ARTICLES = "SELECT canonical_url, title FROM articles ORDER BY canonical_url"
HITS = (
    "SELECT articles.canonical_url, hits.watch_id, hits.matched FROM hits "
    "JOIN articles ON articles.id = hits.article_id ORDER BY 1, 2"
)


def until(condition: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    """Poll ``condition`` until it gives something true (waiting for an event, not for time)."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return found


def stopped(*processes: subprocess.Popen[Any] | None) -> list[int | None]:
    """Stop (SIGTERM) those still running and wait for every one; their exit codes."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
    codes: list[int | None] = []
    for process in processes:
        if process is None:
            codes.append(None)
            continue
        try:
            codes.append(process.wait(timeout=30))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
    return codes


def held_by(url: str, pid: int) -> int:
    """How many feed requests the worker process ``pid`` holds (read, not acknowledged)."""
    server = redis.Redis.from_url(url)
    try:
        consumers = server.xinfo_consumers(queue_key("feeds"), GROUP)
    except redis.ResponseError:
        return 0
    return sum(
        int(c["pending"]) for c in consumers if f":{pid}:" in c["name"].decode()
    )


def stored(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_analysed_pages_travel_without_their_html() -> None:
    text = "Aigerim Tulegenova spoke to reporters outside the court in Kostanay on Monday."
    article = Article("https://x.kz/a", "https://x.kz/a", "s", "T", text, other_urls=("u",))
    hit = Hit("w", "Name", 0, 4, "snippet", 0.9, "alias", mentions=((0, 4), (9, 13)))
    page = Page(
        source="s", url="https://x.kz/a", html="<p>long</p>", body=b"<p>long</p>",
        headers=(("ETag", '"1"'),), fetched_at="t",
    )

    class Found:
        def __init__(self, hits: tuple[Hit, ...]) -> None:
            self.hits = hits

        def page(self, page: Page) -> Analysis:
            found = Entities(frozenset({"kostanay"}), frozenset({"w"}))
            found = found if self.hits else None
            return Analysis(article, self.hits, found, prepared=prepare(article))

    with_hit = analyse(Found((hit,)), page)  # type: ignore[arg-type]
    assert with_hit.page.html == "" and with_hit.page.body == page.body  # kept as evidence
    back = decode_item(encode_item(with_hit))
    assert isinstance(back, AnalysedPage) and back.page == with_hit.page
    assert back.analysis.article == article and back.analysis.hits == (hit,)
    assert back.analysis.entities == with_hit.analysis.entities
    sent, made = back.analysis.prepared, prepare(article)
    assert sent is not None and sent.words == made.words
    assert sent.signature is not None and made.signature is not None
    assert (sent.signature == made.signature).all()
    without = analyse(Found(()), page)  # type: ignore[arg-type]
    assert without.page.html == "" and without.page.body == b""  # no evidence needed
    assert without.page.headers == page.headers  # its validators still travel
    stored = analyse(Found(()), page, lambda url: url == article.canonical_url)  # type: ignore[arg-type]
    assert stored.page.body == page.body  # a stored article may have had a hit: evidence


def test_posts_are_matched_on_the_worker() -> None:
    post = Post(
        source="tg", channel="rights_kz", id=7, url="https://t.me/rights_kz/7",
        text="Aigerim Tulegenova was released today, her lawyer said.",
        fetched_at="2026-11-20T08:00:00Z", body=b"<html>preview</html>",
    )
    watch = Watch(id="at", kind="person", name="Aigerim Tulegenova", channels=())
    analyser = Analyser(Matcher.compile((watch,)), (watch,))
    found = analyse_post(analyser, post)
    assert [hit.watch_id for hit in found.analysis.hits] == ["at"]
    assert found.post.body == post.body  # its evidence travels
    back = decode_item(encode_item(found))
    assert isinstance(back, AnalysedPost) and back.post == post
    assert back.analysis.hits == found.analysis.hits
    quiet = analyse_post(analyser, replace(post, text="Weather: snow in Astana."))
    assert quiet.analysis.hits == () and quiet.post.body == b""


def test_a_dead_workers_requests_go_back_to_the_queue(redis_url: str) -> None:  # noqa: F811
    server = redis.Redis.from_url(redis_url)
    stream = queue_key("feeds")
    streams.ensure_group(server, stream)
    for n in range(3):
        streams.add(server, stream, {"r": b"x", "s": "orda", "u": f"https://o/{n}", "c": "1"}, "1")
    taken = server.xreadgroup(GROUP, "host:1:feeds", {stream: ">"}, count=2)
    entries = [entry for entry, _ in taken[0][1]]
    streams.ack(server, stream, entries[0].decode(), "orda", "1")
    # host:1 has no heartbeat key: dead. Its one unacknowledged entry is queued again.
    returned, dropped = streams.reclaim(server)
    assert (returned, dropped) == (1, [])
    again = server.xreadgroup(GROUP, "host:2:feeds", {stream: ">"}, count=10)
    assert sorted(fields[b"u"] for _, fields in again[0][1]) == [b"https://o/1", b"https://o/2"]
    assert server.hget("newswatch:cycle:1:outstanding", "orda") == b"2"
    # An entry whose holders die MAX_RETURNS times is dropped and reported, not kept forever.
    lost: list[streams.Dropped] = []
    for holder in range(streams.MAX_RETURNS):
        server.xreadgroup(GROUP, f"dead:{holder}:feeds", {stream: ">"}, count=10)
        lost += streams.reclaim(server)[1]
    assert {entry.url for entry in lost} == {"https://o/1", "https://o/2"}
    assert server.xlen(stream) == 0
    assert server.hget("newswatch:cycle:1:outstanding", "orda") == b"0"


def test_a_request_is_marked_seen_and_queued_in_one_step(redis_url: str) -> None:  # noqa: F811
    server = redis.Redis.from_url(redis_url)
    stream, seen_key = queue_key("sites"), "newswatch:test:seen"
    streams.ensure_group(server, stream)
    fields: dict[str, str | bytes] = {"r": b"x", "s": "orda", "u": "https://o/a", "c": "1"}
    seen = streams.Seen(seen_key, "fp-a")
    assert streams.add(server, stream, fields, "1", seen) is True
    assert server.sismember(seen_key, "fp-a") and server.xlen(stream) == 1
    # Seen: nothing queued, nothing counted; a request not filtered is queued regardless.
    assert streams.add(server, stream, fields, "1", seen) is False
    assert server.xlen(stream) == 1
    assert server.hget("newswatch:cycle:1:outstanding", "orda") == b"1"
    assert streams.add(server, stream, fields, "1") is True and server.xlen(stream) == 2
    # A redirect replacing a held entry: refused when its target was seen (the held entry
    # stays held), else it takes the entry's place and is marked seen with it.
    [[_, [(held, _)]]] = server.xreadgroup(GROUP, "host:1:sites", {stream: ">"}, count=1)
    moved = {**fields, "u": "https://o/b"}
    assert streams.replace(server, stream, held.decode(), moved, seen) == -1
    assert server.xpending(stream, GROUP)["pending"] == 1
    other = streams.Seen(seen_key, "fp-b")
    assert streams.replace(server, stream, held.decode(), moved, other) == 1
    assert server.sismember(seen_key, "fp-b") and server.xpending(stream, GROUP)["pending"] == 0


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, WebServer]]:
    root = tmp_path / "site"
    root.mkdir()
    write_site(root, {"a": 1})
    with serve_web(root) as server:
        yield root, server


@pytest.mark.e2e
def test_a_worker_killed_mid_crawl_loses_nothing(
    tmp_path: Path, site: tuple[Path, WebServer], redis_url: str  # noqa: F811
) -> None:
    root, web = site
    write_site(root, {"a": 20, "b": 20})
    sources = feed_sources(("a", "b"))
    (tmp_path / "single").mkdir()
    (tmp_path / "dist").mkdir()
    single = make_config(tmp_path / "single", web, "kill-single", sources)
    assert cli(single, web, "kill-single", "run").returncode == 0
    config = make_config(tmp_path / "dist", web, "kill-dist", sources)
    first = cli(config, web, "kill-dist", "crawl", "--redis", redis_url, wait=False,
                log=tmp_path / "first.log")
    ingest = cli(config, web, "kill-dist", "ingest", "--redis", redis_url, wait=False,
                 log=tmp_path / "ingest.log")
    second = None
    try:
        until(lambda: held_by(redis_url, first.pid) >= 3, "the first worker to hold requests")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        second = cli(config, web, "kill-dist", "crawl", "--redis", redis_url, wait=False,
                     log=tmp_path / "second.log")
        assert ingest.wait(timeout=120) == 0, (tmp_path / "ingest.log").read_text()
        assert "stopped answering" in (tmp_path / "ingest.log").read_text()
        db, single_db = tmp_path / "dist" / "nw.db", tmp_path / "single" / "nw.db"
        assert rows(db, ARTICLES) == rows(single_db, ARTICLES)
        assert len(rows(db, ARTICLES)) == 40
        assert rows(db, HITS) == rows(single_db, HITS) != []
        # One more cycle: the feeds answer 304, nothing is missing, nothing is sent twice.
        again = cli(config, web, "kill-dist", "ingest", "--redis", redis_url)
        assert again.returncode == 0, again.stderr
        assert rows(db, ARTICLES) == rows(single_db, ARTICLES)
        assert rows(db, HITS) == rows(single_db, HITS)
        keys = [r["headers"]["webhook-id"] for r in web.hook_requests("kill-dist")]
        alerts = "SELECT watch_id, status FROM alerts ORDER BY 1"
        assert rows(db, alerts) == rows(single_db, alerts) != []
        assert len(keys) == len(set(keys)) == len(rows(db, alerts))
    finally:
        codes = stopped(first, ingest, second)
    assert codes[2] == 0  # the second worker stops cleanly on SIGTERM


@pytest.mark.e2e
def test_long_lived_workers_keep_no_state_from_earlier_cycles(
    tmp_path: Path, site: tuple[Path, WebServer], redis_url: str  # noqa: F811
) -> None:
    root, web = site
    feeds = {"a": 2, "b": 2}
    write_site(root, feeds)
    # A worker that parses a feed whose start datum another took must not count the
    # articles it queued in earlier cycles against max_articles.
    config = make_config(tmp_path, web, "stale", feed_sources(("a", "b"), max_articles=3))
    workers = [
        cli(config, web, "stale", "crawl", "--redis", redis_url, wait=False,
            log=tmp_path / f"worker{n}.log")
        for n in (1, 2)
    ]
    db = tmp_path / "nw.db"
    try:
        for cycle in range(1, 6):
            disallow = ("/b/",) if cycle >= 4 else ()
            if cycle > 1:
                feeds = {name: count + 2 for name, count in feeds.items()}
                write_site(root, feeds, disallow=disallow)
            since = time.time()
            result = cli(config, web, "stale", "ingest", "--redis", redis_url)
            assert result.returncode == 0, result.stderr
            urls = {row["canonical_url"].rsplit("/", 2)[-2:][0] + "/" +
                    row["canonical_url"].rsplit("/", 1)[-1] for row in rows(db, ARTICLES)}
            expected = {f"a/story-{n}.html" for n in range(1, feeds["a"] + 1)}
            expected |= {f"b/story-{n}.html" for n in range(1, min(feeds["b"], 6) + 1)}
            assert urls == expected, f"cycle {cycle}"
            log = [e for e in web.log() if e["time"] >= since]
            assert any(e["path"] == "/robots.txt" for e in log), f"cycle {cycle}"
            if cycle >= 4:  # robots.txt now disallows /b/: read again, and obeyed
                assert not [e for e in log if e["path"].startswith("/b/")]
    finally:
        codes = stopped(*workers)
    assert codes == [0, 0]


@pytest.fixture
def lasting_redis(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A redis-server of its own that keeps its data across a stop (append-only file)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed: apt-get install redis-server")
    port, directory = free_port(), tmp_path / "redis"
    directory.mkdir()
    command = [
        binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
        "yes", "--appendfsync", "always", "--dir", str(directory),
    ]
    state: dict[str, Any] = {"url": f"redis://127.0.0.1:{port}/0"}

    def start() -> None:
        state["process"] = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(state["url"])
        until(lambda: _pings(client), "redis-server to start", timeout=10)

    def stop() -> None:
        state["process"].terminate()  # SIGTERM: redis-server flushes its file and exits
        state["process"].wait(timeout=10)

    state["start"], state["stop"] = start, stop
    start()
    yield state
    if state["process"].poll() is None:
        stop()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.mark.e2e
def test_redis_stopped_mid_cycle_is_weather(
    tmp_path: Path, site: tuple[Path, WebServer], lasting_redis: dict[str, Any]
) -> None:
    root, web = site
    write_site(root, {"a": 30})
    sources = feed_sources(("a",))
    (tmp_path / "single").mkdir()
    (tmp_path / "dist").mkdir()
    single = make_config(tmp_path / "single", web, "outage-single", sources)
    assert cli(single, web, "outage-single", "run").returncode == 0
    config = make_config(tmp_path / "dist", web, "outage-dist", sources)
    url = lasting_redis["url"]
    log = tmp_path / "worker.log"
    worker = cli(config, web, "outage-dist", "crawl", "--redis", url, wait=False, log=log)
    db = tmp_path / "dist" / "nw.db"
    ingest = None
    try:
        ingest = cli(config, web, "outage-dist", "ingest", "--redis", url, "--outage-limit",
                     "2", wait=False, log=tmp_path / "ingest.log")
        until(lambda: stored(db) >= 1, "the first article stored")
        lasting_redis["stop"]()
        assert ingest.wait(timeout=60) == 69
        out = (tmp_path / "ingest.log").read_text()
        assert "interrupted: Redis unreachable for 2 s" in out
        assert "Traceback" not in out
        run = rows(db, "SELECT status, articles_new, interrupted FROM runs")[0]
        assert run["status"] == "interrupted" and run["interrupted"]
        assert run["articles_new"] == stored(db) >= 1
        until(lambda: "cannot reach Redis" in log.read_text(), "the worker to notice")
        lasting_redis["start"]()
        until(lambda: "reaches Redis again" in log.read_text(), "the worker to recover")
        again = cli(config, web, "outage-dist", "ingest", "--redis", url)
        assert again.returncode == 0, again.stderr
        single_db = tmp_path / "single" / "nw.db"
        assert rows(db, ARTICLES) == rows(single_db, ARTICLES)
        assert rows(db, HITS) == rows(single_db, HITS) != []
    finally:
        codes = stopped(worker, ingest)
    assert codes[0] == 0
    text = log.read_text()
    assert text.count("cannot reach Redis") == 1 and text.count("reaches Redis again") == 1
    assert "Observers said" not in text and "<p>" not in text  # never a page body
    assert "Traceback" not in text, text


def test_status_shows_live_workers_and_queue_depth(
    tmp_path: Path, site: tuple[Path, WebServer], redis_url: str  # noqa: F811
) -> None:
    _, web = site
    config = make_config(tmp_path, web, "status", feed_sources(("a",)))
    server = redis.Redis.from_url(redis_url)
    streams.ensure_group(server, queue_key("sites"))
    streams.add(server, queue_key("sites"), {"r": b"x", "s": "a", "u": "u", "c": "1"}, "1")
    server.set("newswatch:worker:box:42:feeds", '{"worker": "box:42:feeds", "host": "box", '
               '"pid": 42, "spider": "feeds", "busy": true, "held": 2, "cycle": 1, '
               '"since": "2026-12-03T10:00:00Z"}', px=5000)
    result = cli(config, web, "status", "status", "--redis", redis_url)
    assert result.returncode == 0, result.stderr
    assert "1 crawl workers live" in result.stdout
    assert "worker box:42: busy (feeds), 2 requests held" in result.stdout
    assert "sites: 0 start data, 1 requests waiting, 0 held" in result.stdout


def test_what_storing_needs_of_a_cjk_text_is_made_on_the_worker() -> None:
    text = "萨依拉古丽·沙吾提巴依在法庭上作证。她的律师说，审判将在下周继续。"
    article = Article("https://x.cn/a", "https://x.cn/a", "s", "审判", text)
    page = Page(source="s", url="https://x.cn/a", html="<p>x</p>", fetched_at="t")

    class Found:
        def page(self, page: Page) -> Analysis:
            return Analyser(None, ()).article(article)  # the real matching and preparing

    sent = decode_item(encode_item(analyse(Found(), page)))  # type: ignore[arg-type]
    assert isinstance(sent, AnalysedPage) and sent.analysis.prepared is not None
    made = prepare(article)
    assert made.unspaced is not None  # a trigram row: Chinese has no spaces between words
    assert sent.analysis.prepared.unspaced == made.unspaced
    assert sent.analysis.prepared.words == made.words
