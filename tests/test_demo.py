"""``newswatch demo`` works offline from a fresh directory and shows what a user expects."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_demo_crawls_matches_stores_and_prints_alerts(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "── alert: Dana Kemarova (dana-kemarova) ──" in out
    assert "sources 2 ok" in out and "0 failed" in out
    assert f"newswatch review -c {tmp_path / 'demo' / 'newswatch.toml'}" in out
    assert not result.stderr.strip()  # quiet: warnings only, and there are none

    with sqlite3.connect(tmp_path / "demo" / "newswatch-demo.db") as db:
        by_article = {
            url.rsplit("/", 1)[-1]: watches.split(",") if watches else []
            for url, watches in db.execute(
                "SELECT a.canonical_url, group_concat(h.watch_id) FROM articles a "
                "LEFT JOIN hits h ON h.article_id = a.id GROUP BY a.id"
            )
        }
        alerts = db.execute("SELECT count(*), count(DISTINCT idempotency_key) FROM alerts "
                            "WHERE status = 'sent'").fetchone()
    assert len(by_article) == 6
    # The activist Dana Kemirova is one letter away from the watched lawyer: only the case hits.
    assert by_article["kazakhstani-women-qasr-sahil-prison.html"] == ["qasr-sahil-women"]
    # Watched names appear there only in the sidebar and footer.
    assert by_article["civil-society-forum-ngo-rules.html"] == []
    assert by_article["regional-bus-routes-extended.html"] == []
    assert set(by_article["lawyer-kemarova-appeal-sapargali.html"]) >= {
        "dana-kemarova", "ainur-sapargali"}
    assert alerts[0] == alerts[1] == sum(len(w) for w in by_article.values())
    assert out.count("── alert:") == alerts[0]
