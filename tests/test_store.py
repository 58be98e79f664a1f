"""The state file under contention: a run stores every article while editors write verdicts."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import save_hit, serve_web

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = 150

# An editor bulk-marking hits in a loop through the desk's own write path, faster than
# any person clicks, with a pause inside a transaction as a slow disk would have.
EDITOR = textwrap.dedent(
    """
    import sqlite3, sys, time
    from pathlib import Path
    from crawler.review.queries import record_verdict
    from crawler.db import immediate

    db, stop, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    conn = sqlite3.connect(db, timeout=10)
    rounds = errors = 0
    while not stop.exists():
        try:
            ids = [row[0] for row in conn.execute("SELECT id FROM hits")]
            status = ("relevant", "irrelevant")[rounds % 2]
            record_verdict(conn, ids, status=status, note=None, actor=name, now="2026-12-01")
            with immediate(conn):
                conn.execute("UPDATE hits SET note = ? WHERE id IN (SELECT id FROM hits LIMIT 1)",
                             [f"{name} {rounds}"])
                time.sleep(0.02)
            rounds += 1
            time.sleep(0.05)  # the next click
        except sqlite3.Error as exc:
            errors += 1
            print(f"error: {exc}", flush=True)
    print(f"rounds {rounds} errors {errors}", flush=True)
    """
)


def write_site(root: Path) -> None:
    """A feed of ARTICLES article pages; every fifth names the watched person."""
    (root / "wire").mkdir(parents=True)
    items = []
    for number in range(ARTICLES):
        who = "Aigerim Tulegenova" if number % 5 == 0 else "the city council"
        body = " ".join(
            f"Paragraph {p} of report {number}: {who} spoke about the budget, the roads "
            f"and the schools of district {number} on day {p}." for p in range(12)
        )
        (root / "wire" / f"{number}.html").write_text(
            f"<html><head><title>Report {number}</title></head><body><article>"
            f"<h1>Report {number} from the district</h1><p>{body}</p></article></body></html>",
            encoding="utf-8",
        )
        items.append(
            f"<item><title>Report {number}</title><link>{{{{BASE}}}}/wire/{number}.html</link>"
            "<pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate></item>"
        )
    (root / "wire" / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"<link>{{{{BASE}}}}/wire/</link>{''.join(items)}</channel></rss>",
        encoding="utf-8",
    )


def test_a_run_stores_every_article_while_two_editors_write(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_site(root)
    db_path = tmp_path / "nw.db"
    from crawler.storage.store import open_database

    db = open_database(db_path)
    for number in range(20):  # hits for the editors to mark
        save_hit(db, watch_id="aigerim-tulegenova", name="Aigerim Tulegenova",
                 url=f"https://seed.example/{number}", text=f"Aigerim Tulegenova, item {number}.",
                 channels=())
    db.close()

    with serve_web(root) as web:
        config = tmp_path / "newswatch.toml"
        config.write_text(
            f"""
database = "nw.db"
[crawl]
autothrottle = false
retries = 0
concurrency_per_domain = 8
[[source]]
name = "wire"
feed = "{web.url}/wire/feed.xml"
allow_private = true
max_articles = {ARTICLES}
[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
""",
            encoding="utf-8",
        )
        stop = tmp_path / "stop"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        editors = [
            subprocess.Popen(
                [sys.executable, "-c", EDITOR, str(db_path), str(stop), f"editor-{n}"],
                stdout=subprocess.PIPE, text=True, env=env,
            )
            for n in range(2)
        ]
        try:
            run = subprocess.run(
                [sys.executable, "-m", "crawler.cli", "run", "--json", "-c", str(config)],
                capture_output=True, text=True, timeout=300, env=env,
            )
        finally:
            stop.touch()
            reports = [editor.communicate(timeout=60)[0] for editor in editors]

    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["articles_new"] == ARTICLES
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT count(*) FROM articles WHERE source = 'wire'").fetchone()[0]
        reviews = conn.execute("SELECT count(*) FROM reviews").fetchone()[0]
    assert stored == ARTICLES
    for report in reports:  # the editors wrote all along, and never failed either
        last = report.strip().splitlines()[-1]
        assert last.startswith("rounds ") and last.endswith(" errors 0"), report
        assert int(last.split()[1]) > 0
    assert reviews > 0
