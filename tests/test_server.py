"""The local test server (tests/server.py) serves sites, validators, faults and webhook scripts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import feedparser
import httpx
import pytest

if TYPE_CHECKING:
    from conftest import WebServer


@pytest.fixture
def client(web: WebServer) -> Iterator[httpx.Client]:
    web.reset()
    with httpx.Client(base_url=web.url, timeout=10.0) as client:
        yield client


def test_etag_and_last_modified_round_trip(web: WebServer, client: httpx.Client) -> None:
    first = client.get("/feeds/rss20.xml")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/rss+xml")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    # {{BASE}} was replaced with the server's own URL, and the ETag covers the replaced bytes.
    assert "{{BASE}}" not in first.text
    assert f"{web.url}/feeds/articles/city-budget.html" in first.text

    assert client.get("/feeds/rss20.xml", headers={"If-None-Match": etag}).status_code == 304
    since = client.get("/feeds/rss20.xml", headers={"If-Modified-Since": last_modified})
    assert since.status_code == 304 and since.content == b""
    assert since.headers["etag"] == etag
    changed = client.get("/feeds/rss20.xml", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.content == first.content


def test_content_types(client: httpx.Client) -> None:
    types = {
        "/news1/news/": "text/html; charset=utf-8",
        "/feeds/atom.xml": "application/atom+xml",
        "/feeds/rss10.xml": "application/rdf+xml",
        "/news1/sitemap.xml": "application/xml",
        "/robots.txt": "text/plain; charset=utf-8",
    }
    for path, expected in types.items():
        assert client.get(path).headers["content-type"].startswith(expected), path
    assert client.get("/news1/news").status_code == 301
    assert client.get("/news1/nope.html").status_code == 404


def test_robots_txt_names_private_and_sitemap(web: WebServer, client: httpx.Client) -> None:
    robots = client.get("/robots.txt")
    assert robots.status_code == 200
    assert "Disallow: /news1/private/" in robots.text
    assert f"Sitemap: {web.url}/news1/sitemap.xml" in robots.text


def test_request_log_records_and_filters(web: WebServer, client: httpx.Client) -> None:
    client.get("/news1/", headers={"User-Agent": "newswatch-test"})
    client.get("/feeds/atom.xml?x=1")
    client.post("/_hook/log-check", content="hello")
    entries = web.log()
    assert [e["path"] for e in entries] == ["/news1/", "/feeds/atom.xml?x=1", "/_hook/log-check"]
    assert entries[0]["method"] == "GET"
    assert entries[0]["headers"]["user-agent"] == "newswatch-test"
    assert entries[2]["body"] == "hello"
    assert [e["path"] for e in web.log("/feeds/")] == ["/feeds/atom.xml?x=1"]
    web.reset()
    assert web.log() == []


def test_webhook_script_queue(web: WebServer, client: httpx.Client) -> None:
    web.script(
        "alerts",
        [
            {"status": 500},
            {"status": 429, "headers": {"Retry-After": "2"}, "body": "slow down"},
            {"status": 200, "body": "accepted"},
        ],
    )
    answers = [
        client.post("/_hook/alerts", json={"n": n}, headers={"Webhook-Id": f"msg_{n}"})
        for n in range(4)
    ]
    assert [a.status_code for a in answers] == [500, 429, 200, 200]
    assert answers[1].headers["retry-after"] == "2" and answers[1].text == "slow down"
    assert answers[2].text == "accepted" and answers[3].text == "ok"

    received = web.hook_requests("alerts")
    assert [r["headers"]["webhook-id"] for r in received] == ["msg_0", "msg_1", "msg_2", "msg_3"]
    assert received[0]["body"] == '{"n":0}'
    assert received[0]["time"] <= received[3]["time"]
    assert web.hook_requests("other") == []


def test_fault_endpoints(web: WebServer, client: httpx.Client) -> None:
    assert client.get("/_fault/status/503").status_code == 503
    assert client.get("/_fault/status/429?retry_after=7").headers["retry-after"] == "7"
    assert client.get("/_fault/slow?seconds=0").status_code == 200
    assert len(client.get("/_fault/big?bytes=200000").content) == 200000
    redirect = client.get("/_fault/redirect?to=/news1/")
    assert redirect.status_code == 302 and redirect.headers["location"] == "/news1/"
    assert client.get("/_fault/notfeed").headers["content-type"].startswith("text/html")

    feed = feedparser.parse(client.get("/_fault/truncated-feed").content)
    assert feed.bozo
    assert [e.link for e in feed.entries[:2]] == [
        f"{web.url}/feeds/articles/court-tulegenova.html",
        f"{web.url}/feeds/articles/city-budget.html",
    ]
