"""End to end: short Chinese, Japanese, Arabic and Uyghur articles from the local test server
are stored (not dropped as "not an article"), in their language, as written, and matched."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import WebServer

pytestmark = pytest.mark.e2e

CONFIG = """
database = "nw.db"

[alerts]
backfill_hours = 0  # the fixture articles have fixed dates in the past

[crawl]
autothrottle = false
retries = 0
download_timeout = 5

[[channel]]
id = "console"
type = "console"

[[source]]
name = "silkroad"
feed = "BASE/scripts/feed.xml"
allow_private = true

[[watch]]
id = "sayragul-sauytbay"
name = "Sayragul Sauytbay"
aliases = ["萨依拉古丽·沙吾提巴依", "サイラグル・サウトバイ", "سايراگۈل ساۋۇتباي"]
channels = ["console"]

[[watch]]
id = "zhanna-umirova"
name = "Zhanna Umirova"
aliases = ["جانا عميروفا"]
channels = ["console"]

[[watch]]
id = "rusafa-women"
kind = "case"
query = '"سجن الرصافة" AND كازاخ*'
channels = ["console"]
"""


def _rows(db: Path, sql: str) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql)]


def test_short_cjk_and_arabic_script_articles_are_stored_and_matched(
    tmp_path: Path, web: WebServer
) -> None:
    config = tmp_path / "newswatch.toml"
    config.write_text(CONFIG.replace("BASE", web.url), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "run", "--json", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # The console channel prints the alerts first; the run summary is the last line.
    assert json.loads(result.stdout.splitlines()[-1])["sources_ok"] == 1

    db = tmp_path / "nw.db"
    articles = {
        Path(row["canonical_url"]).stem: row
        for row in _rows(db, "SELECT canonical_url, language, title, text FROM articles")
    }
    languages = {name: row["language"] for name, row in articles.items()}
    assert languages == {
        "zh-sauytbay": "zh",
        "zh-hant-sauytbay": "zh",
        "ja-sauytbay": "ja",
        "ar-rusafa": "ar",
        "ug-sauytbay": "ug",
    }
    # Fewer than 40 space-separated words each: only counting characters keeps them.
    for name in ("zh-sauytbay", "zh-hant-sauytbay", "ja-sauytbay"):
        assert len(articles[name]["text"].split()) < 40
    # Right-to-left text is stored as written: logical order, letters and marks untouched.
    arabic = articles["ar-rusafa"]
    assert arabic["title"] == "ست نساء كازاخيات في سجن الرصافة ببغداد"
    assert "قالت الناشطة جانا عميروفا إن ست نساء كازاخيات" in arabic["text"]

    hits = {
        (Path(row["url"]).stem, row["watch_id"]): row
        for row in _rows(
            db,
            "SELECT a.canonical_url AS url, h.watch_id, h.matched FROM hits h "
            "JOIN articles a ON a.id = h.article_id",
        )
    }
    assert {key: row["matched"] for key, row in hits.items()} == {
        ("zh-sauytbay", "sayragul-sauytbay"): "萨依拉古丽·沙吾提巴依",
        ("zh-hant-sauytbay", "sayragul-sauytbay"): "薩依拉古麗・沙吾提巴依",
        ("ja-sauytbay", "sayragul-sauytbay"): "サイラグル・サウトバイ",
        ("ug-sauytbay", "sayragul-sauytbay"): "سايراگۈل ساۋۇتباي",
        ("ar-rusafa", "zhanna-umirova"): "جانا عميروفا",
        ("ar-rusafa", "rusafa-women"): "كازاخيات",  # the first span of the query: the title
    }
