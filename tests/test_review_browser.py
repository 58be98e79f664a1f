"""The review desk in a real headless Chromium: log in, triage with the keyboard, check the file.

Uses Debian's ``chromium`` package (``apt-get install chromium``) driven by the
``playwright`` Python package with ``executable_path`` pointed at it; Playwright's
own browser download is never used. Skips when either is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_review import (
    EVIL,
    PASSWORD,
    build_database,
    running_desk,
    status_of,
    write_config,
)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the browser test needs the playwright package: pip install -e '.[test]'",
)
if not CHROMIUM.exists():
    pytest.skip(
        f"the browser test needs Debian's chromium at {CHROMIUM}: apt-get install chromium",
        allow_module_level=True,
    )


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A fresh page in headless Chromium; fails the test on any script dialog (alert())."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(15_000)
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            yield page
            assert dialogs == [], f"scraped text ran as script: {dialogs}"
        finally:
            browser.close()


def test_log_in_and_triage_with_the_keyboard(tmp_path: Path, browser_page: Any) -> None:
    database = tmp_path / "newswatch.db"
    ids = build_database(database)
    config = write_config(tmp_path, password_env="NW_TEST_REVIEW_PASSWORD", open_on_localhost=False)
    page = browser_page
    with running_desk(config, {"NW_TEST_REVIEW_PASSWORD": PASSWORD}) as url:
        # Reads need a login here, so the queue sends the browser to the login form.
        page.goto(url)
        assert "/-/newswatch/login" in page.url
        page.fill("#nw-name", "Dana Editor")
        page.fill("#nw-password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector(".nw-hit.nw-current")
        assert page.url == url
        assert page.inner_text("#nw-count") == "4 hits in 4 stories"
        assert page.inner_text(".nw-who") == "Signed in as Dana Editor"

        # j moves to the second hit: the malicious headline, shown as text.
        page.keyboard.press("j")
        current = page.locator(".nw-hit.nw-current")
        assert current.get_attribute("data-hit-id") == str(ids["evil"])
        assert current.locator(".nw-headline").inner_text() == EVIL
        assert current.locator(".nw-snippet mark").inner_text() == "Tulegenova"

        # r marks it relevant: it leaves the queue, the next hit takes the focus.
        page.keyboard.press("r")
        page.locator(f"#hit-{ids['evil']}").wait_for(state="detached")
        assert page.inner_text("#nw-flash") == "1 hit marked relevant"
        assert page.inner_text("#nw-count") == "3 hits in 3 stories"
        assert page.locator(".nw-hit.nw-current").get_attribute("data-hit-id") == str(
            ids["russian"]
        )

        # n opens the note of the focused hit; Enter saves it without a verdict.
        page.keyboard.press("n")
        page.keyboard.type("ask the lawyer")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "document.getElementById('nw-flash').textContent === '1 hit note saved'"
        )
        # a note alone is not a verdict: no "Last verdict by" appears for it
        assert page.locator(f"#hit-{ids['russian']} .nw-reviewed").is_hidden()
        assert page.locator(".nw-hit").count() == 3

        screenshot = tmp_path / "review-queue.png"
        page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.stat().st_size > 10_000

        # What the browser did is in the database.
        status, note, who, when = status_of(database, ids["evil"])
        assert (status, note, who) == ("relevant", None, "Dana Editor")
        assert when is not None
        assert status_of(database, ids["russian"])[:3] == ("new", "ask the lawyer", None)
        # A reload shows the same queue the script left.
        page.reload()
        assert page.inner_text("#nw-count") == "3 hits in 3 stories"
        assert page.locator(f"#hit-{ids['evil']}").count() == 0


def add_history(database: Path, hit_id: int) -> tuple[bytes, str]:
    """Give the hit's article a changed text and a kept raw response, as revisits would.

    Returns the body kept as evidence and the sentence the change added.
    """
    import dataclasses

    from alerts import enqueue
    from crawler.db import write_transaction
    from crawler.models import Page
    from crawler.storage import evidence
    from crawler.storage.store import open_database, save_article
    from tests.test_review import article, hit

    db = open_database(database)
    row = db.execute(
        "SELECT a.id, a.url, a.text FROM hits h JOIN articles a ON a.id = h.article_id "
        "WHERE h.id = ?",
        [hit_id],
    ).fetchone()
    added = "The appeal will be heard by the regional court in January."
    body = f"<html><body><p>{row[2]} {added}</p></body></html>".encode()
    page = Page(
        source="test-wire",
        url=row[1],
        html=body.decode(),
        status=200,
        headers=(("Content-Type", "text/html; charset=utf-8"), ("ETag", '"v2"')),
        body=body,
        fetched_at="2026-11-20T09:00:00Z",
    )
    changed = dataclasses.replace(
        article(1, "Tulegenova trial opens in Almaty"), text=f"{row[2]}\n{added}", content_hash="v2"
    )
    save_article(db, changed, [hit()], lambda watch: [], enqueue, article_id=row[0])
    record = evidence.EvidenceWriter(database).write(page)
    with write_transaction(db):
        evidence.link(db.conn, record, row[0], page)
    db.close()
    return body, added


def test_an_evidence_pack_and_the_changes_of_an_article(tmp_path: Path, browser_page: Any) -> None:
    import hashlib
    import io
    import json
    import zipfile

    from warcio.archiveiterator import ArchiveIterator

    database = tmp_path / "newswatch.db"
    ids = build_database(database)
    body, added = add_history(database, ids["trial"])
    config = write_config(tmp_path)
    page = browser_page
    with running_desk(config, {}) as url:
        page.goto(url)  # this machine reads without logging in
        card = page.locator(f"#hit-{ids['trial']}")
        assert "see what changed" in card.locator(".nw-flag-updated").inner_text()
        link = card.locator("a.nw-evidence")
        assert link.inner_text() == "evidence pack (1 record)"
        with page.expect_download() as download:
            link.click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name == f"newswatch-evidence-hit-{ids['trial']}.zip"
        with zipfile.ZipFile(saved) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            warc = archive.read("records.warc.gz")
        assert manifest["hit"]["id"] == ids["trial"]
        assert manifest["hit"]["matched_text"] == "Aigerim Tulegenova"
        [record] = manifest["records"]
        assert record["sha256"] == hashlib.sha256(body).hexdigest()
        assert record["status"] == 200 and record["fetched_at"] == "2026-11-20T09:00:00Z"
        responses = [
            (r.rec_headers.get_header("WARC-Record-ID"), r.content_stream().read())
            for r in ArchiveIterator(io.BytesIO(warc))
            if r.rec_type == "response"
        ]
        assert responses == [(record["warc_record_id"], body)]

        # The article's history: what the change added, with the old text kept.
        card.locator(".nw-flag-updated").click()
        page.wait_for_selector("#nw-article")
        assert page.locator(".nw-diff .nw-added").inner_text() == added
        assert added in page.locator(".nw-version").first.inner_text()
        assert page.locator("details.nw-version-box").count() == 2
        assert page.locator(".nw-evidence-table tr").count() == 2  # header + one record

        # A takedown shows in the queue and on the Removed page.
        import sqlite3

        with sqlite3.connect(database) as conn:
            conn.execute(
                "UPDATE articles SET removed_at = '2026-11-21T10:00:00Z', removed_reason = "
                "'HTTP 404' WHERE id = (SELECT article_id FROM hits WHERE id = ?)",
                [ids["trial"]],
            )
        conn.close()
        page.goto(url)
        flag = page.locator(f"#hit-{ids['trial']} .nw-flag-removed")
        assert flag.inner_text() == "article removed 2026-11-21 10:00 (HTTP 404)"
        page.click("nav.nw-nav >> text=Removed")
        page.wait_for_selector("#nw-removed-list")
        assert page.locator(".nw-removed-article").count() == 1
        assert "HTTP 404" in page.locator(".nw-removed-article").inner_text()


def test_an_arabic_hit_reads_right_to_left_and_a_chinese_name_is_found(
    tmp_path: Path, browser_page: Any
) -> None:
    from crawler.config import Watch
    from crawler.matching.matcher import Matcher
    from crawler.models import Article
    from crawler.storage.store import open_database, save_article

    watches = [
        Watch(id="zhanna-umirova", kind="person", name="Zhanna Umirova", aliases=("جانا عميروفا",)),
        Watch(id="sayragul-sauytbay", kind="person", name="Sayragul Sauytbay",
              aliases=("萨依拉古丽·沙吾提巴依",)),
    ]  # fmt: skip
    matcher = Matcher.compile(watches)
    texts = {
        "https://ar.example/rusafa": (
            "ar",
            "ست نساء كازاخيات في سجن الرصافة",
            "وقالت الناشطة جانا عميروفا إن ست نساء كازاخيات محتجزات في سجن الرصافة ببغداد.",
        ),
        "https://zh.example/sauytbay": (
            "zh",
            "證人薩依拉古麗・沙吾提巴依再次發聲",
            "新疆集中營的證人薩依拉古麗・沙吾提巴依近日在阿拉木圖再次講述了她的經歷。",
        ),
    }
    db = open_database(tmp_path / "newswatch.db")
    for url, (language, title, text) in texts.items():
        article = Article(url=url, canonical_url=url, source=url.split("/")[2], title=title,
                          text=text, language=language, published_at="2026-11-20T09:00:00Z",
                          content_hash=url)  # fmt: skip
        save_article(db, article, matcher.match(f"{title}\n{text}"), lambda w: [], lambda *a: 0)
    db.close()
    config = write_config(tmp_path, password_env="NW_TEST_REVIEW_PASSWORD")
    page = browser_page
    with running_desk(config, {"NW_TEST_REVIEW_PASSWORD": PASSWORD}) as url:
        page.goto(url)
        page.wait_for_selector(".nw-hit")
        snippet = page.locator(".nw-hit", has_text="جانا عميروفا").locator(".nw-snippet")
        assert snippet.get_attribute("dir") == "rtl"
        # The browser lays it out right to left: the text starts at the right edge.
        assert snippet.evaluate("e => getComputedStyle(e).direction") == "rtl"
        assert snippet.locator("mark").inner_text() == "جانا عميروفا"
        chinese = page.locator(".nw-hit", has_text="沙吾提巴依").locator(".nw-snippet")
        assert chinese.get_attribute("dir") == "ltr"

        # Searching the simplified name finds the traditional article, the name marked.
        page.goto(url + "search?q=" + "萨依拉古丽")
        result = page.locator(".nw-result")
        assert result.count() == 1
        assert result.locator("h3 mark").inner_text() == "薩依拉古麗"
        assert "薩依拉古麗" in result.locator(".nw-snippet mark").first.inner_text()


OVERLAPS = """(selector) => {
  const boxes = [...document.querySelectorAll(selector)]
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([, r]) => r.width > 0 && r.height > 0);
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i], [b, rb] = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (x > 1 && y > 1) found.push([a.outerHTML.slice(0, 80), b.outerHTML.slice(0, 80)]);
    }
  }
  return found;
}"""
OUTSIDE = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map((el) => el.outerHTML.slice(0, 80))"""
# Controls of the desk's forms, the nav, and the hit cards: none may sit on another.
BOXES = (
    ".nw-filters input, .nw-filters select, .nw-filters button, .nw-filters label, "
    ".nw-nav > a, .nw-nav > .nw-who, .nw-hit, .nw-bulk button"
)


@pytest.mark.parametrize("width", [1400, 390])
def test_queue_search_and_dashboard_lay_out_without_overlap(
    tmp_path: Path, browser_page: Any, width: int
) -> None:
    build_database(tmp_path / "newswatch.db")
    config = write_config(tmp_path)
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    with running_desk(config, {}) as url:
        for name, path in (
            ("queue", "?status=all"),
            ("search", "search?q=Tulegenova"),
            ("dashboard", "dashboard"),
        ):
            page.goto(url + path)
            page.wait_for_load_state("load")
            page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
            assert page.evaluate(OVERLAPS, BOXES) == [], f"{name} at {width}px"
            assert page.evaluate(OUTSIDE, BOXES) == [], f"{name} at {width}px"
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} at {width}px is {overflow}px too wide"
            assert (tmp_path / f"{name}-{width}.png").stat().st_size > 1000
