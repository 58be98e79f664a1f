"""Who may use the review desk: Datasette's allow rules, accounts, login limits, sessions,
safe redirects and feed tokens (issue 16, points 1 to 3)."""

from __future__ import annotations

import io
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette

from crawler import clock
from crawler.cli import main
from crawler.review import accounts
from tests.test_review import REMOTE, Client, build_database, register, status_of

register()

ATOM = "{http://www.w3.org/2005/Atom}"
DANA_PASSWORD = "a long passphrase for dana"
PAGES = [
    "/-/newswatch/",
    "/-/newswatch/search?q=Almaty",
    "/-/newswatch/dashboard",
    "/-/newswatch/removed",
    "/-/newswatch/feed/aigerim-tulegenova.atom",
]


@pytest.fixture
def newsroom(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    path = tmp_path / "newswatch.db"
    return path, build_database(path)


def datasette_with(path: Path, **metadata: Any) -> Datasette:
    """Someone's own Datasette over the file, with the plugin installed and ``metadata``."""
    plugin = {"watches": {"aigerim-tulegenova": "Aigerim Tulegenova"}}
    plugin |= metadata.pop("plugin", {})
    return Datasette([str(path)], metadata={"plugins": {"newswatch": plugin}, **metadata})


def as_actor(datasette: Datasette, actor_id: str, address: tuple[str, int] = REMOTE) -> Client:
    """A client carrying Datasette's own ``ds_actor`` cookie (as another auth plugin sets)."""
    client = Client(datasette, address)
    client.http.cookies.set("ds_actor", datasette.sign({"a": {"id": actor_id}}, "actor"))
    return client


@pytest.mark.parametrize(
    "rules",
    [
        {"allow": {"id": "editor"}},
        {"databases": {"newswatch": {"allow": {"id": "editor"}}}},
    ],
    ids=["instance", "database"],
)
def test_the_desk_answers_403_where_datasette_does(
    newsroom: tuple[Path, dict[str, int]], rules: dict[str, Any]
) -> None:
    datasette = datasette_with(newsroom[0], **rules)
    intern, editor = as_actor(datasette, "intern"), as_actor(datasette, "editor")
    try:
        assert intern.get("/newswatch/hits").status_code == 403  # Datasette's own answer
        for page in PAGES:
            assert intern.get(page).status_code == 403, page
            assert editor.get(page).status_code == 200, page
    finally:
        intern.close()
        editor.close()


def test_a_verdict_needs_the_newswatch_review_permission(
    newsroom: tuple[Path, dict[str, int]],
) -> None:
    path, ids = newsroom
    reader = datasette_with(path, allow={"id": ["editor", "intern"]})
    intern = as_actor(reader, "intern")
    try:
        token = intern.csrftoken("/-/newswatch/")
        refused = intern.post(
            "/-/newswatch/verdict",
            data={"csrftoken": token, "hit_id": ids["trial"], "status": "relevant"},
            headers={"accept": "application/json"},
        )
        assert refused.status_code == 403
        assert "newswatch-review" in refused.json()["error"]
        assert status_of(path, ids["trial"])[0] == "new"
    finally:
        intern.close()
    granted = datasette_with(
        path, allow={"id": ["editor", "intern"]}, permissions={"newswatch-review": {"id": "editor"}}
    )
    editor, intern = as_actor(granted, "editor"), as_actor(granted, "intern")
    try:
        for client, expected in ((intern, 403), (editor, 200)):
            response = client.post(
                "/-/newswatch/verdict",
                data={
                    "csrftoken": client.csrftoken("/-/newswatch/"),
                    "hit_id": ids["trial"],
                    "status": "relevant",
                },
                headers={"accept": "application/json"},
            )
            assert response.status_code == expected
    finally:
        editor.close()
        intern.close()
    assert status_of(path, ids["trial"])[:3] == ("relevant", None, "editor")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT actor, via FROM reviews").fetchall() == [
            ("editor", "datasette")
        ]
    conn.close()


def test_static_files_come_from_datasettes_plugin_route(
    newsroom: tuple[Path, dict[str, int]],
) -> None:
    client = Client(datasette_with(newsroom[0]))
    try:
        page = client.get("/-/newswatch/").text
        assert '<link rel="stylesheet" href="/-/static-plugins/newswatch/review.css">' in page
        assert '<script src="/-/static-plugins/newswatch/review.js" defer>' in page
        css = client.get("/-/static-plugins/newswatch/review.css")
        assert css.status_code == 200 and ".nw-story" in css.text
        # The files' old address (cached pages, bookmarks) leads to the new one.
        old = client.get("/-/newswatch/static/review.css", follow_redirects=False)
        assert old.status_code == 301
        assert old.headers["location"] == "/-/static-plugins/newswatch/review.css"
        # Datasette would read a deeper unknown desk path as a row URL (a 500 with rich).
        assert client.get("/-/newswatch/static/a/b").status_code == 404
        assert client.get("/-/newswatch/no/such/page").status_code == 404
    finally:
        client.close()


def users(config: Path, *args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch) -> int:
    """``newswatch users ...`` in this process, the password on standard input."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["users", *args, "-c", str(config)])


@pytest.fixture
def with_accounts(
    newsroom: tuple[Path, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, Datasette]]:
    """The newsroom with an account for Dana (and a shared password that no longer counts)."""
    path = newsroom[0]
    config = path.parent / "newswatch.toml"
    config.write_text('database = "newswatch.db"\n', encoding="utf-8")
    monkeypatch.setenv("NW_TEST_SHARED", "the old shared password")
    add = ("add", "dana", "--password-stdin")
    assert users(config, *add, stdin=DANA_PASSWORD + "\n", monkeypatch=monkeypatch) == 0
    assert users(config, *add, stdin=DANA_PASSWORD + "\n", monkeypatch=monkeypatch) == 2
    assert users(config, "add", "bob", "--password-stdin", stdin="short\n",
                 monkeypatch=monkeypatch) == 2
    yield config, datasette_with(path, plugin={"password_env": "NW_TEST_SHARED"})


def test_editors_log_in_with_their_account_and_verdicts_record_it(
    with_accounts: tuple[Path, Datasette],
    newsroom: tuple[Path, dict[str, int]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, datasette = with_accounts
    path, ids = newsroom
    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT password_hash FROM accounts WHERE name = 'dana'").fetchone()
    conn.close()
    assert stored[0].startswith("scrypt$16384$8$1$") and DANA_PASSWORD not in stored[0]
    main(["users", "list", "--json", "-c", str(config)])
    assert '"name": "dana"' in capsys.readouterr().out
    remote = Client(datasette, REMOTE)
    try:
        # the shared password names nobody once accounts exist
        assert remote.login("Mallory", "the old shared password").status_code == 403
        assert remote.login("dana", "wrong password").status_code == 403
        assert remote.login("dana", DANA_PASSWORD).status_code == 303
        assert "Signed in as <strong>dana</strong>" in remote.get("/-/newswatch/").text
        remote.post(
            "/-/newswatch/verdict",
            data={
                "csrftoken": remote.csrftoken("/-/newswatch/"),
                "hit_id": ids["trial"],
                "status": "relevant",
            },
        )
    finally:
        remote.close()
    assert status_of(path, ids["trial"])[:3] == ("relevant", None, "dana")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT actor, via FROM reviews").fetchall() == [("dana", "account")]
    conn.close()


def test_logins_are_limited_per_account_and_per_address(
    with_accounts: tuple[Path, Datasette], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, datasette = with_accounts
    assert users(config, "add", "aliya", "--password-stdin", stdin="aliya's passphrase\n",
                 monkeypatch=monkeypatch) == 0
    fake = clock.FakeClock("2026-12-01T09:00:00Z")
    attacker = Client(datasette, REMOTE)
    elsewhere = Client(datasette, ("198.51.100.9", 40000))
    try:
        with clock.using(fake):
            for n in range(accounts.ACCOUNT_FAILURES):
                assert attacker.login("dana", f"guess {n}").status_code == 403
            # the account is locked: the right password is refused too, from anywhere
            locked = elsewhere.login("dana", DANA_PASSWORD)
            assert locked.status_code == 429
            assert "Too many failed logins for this account" in locked.text
            fake.advance(minutes=16)
            assert elsewhere.login("dana", DANA_PASSWORD).status_code == 303
            # one address guessing across accounts is stopped as well
            for n in range(accounts.ADDRESS_FAILURES):
                attacker.login(f"name{n}", "guess")
            refused = attacker.login("aliya", "aliya's passphrase")
            assert refused.status_code == 429 and "your address" in refused.text
    finally:
        attacker.close()
        elsewhere.close()


def test_the_shared_password_is_limited_per_address(
    newsroom: tuple[Path, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NW_TEST_SHARED", "the shared password")
    remote = Client(datasette_with(newsroom[0], plugin={"password_env": "NW_TEST_SHARED"}), REMOTE)
    try:
        with clock.using(clock.FakeClock("2026-12-01T09:00:00Z")):
            for n in range(accounts.ADDRESS_FAILURES):
                assert remote.login("Aliya", f"guess {n}").status_code == 403
            assert remote.login("Aliya", "the shared password").status_code == 429
    finally:
        remote.close()


def test_a_password_change_ends_the_accounts_sessions(
    with_accounts: tuple[Path, Datasette], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, datasette = with_accounts
    remote = Client(datasette, REMOTE)
    try:
        assert remote.login("dana", DANA_PASSWORD).status_code == 303
        assert remote.get("/newswatch/hits.json").status_code == 200
        assert users(config, "passwd", "dana", "--password-stdin", stdin="a new passphrase!\n",
                     monkeypatch=monkeypatch) == 0
        assert remote.get("/newswatch/hits.json").status_code == 401
        assert remote.get("/-/newswatch/", headers={"accept": "text/html"}).status_code == 302
        assert remote.login("dana", "a new passphrase!").status_code == 303
        assert remote.get("/newswatch/hits.json").status_code == 200
        assert users(config, "remove", "dana", monkeypatch=monkeypatch) == 0
        assert remote.get("/newswatch/hits.json").status_code == 401
    finally:
        remote.close()


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example/", "/\n/evil.example/", "/\r\nSet-Cookie: x=1", "/ /evil.example/",
     "/\\/evil.example/", "https:evil.example", "/%09/evil.example/"],
)
def test_login_next_accepts_only_paths_on_this_site(
    newsroom: tuple[Path, dict[str, int]], target: str
) -> None:
    client = Client(datasette_with(newsroom[0]))
    try:
        form = client.get("/-/newswatch/login", params={"next": target})
        assert form.status_code == 200
        response = client.post(
            "/-/newswatch/login",
            data={"csrftoken": client.csrftoken(), "name": "Dana", "next": target},
        )
        assert response.status_code == 303
        location = response.headers["location"]
        if target == "/%09/evil.example/":  # still percent-encoded: a path on this site
            assert location == target
        else:
            assert location == "/-/newswatch/"
    finally:
        client.close()


def test_a_page_past_the_last_is_a_404(newsroom: tuple[Path, dict[str, int]]) -> None:
    client = Client(datasette_with(newsroom[0]))
    try:
        assert client.get("/-/newswatch/?page=1").status_code == 200
        assert client.get("/-/newswatch/?page=2").status_code == 404
        assert client.get("/-/newswatch/?status=relevant&page=1").status_code == 200  # empty
        assert client.get("/-/newswatch/?page=99999999999999999999").status_code == 404
    finally:
        client.close()


def feed_ids(client: Client, host: str, path: str = "aigerim-tulegenova.atom") -> dict[str, Any]:
    response = client.get(f"/-/newswatch/feed/{path}", headers={"host": host})
    assert response.status_code == 200, response.text
    feed = ET.fromstring(response.content)
    return {
        "feed": feed.findtext(f"{ATOM}id"),
        "updated": feed.findtext(f"{ATOM}updated"),
        "entries": sorted(entry.findtext(f"{ATOM}id") or "" for entry in feed.iter(f"{ATOM}entry")),
        "links": sorted(
            link.get("href") or ""
            for entry in feed.iter(f"{ATOM}entry")
            for link in entry.iter(f"{ATOM}link")
        ),
    }


@pytest.mark.parametrize("review_url", ["https://desk.example.org/", ""])
def test_feed_ids_do_not_depend_on_the_host_header(
    newsroom: tuple[Path, dict[str, int]], review_url: str
) -> None:
    path, ids = newsroom
    client = Client(datasette_with(path, plugin={"review_url": review_url}))
    try:
        client.login()
        client.post(
            "/-/newswatch/verdict",
            data={
                "csrftoken": client.csrftoken("/-/newswatch/"),
                "hit_id": [ids["trial"], ids["evil"]],
                "status": "relevant",
            },
        )
        one, other = feed_ids(client, "localhost"), feed_ids(client, "desk.internal:8001")
        empty = feed_ids(client, "localhost", "serik-bekov.atom")
    finally:
        client.close()
    assert one["feed"] == other["feed"] and one["entries"] == other["entries"]
    assert len(one["entries"]) == 2
    if review_url:
        assert one["entries"] == sorted(
            f"https://desk.example.org/-/newswatch/hit/{ids[key]}" for key in ("trial", "evil")
        )
        # the evil article's javascript: URL is replaced by the desk's page for the hit
        assert f"https://desk.example.org/-/newswatch/hit/{ids['evil']}" in one["links"]
        assert one["links"] == other["links"]
    else:
        assert all(entry.startswith("urn:uuid:") for entry in one["entries"])
    assert one["updated"] > "2026"
    assert empty["entries"] == [] and not empty["updated"].startswith("1970")


def test_feed_tokens_let_a_reader_subscribe_until_revoked(
    with_accounts: tuple[Path, Datasette],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, datasette = with_accounts
    capsys.readouterr()
    assert users(config, "token", "dana", monkeypatch=monkeypatch) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("nwf_")
    reader = Client(datasette, REMOTE)
    feed = "/-/newswatch/feed/aigerim-tulegenova.atom"
    try:
        assert reader.get(feed).status_code == 401
        assert reader.get(feed, params={"token": token}).status_code == 200
        assert reader.get(feed, params={"token": "nwf_guess"}).status_code == 403
        assert reader.get("/-/newswatch/", params={"token": token}).status_code == 401
        assert users(config, "token", "dana", "--revoke", monkeypatch=monkeypatch) == 0
        assert reader.get(feed, params={"token": token}).status_code == 403
    finally:
        reader.close()
