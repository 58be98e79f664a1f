"""The review desk through Datasette's own ASGI client: pages, verdicts, access, escaping."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from datasette.app import Datasette

from crawler.config import ConfigError, load_config
from crawler.models import Article, Hit
from crawler.review import metadata, register
from crawler.review.queries import Filters, load_queue
from crawler.storage.store import (
    open_database,
    record_source_failure,
    record_source_ok,
    save_article,
)
from tests.conftest import STARTUP_TIMEOUT, _first_line, stop_process

register()

EVIL = '<script>alert("pwned")</script> Aigerim Tulegenova & co'
REMOTE = ("203.0.113.7", 50123)  # a documentation address: not this machine
PASSWORD = "correct horse battery staple"


def article(
    n: int,
    title: str,
    *,
    text: str = "",
    source: str = "test-wire",
    lang: str = "en",
    published: str = "2026-11-16T09:00:00Z",
    url: str = "",
) -> Article:
    """An article as extract would hand it to the store."""
    body = text or f"{title}. Body of article {n} about Aigerim Tulegenova and the court."
    url = url or f"https://news.example/{n}.html"
    return Article(
        url=url,
        canonical_url=url,
        source=source,
        title=title,
        text=body,
        published_at=published,
        language=lang,
        content_hash=hashlib.sha256(body.encode()).hexdigest(),
    )


def hit(watch_id: str = "aigerim-tulegenova", matched: str = "Aigerim Tulegenova") -> Hit:
    """A hit as the matcher would report it."""
    return Hit(
        watch_id=watch_id,
        matched=matched,
        start=0,
        end=len(matched),
        snippet=f"… the lawyer for {matched} said on Monday that the appeal …",
        confidence=0.95,
        reason="alias 'Aigerim Tulegenova'",
    )


def build_database(path: Path) -> dict[str, int]:
    """A small newsroom: a story with two copies, a Russian article, a malicious headline."""
    db = open_database(path)

    def store(item: Article, hits: list[Hit]) -> int:
        result = save_article(db, item, hits, lambda watch: [], lambda *args: 0)
        assert result.article_id is not None
        return result.hit_ids[0] if result.hit_ids else 0

    ids = {
        "trial": store(article(1, "Tulegenova trial opens in Almaty"), [hit()]),
        # identical text under another URL: joins the trial's story
        "copy": store(
            article(
                2,
                "Tulegenova trial opens (wire copy)",
                url="https://wire.example/2.html",
                text="Tulegenova trial opens in Almaty. Body of article 1 about Aigerim "
                "Tulegenova and the court.",
                source="other-wire",
            ),
            [],
        ),
        "russian": store(
            article(
                3,
                "Суд над Айгерим Тулегеновой отложен",
                lang="ru",
                source="kaz-news",
                published="2026-11-17T11:30:00Z",
                text="Суд над Айгерим Тулегеновой отложен до декабря, сообщил адвокат.",
            ),
            [hit(matched="Айгерим Тулегеновой")],
        ),
        "evil": store(
            article(
                4,
                EVIL,
                url="javascript:alert(1)",
                published="2026-11-18T07:00:00Z",
                text="An article whose headline tries to run a script. Aigerim Tulegenova.",
            ),
            [
                Hit(
                    "aigerim-tulegenova",
                    "Tulegenova",
                    0,
                    10,
                    '<img src=x onerror="alert(2)"> Tulegenova <b>bold</b>',
                    0.7,
                    "surname near context '<i>court</i>'",
                )
            ],
        ),
        "other_watch": store(
            article(
                5,
                "Rights groups call for release of Serik Bekov",
                source="kaz-news",
                published="2026-11-19T10:00:00Z",
                text="Rights groups call for release of Serik Bekov, an activist.",
            ),
            [hit(watch_id="serik-bekov", matched="Serik Bekov")],
        ),
    }
    record_source_ok(db, "test-wire", "https://news.example/feed.xml")
    record_source_failure(db, "kaz-news", "https://kaz.example/rss", "HTTP 503 <b>down</b>")
    # the outbox as delivery left it: one alert sent, one given up on
    for hit_id, status, error in (
        (ids["trial"], "sent", None),
        (ids["russian"], "dead", "HTTP 410 gone"),
    ):
        db.table("alerts").insert(
            {
                "idempotency_key": f"nw_test_{hit_id}",
                "watch_id": "aigerim-tulegenova",
                "hit_id": hit_id,
                "channel": "staff-hook",
                "status": status,
                "attempts": 8,
                "last_error": error,
                "created_at": "2026-11-17T12:00:00Z",
            }
        )
    db.conn.commit()
    db.close()
    return ids


@pytest.fixture
def newsroom(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """The database file and the ids of its hits."""
    path = tmp_path / "newswatch.db"
    return path, build_database(path)


def desk(path: Path, **plugin: Any) -> Datasette:
    """Datasette over the file with the desk configured as ``newswatch review`` would."""
    settings = {"watches": {"aigerim-tulegenova": "Aigerim Tulegenova"}, **plugin}
    return Datasette([str(path)], metadata={"plugins": {"newswatch": settings}})


class Client:
    """An HTTP client talking to Datasette's ASGI app from a chosen address, keeping cookies."""

    def __init__(self, datasette: Datasette, address: tuple[str, int] = ("127.0.0.1", 40000)):
        transport = httpx.ASGITransport(app=datasette.app(), client=address)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://localhost")
        self.loop = asyncio.new_event_loop()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.http.get(path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.http.post(path, **kwargs))

    def csrftoken(self, page: str = "/-/newswatch/login") -> str:
        """The CSRF token a form on ``page`` carries (sets the csrf cookie too)."""
        html = self.get(page).text
        found = re.search(r'name="csrftoken" value="([^"]+)"', html)
        assert found, html[:500]
        return found.group(1)

    def login(self, name: str = "Dana", password: str = "") -> httpx.Response:
        token = self.csrftoken()
        return self.post(
            "/-/newswatch/login",
            data={"csrftoken": token, "name": name, "password": password, "next": "/-/newswatch/"},
        )

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


@pytest.fixture
def local(newsroom: tuple[Path, dict[str, int]]) -> Iterator[Client]:
    client = Client(desk(newsroom[0]))
    yield client
    client.close()


def status_of(path: Path, hit_id: int) -> tuple[str, str | None, str | None, str | None]:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT status, note, reviewed_by, reviewed_at FROM hits WHERE id = ?", [hit_id]
        ).fetchone()
    conn.close()
    return row


def headlines(html: str) -> list[str]:
    """The headlines of the hit cards, in page order."""
    return re.findall(r'<h3 class="nw-headline">(?:<a [^>]*>)?(.*?)(?:</a>)?</h3>', html)


def test_queue_lists_hits_grouped_by_story_newest_first(
    newsroom: tuple[Path, dict[str, int]],
) -> None:
    datasette = desk(newsroom[0])
    response = asyncio.run(datasette.client.get("/-/newswatch/"))
    html = response.text
    assert response.status_code == 200
    assert headlines(html) == [
        "Rights groups call for release of Serik Bekov",
        "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; Aigerim Tulegenova &amp; co",
        "Суд над Айгерим Тулегеновой отложен",
        "Tulegenova trial opens in Almaty",
    ]
    assert ">4 hits\n  in 4 stories</span>" in html
    # the watch by its watchlist name; the mention highlighted; why it matched
    assert '<span class="nw-watch" title="aigerim-tulegenova">Aigerim Tulegenova</span>' in html
    assert "… the lawyer for <mark>Айгерим Тулегеновой</mark> said on Monday" in html
    assert "alias &#39;Aigerim Tulegenova&#39; (confidence 0.95)" in html
    assert (
        'kaz-news</span> · <time>2026-11-17 11:30</time> · <span class="nw-lang">ru</span>' in html
    )
    # the wire copy of the trial story is listed under it, linked
    trial = html[html.index('data-story="1"') :]
    assert '<a href="https://wire.example/2.html"' in trial
    assert "Tulegenova trial opens (wire copy)" in trial
    assert "other-wire, 2026-11-16 09:00, en" in trial


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("watch=serik-bekov", ["Rights groups call for release of Serik Bekov"]),
        ("language=ru", ["Суд над Айгерим Тулегеновой отложен"]),
        (
            "source=kaz-news",
            [
                "Rights groups call for release of Serik Bekov",
                "Суд над Айгерим Тулегеновой отложен",
            ],
        ),
        ("since=2026-11-17&until=2026-11-17", ["Суд над Айгерим Тулегеновой отложен"]),
        ("status=relevant", []),
        ("story=1&status=all", ["Tulegenova trial opens in Almaty"]),
    ],
)
def test_queue_filters(
    newsroom: tuple[Path, dict[str, int]], query: str, expected: list[str]
) -> None:
    response = asyncio.run(desk(newsroom[0]).client.get(f"/-/newswatch/?{query}"))
    assert response.status_code == 200
    assert headlines(response.text) == expected
    if not expected:
        assert "Nothing to review with these filters." in response.text


def test_scraped_text_is_escaped_everywhere(
    local: Client, newsroom: tuple[Path, dict[str, int]]
) -> None:
    local.login()
    local.post(
        "/-/newswatch/verdict",
        data={
            "csrftoken": local.csrftoken("/-/newswatch/"),
            "hit_id": newsroom[1]["evil"],
            "status": "follow-up",
        },
    )
    pages = [
        local.get("/-/newswatch/?status=all").text,
        local.get("/-/newswatch/dashboard").text,
        local.get("/-/newswatch/search?q=script").text,
    ]
    for html in pages:
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "javascript:alert" not in html
        assert "<b>down</b>" not in html
    queue, dashboard, search = pages
    assert (
        "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; Aigerim Tulegenova &amp; co" in queue
    )
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt; <mark>Tulegenova</mark>" in queue
    assert "HTTP 503 &lt;b&gt;down&lt;/b&gt;" in dashboard
    assert "&lt;<mark>script</mark>&gt;alert(&#34;pwned&#34;)" in search


def test_a_verdict_changes_the_hit_and_records_who_and_when(
    local: Client, newsroom: tuple[Path, dict[str, int]]
) -> None:
    path, ids = newsroom
    assert local.login("Dana Editor").status_code == 303
    token = local.csrftoken("/-/newswatch/")
    response = local.post(
        "/-/newswatch/verdict",
        data={
            "csrftoken": token,
            "hit_id": ids["trial"],
            "status": "relevant",
            "note": "call her lawyer",
            "next": "/-/newswatch/",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/-/newswatch/"
    status, note, who, when = status_of(path, ids["trial"])
    assert (status, note, who) == ("relevant", "call her lawyer", "Dana Editor")
    assert when is not None and when.endswith("Z")
    queue = local.get("/-/newswatch/").text
    assert "1 hit marked relevant." in queue
    assert "Tulegenova trial opens in Almaty" not in headlines(queue)
    assert "precision 100% (1/1)" in queue
    with sqlite3.connect(path) as conn:
        log = conn.execute("SELECT hit_id, status, note, actor FROM reviews").fetchall()
    conn.close()
    assert log == [(ids["trial"], "relevant", "call her lawyer", "Dana Editor")]


def test_bulk_and_note_verdicts_answer_json(
    local: Client, newsroom: tuple[Path, dict[str, int]]
) -> None:
    path, ids = newsroom
    local.login()
    token = local.csrftoken("/-/newswatch/")
    response = local.post(
        "/-/newswatch/verdict",
        data={
            "csrftoken": token,
            "hit_id": [ids["trial"], ids["russian"], 9999],
            "status": "irrelevant",
        },
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["hit_ids"] == sorted([ids["trial"], ids["russian"]])
    assert body["status"] == "irrelevant" and body["reviewed_by"] == "Dana"
    response = local.post(
        "/-/newswatch/verdict",
        data={"csrftoken": token, "hit_id": ids["russian"], "status": "", "note": "duplicate"},
        headers={"accept": "application/json"},
    )
    assert response.json()["ok"] is True
    assert status_of(path, ids["russian"])[:3] == ("irrelevant", "duplicate", "Dana")
    assert status_of(path, ids["trial"])[0] == "irrelevant"
    bad = local.post(
        "/-/newswatch/verdict",
        data={"csrftoken": token, "hit_id": ids["evil"], "status": "<b>maybe</b>"},
    )
    assert bad.status_code == 400
    assert "<b>maybe</b>" not in bad.text
    assert status_of(path, ids["evil"])[0] == "new"


def test_an_anonymous_write_is_refused(
    local: Client, newsroom: tuple[Path, dict[str, int]]
) -> None:
    path, ids = newsroom
    token = local.csrftoken("/-/newswatch/")
    response = local.post(
        "/-/newswatch/verdict",
        data={"csrftoken": token, "hit_id": ids["trial"], "status": "irrelevant"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 403
    assert response.json() == {"ok": False, "error": "Log in to record verdicts."}
    assert status_of(path, ids["trial"]) == ("new", None, None, None)


def test_a_cross_site_post_is_refused(local: Client, newsroom: tuple[Path, dict[str, int]]) -> None:
    path, ids = newsroom
    local.login()
    response = local.post(
        "/-/newswatch/verdict", data={"hit_id": ids["trial"], "status": "irrelevant"}
    )
    assert response.status_code == 403
    forged = local.post(
        "/-/newswatch/verdict",
        data={"csrftoken": "forged", "hit_id": ids["trial"], "status": "irrelevant"},
    )
    assert forged.status_code == 403
    assert status_of(path, ids["trial"])[0] == "new"


def test_remote_clients_must_log_in_with_the_password(
    newsroom: tuple[Path, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, ids = newsroom
    monkeypatch.setenv("NW_TEST_REVIEW_PASSWORD", PASSWORD)
    remote = Client(desk(path, password_env="NW_TEST_REVIEW_PASSWORD"), REMOTE)
    try:
        page = remote.get("/-/newswatch/?watch=serik-bekov", headers={"accept": "text/html"})
        assert page.status_code == 302
        assert page.headers["location"] == (
            "/-/newswatch/login?next=%2F-%2Fnewswatch%2F%3Fwatch%3Dserik-bekov"
        )
        # Datasette's own pages and exports are behind the same gate
        assert remote.get("/newswatch/hits.json").status_code == 401
        assert remote.get("/newswatch/articles.csv").status_code == 401
        wrong = remote.login(password="guess")
        assert wrong.status_code == 403
        assert "Wrong password." in wrong.text
        assert "ds_actor" not in remote.http.cookies
        right = remote.login("Aliya", PASSWORD)
        assert right.status_code == 303
        assert remote.get("/newswatch/hits.json").status_code == 200
        token = remote.csrftoken("/-/newswatch/")
        remote.post(
            "/-/newswatch/verdict",
            data={"csrftoken": token, "hit_id": ids["evil"], "status": "irrelevant"},
        )
        assert status_of(path, ids["evil"])[:3] == ("irrelevant", None, "Aliya")
    finally:
        remote.close()


def test_without_a_password_only_this_machine_can_log_in(
    newsroom: tuple[Path, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = newsroom[0]
    remote = Client(desk(path), REMOTE)
    try:
        refused = remote.login("Aliya")
        assert refused.status_code == 403
        assert "only this machine can log in" in refused.text
    finally:
        remote.close()
    monkeypatch.delenv("NW_TEST_UNSET", raising=False)
    misconfigured = Client(desk(path, password_env="NW_TEST_UNSET"))
    try:
        refused = misconfigured.login("Dana", "anything")
        assert refused.status_code == 403
        assert "NW_TEST_UNSET is not set" in refused.text
    finally:
        misconfigured.close()


def test_local_reads_can_require_login_too(newsroom: tuple[Path, dict[str, int]]) -> None:
    client = Client(desk(newsroom[0], open_on_localhost=False))
    try:
        page = client.get("/-/newswatch/dashboard", headers={"accept": "text/html"})
        assert page.status_code == 302
        assert client.get("/-/newswatch/login").status_code == 200
        assert client.login("Dana").status_code == 303
        assert client.get("/-/newswatch/dashboard").status_code == 200
    finally:
        client.close()


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_to_another_site(local: Client, target: str) -> None:
    token = local.csrftoken()
    response = local.post(
        "/-/newswatch/login", data={"csrftoken": token, "name": "Dana", "next": target}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/-/newswatch/"


def test_dashboard_shows_stale_sources_and_days_since_each_watchs_last_hit(
    local: Client, newsroom: tuple[Path, dict[str, int]]
) -> None:
    path, _ = newsroom
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE sources SET status = 'stale', stale_since = '2026-12-01T08:00:00Z', "
            "last_new_article_at = '2026-11-20T08:00:00Z', stale_reason = 'no new article for "
            "11 days <i>quiet</i>' WHERE name = 'test-wire'"
        )
        conn.execute("UPDATE hits SET created_at = '2000-01-01T00:00:00Z' "
                     "WHERE watch_id = 'serik-bekov'")
    conn.close()
    html = local.get("/-/newswatch/dashboard").text
    sources = html[html.index("<h2>Sources</h2>") :]
    assert sources.index("kaz-news") < sources.index("test-wire")  # failing, then stale
    assert '<tr class="nw-stale">' in sources and '<tr class="nw-failing">' in sources
    assert "no new article for 11 days &lt;i&gt;quiet&lt;/i&gt;" in sources
    assert "since 2026-12-01 08:00" in sources and "2026-11-20 08:00" in sources
    assert "<th>Days since last hit</th>" in html
    row = html[html.index('<a href="/-/newswatch/?watch=aigerim-tulegenova">') :]
    assert "today" in row[: row.index("</tr>")]
    row = html[html.index('<a href="/-/newswatch/?watch=serik-bekov">') :]
    assert re.search(r"\d{4,} days", row[: row.index("</tr>")])


def test_dashboard_shows_precision_chart_sources_and_alerts(
    local: Client, newsroom: tuple[Path, dict[str, int]]
) -> None:
    path, ids = newsroom
    local.login()
    token = local.csrftoken("/-/newswatch/")
    for hit_id, status in (
        (ids["trial"], "relevant"),
        (ids["russian"], "relevant"),
        (ids["evil"], "irrelevant"),
    ):
        local.post(
            "/-/newswatch/verdict", data={"csrftoken": token, "hit_id": hit_id, "status": status}
        )
    with sqlite3.connect(path) as conn:  # hits dated within the chart's 90 days
        conn.execute("UPDATE articles SET published_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')")
    conn.close()
    html = local.get("/-/newswatch/dashboard").text
    row = html[html.index('<a href="/-/newswatch/?watch=aigerim-tulegenova">') :]
    row = row[: row.index("</tr>")]
    assert '67% <small class="nw-muted">(2/3)</small>' in row
    assert '<svg class="nw-chart"' in row
    assert re.search(r"<title>\d{4}-\d{2}-\d{2}: 3 hits</title>", row)
    assert "3 hits</small>" in row
    sources = html[html.index("<h2>Sources</h2>") :]
    assert sources.index("kaz-news") < sources.index("test-wire")  # failing first
    assert '<tr class="nw-failing">' in sources
    assert "dead <strong>1</strong>" in html
    assert "HTTP 410 gone" in html


def test_search_finds_words_in_titles_and_text(local: Client) -> None:
    html = local.get("/-/newswatch/search?q=Тулегеновой").text
    assert "<mark>Тулегеновой</mark>" in html
    assert "Суд над Айгерим" in html
    assert 'hits: <span class="nw-watch">aigerim-tulegenova</span>' in html
    # not FTS syntax: searched as words instead of failing
    assert local.get('/-/newswatch/search?q="Almaty').status_code == 200
    assert "Tulegenova trial opens" in local.get('/-/newswatch/search?q="Almaty').text
    dated = local.get("/-/newswatch/search?q=Tulegenova&since=2026-11-18").text
    assert "Tulegenova trial opens" not in dated
    # Datasette's own table search uses the same index, with CSV/JSON export
    rows = local.get("/newswatch/articles.json?_search=Almaty&_shape=array").json()
    assert sorted(row["url"] for row in rows) == [
        "https://news.example/1.html",
        "https://wire.example/2.html",
    ]


def test_canned_queries_and_exports(local: Client, newsroom: tuple[Path, dict[str, int]]) -> None:
    _path, ids = newsroom
    week = local.get(
        "/newswatch/hits_for_a_watch_this_week.json?watch=serik-bekov&_shape=array"
    ).json()
    assert [row["title"] for row in week] == ["Rights groups call for release of Serik Bekov"]
    local.login()
    local.post(
        "/-/newswatch/verdict",
        data={
            "csrftoken": local.csrftoken("/-/newswatch/"),
            "hit_id": [ids["trial"], ids["russian"], ids["other_watch"]],
            "status": "relevant",
        },
        headers={"accept": "application/json"},
    )
    csv = local.get("/newswatch/relevant_hits_by_source.csv").text.splitlines()
    assert csv[0] == "source,relevant_hits,stories,watches,last_reviewed_at"
    assert [line.split(",")[:4] for line in csv[1:]] == [
        ["kaz-news", "2", "2", "2"],
        ["test-wire", "1", "1", "1"],
    ]
    queue = local.get("/-/newswatch/?status=relevant&language=ru").text
    export = re.search(r'<a href="([^"]+\.csv\?[^"]+)">CSV</a>', queue)
    assert export
    rows = local.get(export.group(1).replace("&amp;", "&")).text.splitlines()
    assert len(rows) == 2 and "Суд над Айгерим Тулегеновой отложен" in rows[1]


def test_atom_feed_of_relevant_hits(local: Client, newsroom: tuple[Path, dict[str, int]]) -> None:
    _path, ids = newsroom
    local.login()
    local.post(
        "/-/newswatch/verdict",
        data={
            "csrftoken": local.csrftoken("/-/newswatch/"),
            "hit_id": [ids["evil"], ids["trial"]],
            "status": "relevant",
            "note": "see <this>",
        },
    )
    response = local.get("/-/newswatch/feed/aigerim-tulegenova.atom")
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.fromstring(response.content)
    assert feed.findtext(f"{atom}title") == "newswatch: Aigerim Tulegenova (relevant hits)"
    entries = {entry.findtext(f"{atom}title"): entry for entry in feed.iter(f"{atom}entry")}
    assert set(entries) == {EVIL, "Tulegenova trial opens in Almaty"}
    # a javascript: URL is not a link: the entry links to the desk's page for the hit
    evil_link = entries[EVIL].find(f"{atom}link")
    assert evil_link is not None and evil_link.get("rel") == "alternate"
    assert evil_link.get("href") == f"http://localhost/-/newswatch/hit/{ids['evil']}"
    assert "javascript" not in response.text
    trial = entries["Tulegenova trial opens in Almaty"]
    assert trial.find(f"{atom}link").get("href") == "https://news.example/1.html"
    assert "Note: see <this>" in (trial.findtext(f"{atom}summary") or "")
    assert local.get("/-/newswatch/feed/nobody.atom").status_code == 404
    jump = local.get(f"/-/newswatch/hit/{ids['evil']}")
    assert jump.status_code == 302 and jump.headers["location"].endswith(f"#hit-{ids['evil']}")


def test_plain_datasette_without_newswatch_metadata(newsroom: tuple[Path, dict[str, int]]) -> None:
    datasette = Datasette([str(newsroom[0])])
    html = asyncio.run(datasette.client.get("/-/newswatch/")).text
    assert '<span class="nw-watch" title="aigerim-tulegenova">aigerim-tulegenova</span>' in html
    assert asyncio.run(datasette.client.get("/")).status_code == 200  # Datasette's own index
    assert "/-/newswatch/" in asyncio.run(datasette.client.get("/")).text  # in the menu
    assert asyncio.run(desk(newsroom[0], home=True).client.get("/")).status_code == 302


def test_no_newswatch_database_is_a_404(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    response = asyncio.run(Datasette([str(other)]).client.get("/-/newswatch/dashboard"))
    assert response.status_code == 404


def test_review_config_table(tmp_path: Path) -> None:
    path = tmp_path / "newswatch.toml"
    path.write_text('[review]\npassword_env = "DESK_PASSWORD"\nopen_on_localhost = false\n')
    config = load_config(path, env={})
    assert config.review.password_env == "DESK_PASSWORD"
    assert config.review.open_on_localhost is False
    assert metadata(config)["plugins"]["newswatch"]["password_env"] == "DESK_PASSWORD"
    path.write_text(
        '[[watch]]\nid = "rusafa-women"\nkind = "case"\nquery = "Rusafa"\n\n'
        '[[watch]]\nid = "rusafa-2"\nkind = "case"\nname = "Rusafa, again"\nquery = "Rusafa"\n'
    )
    watches = metadata(load_config(path, env={}))["plugins"]["newswatch"]["watches"]
    assert watches == {"rusafa-women": "Rusafa women", "rusafa-2": "Rusafa, again"}
    path.write_text('[review]\npassword = "hunter2"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert (
        "newswatch.toml: review.password: unknown key (expected one of: open_on_localhost, "
        "password_env)" in str(caught.value)
    )


def write_config(directory: Path, **review: Any) -> Path:
    """A newswatch.toml next to the database, with one watch and a [review] table."""
    lines = [
        'database = "newswatch.db"',
        "",
        "[[watch]]",
        'id = "aigerim-tulegenova"',
        'name = "Aigerim Tulegenova"',
        "",
        "[review]",
        *(f"{key} = {json.dumps(value)}" for key, value in review.items()),
    ]
    path = directory / "newswatch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def running_desk(config: Path, env: dict[str, str]) -> Iterator[str]:
    """``newswatch review -c CONFIG --port 0`` in a subprocess; yields the URL it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "review", "-c", str(config), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, **env},
    )
    try:
        line = _first_line(process, STARTUP_TIMEOUT).strip()
        found = re.match(
            r"review desk: (http://127\.0\.0\.1:\d+/-/newswatch/) \(Ctrl-C to stop\)$", line
        )
        assert found, f"unexpected first line {line!r}"
        yield found.group(1)
    finally:
        stop_process(process)


def test_newswatch_review_serves_the_desk(newsroom: tuple[Path, dict[str, int]]) -> None:
    path, _ids = newsroom
    config = write_config(path.parent, password_env="NW_TEST_REVIEW_PASSWORD")
    with running_desk(config, {"NW_TEST_REVIEW_PASSWORD": PASSWORD}) as url, httpx.Client() as http:
        queue = http.get(url)
        assert queue.status_code == 200
        assert (
            '<span class="nw-watch" title="aigerim-tulegenova">Aigerim Tulegenova</span>'
            in queue.text
        )
        home = http.get(url.removesuffix("-/newswatch/"))
        assert home.status_code == 302 and home.headers["location"] == "/-/newswatch/"
        login = http.get(url + "login").text
        assert 'name="password" type="password"' in login


def test_newswatch_review_needs_the_password_variable_it_names(
    newsroom: tuple[Path, dict[str, int]],
) -> None:
    config = write_config(newsroom[0].parent, password_env="NW_TEST_UNSET_PASSWORD")
    env = {key: value for key, value in os.environ.items() if key != "NW_TEST_UNSET_PASSWORD"}
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "review", "-c", str(config), "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"newswatch: {config}: review.password_env: environment variable "
        "NW_TEST_UNSET_PASSWORD is not set"
    )


def test_queue_pages_through_stories(newsroom: tuple[Path, dict[str, int]]) -> None:
    path = newsroom[0]
    with sqlite3.connect(path) as conn:
        first = load_queue(conn, Filters(), page_size=3)
        second = load_queue(conn, Filters(page=2), page_size=3)
    conn.close()
    assert (first.total_hits, first.total_stories, first.pages) == (4, 4, 2)
    assert [len(group.hits) for group in first.groups] == [1, 1, 1]
    assert [group.hits[0]["title"] for group in second.groups] == [
        "Tulegenova trial opens in Almaty"
    ]
    assert Filters.from_args({"page": "2", "status": "bogus", "since": "last week"}) == Filters(
        page=2
    )
    assert Filters(watch="a b", page=3).query(page=4) == "watch=a+b&page=4"


def test_article_history_and_removed_pages_escape_scraped_text(
    newsroom: tuple[Path, dict[str, int]],
) -> None:
    path, ids = newsroom
    db = open_database(path)
    article_id = db.execute("SELECT article_id FROM hits WHERE id = ?", [ids["evil"]]).fetchone()[0]
    changed = "A changed text <img src=x onerror=alert(3)> with Aigerim Tulegenova & more."
    save_article(
        db,
        article(4, EVIL, url="javascript:alert(1)", text=changed),
        [hit()],
        lambda watch: [],
        lambda *args: 0,
        article_id=article_id,
    )
    db.execute(
        "UPDATE articles SET removed_at = '2026-11-20T10:00:00Z', "
        "removed_reason = 'redirected to <b>home</b>, not an article' WHERE id = ?",
        [article_id],
    )
    db.execute(
        "UPDATE hits SET removed_at = '2026-11-20T09:00:00Z' WHERE id = ?", [ids["russian"]]
    )
    db.conn.commit()
    db.close()
    client = Client(desk(path))
    try:
        history = client.get(f"/-/newswatch/article/{article_id}")
        removed = client.get("/-/newswatch/removed")
        canned = client.get("/newswatch/removed_articles.json?_shape=array").json()
        queue = client.get("/-/newswatch/?status=all").text
        pack = client.get(f"/-/newswatch/evidence/{ids['evil']}.zip")
        assert client.get("/-/newswatch/article/999").status_code == 404
        assert client.get("/-/newswatch/evidence/999.zip").status_code == 404
    finally:
        client.close()
    assert history.status_code == removed.status_code == 200
    for html in (history.text, removed.text, queue):
        assert "<img src=x" not in html and "<script>alert" not in html and "<b>home" not in html
        assert 'href="javascript:' not in html  # shown as text, never a link
    assert "<ins>" in history.text and "&lt;img src=x onerror=alert(3)&gt;" in history.text
    assert "redirected to &lt;b&gt;home&lt;/b&gt;, not an article" in history.text
    assert removed.text.count('class="nw-removed-article"') == 1
    assert removed.text.count('class="nw-removed-mention"') == 1
    assert sorted(row["what"] for row in canned) == ["article", "mention"]
    assert "article removed 2026-11-20 10:00" in queue
    assert "mention removed 2026-11-20 09:00" in queue
    assert pack.status_code == 200 and pack.headers["content-type"] == "application/zip"
    assert "attachment" in pack.headers["content-disposition"]


def test_rough_edges_of_the_queue(newsroom: tuple[Path, dict[str, int]]) -> None:
    """A case span across headline and text is highlighted; an article hit by two watches
    shows its headline once; a note alone is not shown as a verdict."""
    path, ids = newsroom
    db = open_database(path)
    crossing = Hit(
        "rusafa-women",
        "Rusafa prison\n\nSix Kazakhstani women",
        20,
        56,
        "Women held in Rusafa prison Six Kazakhstani women were moved, lawyers say.",
        0.9,
        "case query",
    )
    save_article(
        db,
        article(6, "Women held in Rusafa prison", text="Six Kazakhstani women were moved."),
        [crossing, hit(watch_id="serik-bekov", matched="Serik Bekov")],
        lambda watch: [],
        lambda *args: 0,
    )
    db.close()
    client = Client(desk(path))
    try:
        client.login()
        client.post(
            "/-/newswatch/verdict",
            data={"csrftoken": client.csrftoken("/-/newswatch/"), "hit_id": ids["trial"],
                  "status": "", "note": "ask the lawyer"},
        )
        html = client.get("/-/newswatch/?status=all").text
    finally:
        client.close()
    assert "Women held in <mark>Rusafa prison Six Kazakhstani women</mark> were moved" in html
    assert headlines(html).count("Women held in Rusafa prison") == 1
    assert "Same article as above." in html
    trial = html[html.index(f'id="hit-{ids["trial"]}"') :]
    trial = trial[: trial.index("</article>")]
    assert '<p class="nw-reviewed" hidden>' in trial
    assert status_of(path, ids["trial"])[:3] == ("new", "ask the lawyer", None)
