"""Distributed mode: ``newswatch crawl`` workers and ``newswatch ingest`` on a real Redis."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from alerts.signing import verify
from crawler.cli import main
from crawler.distributed.consumer import ITEMS_KEY, KNOWN_KEY, decode_item, encode_item, start_key
from crawler.models import Page
from crawler.run.health import SourceEvent
from crawler.run.lock import RunLock
from tests.conftest import WebServer, free_port, listening_ports
from tests.test_run import FEEDS, RSS20, SECRET, SITE, make_config, rows

BROKEN = '\n[[source]]\nname = "broken"\nfeed = "BASE/_fault/status/500"\nallow_private = true\n'
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free port, without persistence; yields its base URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed: apt-get install redis-server")
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A Redis database of its own for one test (the server has 16)."""
    url = f"{redis_server}/{next(_databases) % 16}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.close()


def cli(
    config: Path, web: WebServer, hook: str, *args: str, wait: bool = True, log: Path | None = None
) -> Any:
    """Run ``newswatch ARGS -c CONFIG``; a Popen writing to ``log`` when ``wait`` is False."""
    env = {**os.environ, "NW_HOOK_URL": web.hook_url(hook), "NW_HOOK_SECRET": SECRET}
    command = [sys.executable, "-m", "crawler.cli", *args, "-c", str(config)]
    if wait:
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert log is not None
    with log.open("w") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)


def fetched(web: WebServer, agent: str, since: float) -> Counter[str]:
    """How often each path (with its query) was requested by this user agent since then."""
    return Counter(
        entry["path"]
        for entry in web.log()
        if entry["time"] >= since and entry["headers"].get("user-agent") == agent
    )


def test_items_travel_as_json() -> None:
    page = Page(source="orda", url="https://orda.kz/a", html="<p>Айгерим</p>", fetched_at="t")
    event = SourceEvent("orda", "ok", etag='"x"', last_modified="Mon, 16 Nov 2026 08:00:00 GMT")
    assert decode_item(encode_item(page)) == page
    assert decode_item(encode_item(event).encode()) == event
    with pytest.raises(ValueError, match="not a newswatch item"):
        decode_item('{"type": "page", "data": {"nope": 1}}')


@pytest.mark.e2e
def test_two_workers_and_one_ingest_do_what_a_single_run_does(
    tmp_path: Path, web: WebServer, redis_url: str
) -> None:
    (tmp_path / "single").mkdir()
    (tmp_path / "dist").mkdir()
    single = make_config(
        tmp_path / "single",
        web,
        "dist-single",
        FEEDS + SITE + BROKEN,
        extra='download_timeout = 5\nuser_agent = "nw-single"',
    )
    config = make_config(
        tmp_path / "dist",
        web,
        "dist-main",
        FEEDS + SITE + BROKEN,
        extra='download_timeout = 5\nuser_agent = "nw-dist"',
    )
    started = time.time()
    reference = cli(
        single, web, "dist-single", "run", "--json", wait=False, log=tmp_path / "single.log"
    )
    workers = [
        cli(
            config,
            web,
            "dist-main",
            "crawl",
            "--redis",
            redis_url,
            wait=False,
            log=tmp_path / f"worker{n}.log",
        )
        for n in (1, 2)
    ]
    try:
        result = cli(config, web, "dist-main", "ingest", "--redis", redis_url, "--json")
        assert result.returncode == 1, result.stderr  # the broken source
        summary = json.loads(result.stdout)
        assert summary["sources_ok"] == 5 and summary["failed_sources"] == ["broken"]
        assert reference.wait(timeout=120) == 1

        db, single_db = tmp_path / "dist" / "nw.db", tmp_path / "single" / "nw.db"
        articles_sql = "SELECT canonical_url, title, language, published_at FROM articles"

        def relative(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
            return sorted(tuple(row.values()) for row in found)

        assert relative(rows(db, articles_sql)) == relative(rows(single_db, articles_sql))
        assert len(rows(db, articles_sql)) == 9
        hits_sql = (
            "SELECT articles.canonical_url, hits.watch_id, hits.matched FROM hits "
            "JOIN articles ON articles.id = hits.article_id"
        )
        hits = rows(db, hits_sql)
        assert hits and relative(hits) == relative(rows(single_db, hits_sql))

        # Each article page fetched once across both workers.
        requests = fetched(web, "nw-dist", started)
        articles = {p: n for p, n in requests.items() if "/articles/" in p or "/2026/" in p}
        assert len(articles) == 10  # nine articles, one also under its utm_ link
        assert set(articles.values()) == {1}
        assert not [p for p in requests if "/private/" in p]  # robots.txt obeyed

        # One signed webhook per alert.
        alerts = rows(db, "SELECT idempotency_key, status FROM alerts")
        assert len(alerts) == len(hits) and {a["status"] for a in alerts} == {"sent"}
        received = web.hook_requests("dist-main")
        assert sorted(r["headers"]["webhook-id"] for r in received) == sorted(
            a["idempotency_key"] for a in alerts
        )
        assert all(verify(SECRET, r["headers"], r["body"]) for r in received)

        sources = {row["name"]: row for row in rows(db, "SELECT * FROM sources")}
        assert sources["broken"]["consecutive_failures"] == 1
        assert "HTTP 500" in sources["broken"]["last_error"]
        assert all(sources[name]["etag"] for name in ("rss20", "atom", "rss091", "rss10"))
        known = redis.Redis.from_url(redis_url).smembers(KNOWN_KEY)
        stored = {row["url"] for row in rows(db, "SELECT url FROM article_urls")}
        assert {url.decode() for url in known} == stored

        # Second cycle: feeds answer 304, known articles are not fetched, nothing is sent.
        second = time.time()
        again = cli(config, web, "dist-main", "ingest", "--redis", redis_url, "--json")
        assert again.returncode == 1, again.stderr
        summary = json.loads(again.stdout)
        assert summary["sources_not_modified"] == 4
        assert summary["articles_new"] == 0 and summary["alerts_sent"] == 0
        requests = fetched(web, "nw-dist", second)
        assert not [p for p in requests if "/articles/" in p or "/2026/" in p]
        assert requests["/news1/sitemap-news.xml"] == 1  # the site was crawled again
        feeds = [
            e
            for e in web.log("/feeds/")
            if e["time"] >= second and e["headers"].get("user-agent") == "nw-dist"
        ]
        assert len(feeds) == 4 and all("if-none-match" in e["headers"] for e in feeds)
        assert len(web.hook_requests("dist-main")) == len(alerts)
        assert rows(db, "SELECT consecutive_failures FROM sources WHERE name = 'broken'") == [
            {"consecutive_failures": 2}
        ]
        runs = rows(db, "SELECT status, hits FROM runs ORDER BY id")
        assert runs == [{"status": "partial", "hits": len(hits)}, {"status": "partial", "hits": 0}]
    finally:
        for worker in workers:
            worker.terminate()
    for n, worker in enumerate(workers, start=1):
        assert worker.wait(timeout=30) == 0
        log = (tmp_path / f"worker{n}.log").read_text()
        assert "Traceback" not in log and "Deprecat" not in log, log


@pytest.mark.e2e
def test_a_worker_refuses_private_addresses_and_listens_on_no_port(
    tmp_path: Path, web: WebServer, redis_url: str
) -> None:
    # The test server is on 127.0.0.1: without allow_private a source cannot reach it.
    inward = '\n[[source]]\nname = "inward"\nfeed = "BASE/feeds/atom.xml"\n'
    config = make_config(tmp_path, web, "dist-private", RSS20 + inward)
    worker = cli(
        config, web, "dist-private", "crawl", "--redis", redis_url, wait=False,
        log=tmp_path / "worker.log",
    )
    try:
        result = cli(config, web, "dist-private", "ingest", "--redis", redis_url, "--json")
        assert result.returncode == 1, result.stderr
        summary = json.loads(result.stdout)
        assert summary["failed_sources"] == ["inward"] and summary["articles_new"] > 0
        assert result.stderr.strip().endswith(
            f"source inward: {web.url}/feeds/atom.xml: refused: 127.0.0.1 is a private "
            "address (set allow_private = true on the source to allow it)"
        )
        assert worker.poll() is None and listening_ports(worker.pid) == []
    finally:
        worker.terminate()
    assert worker.wait(timeout=30) == 0


@pytest.mark.e2e
def test_ingest_without_workers_gives_up_after_wait(
    tmp_path: Path, web: WebServer, redis_url: str
) -> None:
    config = make_config(tmp_path, web, "dist-alone", RSS20)
    result = cli(config, web, "dist-alone", "ingest", "--redis", redis_url, "--wait", "1")
    assert result.returncode == 1
    assert "1 failed (rss20)" in result.stdout
    assert "did not finish within 1 s" in result.stderr
    source = rows(tmp_path / "nw.db", "SELECT * FROM sources")[0]
    assert "no response" in source["last_error"]
    # The seeded work is dropped, not left for workers to fetch later.
    server = redis.Redis.from_url(redis_url)
    assert server.llen(start_key("feeds")) == 0 and server.llen(ITEMS_KEY) == 0


def test_ingest_exits_75_while_a_run_holds_the_lock(
    tmp_path: Path,
    web: WebServer,
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = make_config(tmp_path, web, "dist-lock", FEEDS)
    monkeypatch.setenv("NW_HOOK_URL", web.hook_url("dist-lock"))
    monkeypatch.setenv("NW_HOOK_SECRET", SECRET)
    with RunLock(tmp_path / "nw.db"):
        code = main(["ingest", "--redis", redis_url, "-c", str(config)])
    assert code == 75
    assert "held by another newswatch process" in capsys.readouterr().err
    assert redis.Redis.from_url(redis_url).llen(start_key("feeds")) == 0  # nothing seeded


def test_redis_problems_are_one_line_and_hide_the_password(
    tmp_path: Path,
    web: WebServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = str(make_config(tmp_path, web, "dist-url", FEEDS))
    monkeypatch.setenv("NW_HOOK_URL", web.hook_url("dist-url"))
    monkeypatch.setenv("NW_HOOK_SECRET", SECRET)
    assert main(["ingest", "--redis", "http://example.org/", "-c", config]) == 2
    assert "--redis: expected a redis://" in capsys.readouterr().err
    nobody = f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0"
    for command in ("ingest", "crawl", "status"):
        assert main([command, "--redis", nobody, "-c", config]) == 69  # could not run
        err = capsys.readouterr().err
        assert "cannot reach Redis at redis://:***@127.0.0.1" in err
        assert "s3cret" not in err
