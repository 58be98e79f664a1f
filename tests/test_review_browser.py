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
        page.locator(f"#hit-{ids['russian']} .nw-reviewed").wait_for(state="visible")
        assert page.locator(".nw-hit").count() == 3

        screenshot = tmp_path / "review-queue.png"
        page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.stat().st_size > 10_000

        # What the browser did is in the database.
        status, note, who, when = status_of(database, ids["evil"])
        assert (status, note, who) == ("relevant", None, "Dana Editor")
        assert when is not None
        assert status_of(database, ids["russian"])[:3] == ("new", "ask the lawyer", "Dana Editor")
        # A reload shows the same queue the script left.
        page.reload()
        assert page.inner_text("#nw-count") == "3 hits in 3 stories"
        assert page.locator(f"#hit-{ids['evil']}").count() == 0
