"""Private addresses: no source reaches loopback, private or link-local hosts unless it allows them.

The test server listens on 127.0.0.1, itself a private address. A source that does
not set ``allow_private`` therefore cannot reach it at all; to show what happens to
a feed on a public host whose items point inwards, the crawl goes through the test
server as an HTTP proxy (``http_proxy``), which serves any host's request as its path.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from crawler.downloadermiddlewares.private import ip_literal, is_private, request_hosts
from tests.conftest import WEB_ROOT, WebServer, serve_web
from tests.test_spiders import run as spiders_run

PUBLIC = "93.184.215.14"  # a global address (IANA's example.com); reached only via the proxy
HINT = "(set allow_private = true on the source to allow it)"

@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255",
        "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.1",
        "255.255.255.255", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1",
        "2002:7f00:1::", "::127.0.0.1",
    ],
)
def test_private_addresses(address: str) -> None:
    parsed = ip_literal(address)
    assert parsed is not None and is_private(parsed)


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8",
                "64:ff9b::808:808", "2002:808:808::"],
)
def test_public_addresses(address: str) -> None:
    parsed = ip_literal(address)
    assert parsed is not None and not is_private(parsed)


def test_odd_ipv4_spellings_are_names_for_the_resolver() -> None:
    # Python's parser refuses them, so they are resolved like names: the C library reads
    # them as 127.0.0.1, and that is what Twisted connects to (see the e2e test below).
    for host in ("2130706433", "0177.0.0.1", "0x7f.1", "127.1"):
        assert ip_literal(host) is None
    assert ipaddress.ip_address("127.0.0.1") == ip_literal("[127.0.0.1]")


def test_request_hosts_include_what_twisted_connects_to() -> None:
    assert request_hosts("http://[::1]:8080/x") == ["::1"]
    assert request_hosts("http://LocalHost/") == ["localhost"]
    # User info: Python's parser sees 127.0.0.1, Twisted's agent the whole netloc.
    assert request_hosts("http://user:pw@127.0.0.1:80/") == ["127.0.0.1", "user:pw@127.0.0.1"]
    assert request_hosts("http://[::1") == []


def run(
    tmp_path: Path, web: WebServer, sources: str, *args: str, proxy: bool = False,
    crawl: str = "",
) -> subprocess.CompletedProcess[str]:
    """``newswatch run`` with no proxy from this machine's environment, or through the
    test server as one."""
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    if proxy:
        # Every request not to the test server itself goes through it as a proxy.
        env |= {"http_proxy": web.url, "no_proxy": "127.0.0.1,localhost"}
    return spiders_run(tmp_path, web, sources, *args, crawl=crawl, base_env=env)


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql)]


def source(name: str, url: str, *extra: str, kind: str = "feed") -> str:
    return "\n".join(["", "[[source]]", f'name = "{name}"', f'{kind} = "{url}"', *extra, ""])


@pytest.mark.e2e
def test_a_source_without_allow_private_reaches_no_local_address(
    tmp_path: Path, web: WebServer
) -> None:
    port = web.url.rsplit(":", 1)[1]
    forms = {
        "loopback": f"127.0.0.1:{port}",
        "name": f"localhost:{port}",
        "ipv6": f"[::1]:{port}",
        "mapped": f"[::ffff:127.0.0.1]:{port}",
        "unspecified": f"0.0.0.0:{port}",
        "decimal": f"2130706433:{port}",
        "octal": f"0177.0.0.1:{port}",
        "short": f"127.1:{port}",
    }
    sources = "".join(source(name, f"http://{place}/feeds/rss20.xml") for name, place in
                      forms.items())
    # The same spellings with allow_private: Twisted connects them to the test server,
    # so the check above looked at the address a connection would really use.
    allowed = ("name", "decimal", "octal", "short")
    sources += "".join(
        source(f"{name}-allowed", f"http://{forms[name]}/feeds/atom.xml", "allow_private = true")
        for name in allowed
    )
    started = time.time()
    result = run(tmp_path, web, sources)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == len(forms), lines
    for line, (name, place) in zip(lines, forms.items(), strict=True):
        head = (f" WARNING crawler.run.health: source {name}: "
                f"http://{place}/feeds/rss20.xml: refused: ")
        assert head in line and line.endswith(f"a private address {HINT}"), line
    assert f"refused: localhost resolves to 127.0.0.1, a private address {HINT}" in lines[1]
    assert f"refused: 2130706433 resolves to 127.0.0.1, a private address {HINT}" in lines[5]
    assert f"refused: 0177.0.0.1 resolves to 127.0.0.1, a private address {HINT}" in lines[6]
    assert f"refused: ::1 is a private address {HINT}" in lines[2]

    health = {row["name"]: row for row in rows(tmp_path / "nw.db", "SELECT * FROM sources")}
    for name in forms:
        assert health[name]["consecutive_failures"] == 1
        assert "refused: " in health[name]["last_error"]
    for name in allowed:
        assert health[f"{name}-allowed"]["consecutive_failures"] == 0
    # Nothing reached the server for the refused sources: no feed, no robots.txt.
    requested = [entry["path"] for entry in web.log() if entry["time"] >= started]
    assert "/feeds/rss20.xml" not in requested
    assert requested.count("/feeds/atom.xml") == len(allowed)


FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Outer Wire</title><link>{public}/</link>
<description>A feed on a public host whose items point inwards.</description>
{items}
</channel></rss>
"""
COURT = (WEB_ROOT / "feeds" / "articles" / "court-tulegenova.html").read_text(encoding="utf-8")


def article(title: str) -> str:
    """A test article page (a hit on the watch) under its own title, with no canonical URL."""
    page = "\n".join(line for line in COURT.splitlines() if "{{BASE}}" not in line)
    return page.replace("<h1>", f"<h1>{title}: ").replace(
        '<div class="story-body">', f'<div class="story-body">\n<p>{title} reports.</p>'
    )


@pytest.mark.e2e
def test_a_feed_on_a_public_host_cannot_point_inwards(tmp_path: Path) -> None:
    root = tmp_path / "web"
    (root / "inside").mkdir(parents=True)
    (root / "news").mkdir()
    for name in ("inside/secret.html", "inside/hop.html"):
        (root / name).write_text(article("Intranet page"), encoding="utf-8")
    (root / "news" / "good.html").write_text(article("Outer Wire"),
                                             encoding="utf-8")
    with serve_web(root) as web:
        port = web.url.rsplit(":", 1)[1]
        public = f"http://{PUBLIC}"
        inward = [
            f"http://127.0.0.1:{port}/inside/secret.html",
            f"http://localhost:{port}/inside/secret.html?via=name",
            f"http://2130706433:{port}/inside/secret.html?via=decimal",
            f"http://[::1]:{port}/inside/secret.html?via=ipv6",
            f"http://0.0.0.0:{port}/inside/secret.html?via=unspecified",
            # Public first, then redirected inwards: the second hop is refused.
            f"{public}/_fault/redirect?to=http://localhost:{port}/inside/hop.html",
        ]
        links = [*inward, f"{public}/news/good.html"]
        items = "\n".join(
            f"<item><title>Item {n}</title><link>{link.replace('&', '&amp;')}</link>"
            f"<pubDate>Mon, 16 Nov 2026 0{n}:00:00 GMT</pubDate></item>"
            for n, link in enumerate(links)
        )
        (root / "feed.xml").write_text(FEED.format(public=public, items=items), encoding="utf-8")
        result = run(tmp_path, web, source("outer", f"{public}/feed.xml"), proxy=True)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""  # the source is ok: no warning line

        assert not [entry for entry in web.log("/inside/")], "an inward link was fetched"
        articles = rows(tmp_path / "nw.db", "SELECT url, title FROM articles")
        assert [row["url"] for row in articles] == [f"{public}/news/good.html"]
        received = web.hook_requests(tmp_path.name)
        assert len(received) == 1
        assert json.loads(received[0]["body"])["data"]["article"]["url"] == articles[0]["url"]

        (outer,) = rows(tmp_path / "nw.db", "SELECT * FROM sources")
        assert outer["consecutive_failures"] == 0 and outer["last_ok_at"]
        note = outer["last_error"]
        assert note.startswith("6 articles not fetched: ")
        assert f"http://127.0.0.1:{port}/inside/secret.html" in note
        assert f"refused: 127.0.0.1 is a private address {HINT}" in note
        assert f"refused: localhost resolves to 127.0.0.1, a private address {HINT}" in note
        assert "; and 1 more" in note  # five are named


@pytest.mark.e2e
def test_a_site_article_redirected_off_the_site_or_its_rules_is_not_stored(
    tmp_path: Path,
) -> None:
    root = tmp_path / "web"
    (root / "news" / "2026").mkdir(parents=True)
    (root / "news" / "2026" / "good.html").write_text(article("Good"), "utf-8")
    (root / "news" / "2026" / "moved.html").write_text(article("Moved"), "utf-8")
    (root / "login.html").write_text(article("Sign in"), "utf-8")
    with serve_web(root) as web:
        port = web.url.rsplit(":", 1)[1]
        links = [
            "/news/2026/good.html",
            # Another host (same machine, but not the source's site) after the redirect.
            f"/_fault/redirect?to=http://localhost:{port}/news/2026/moved.html",
            # The paywall: the article link follows the rules, the login page does not.
            "/_fault/redirect?to=/login.html&amp;next=/news/2026/paid.html",
        ]
        anchors = "".join(f'<li><a href="{link}">{n}</a></li>' for n, link in enumerate(links))
        (root / "news" / "index.html").write_text(
            f"<!DOCTYPE html><html><body><ul>{anchors}</ul></body></html>", encoding="utf-8"
        )
        site = source(
            "herald", f"{web.url}/", f'sections = ["{web.url}/news/"]',
            "follow = ['/news/\\d{4}/']", "allow_private = true", kind="site",
        )
        result = run(tmp_path, web, site)
        assert result.returncode == 0, result.stderr
        articles = rows(tmp_path / "nw.db", "SELECT url FROM articles")
        assert [row["url"] for row in articles] == [f"{web.url}/news/2026/good.html"]
        assert len(web.hook_requests(tmp_path.name)) == 1
        (herald,) = rows(tmp_path / "nw.db", "SELECT * FROM sources")
        assert herald["consecutive_failures"] == 0
        assert herald["last_error"].startswith("2 articles not fetched: ")
        assert (
            f"redirected to http://localhost:{port}/news/2026/moved.html, "
            "outside the source's site or follow rules" in herald["last_error"]
        )
        assert f"redirected to {web.url}/login.html, outside" in herald["last_error"]
