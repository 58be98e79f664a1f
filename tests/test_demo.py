"""``newswatch demo`` works offline from a fresh directory and shows what a user expects."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


SCRIPT = Path(sys.executable).with_name("newswatch")  # the console script pip installed


@pytest.mark.skipif(not SCRIPT.exists(), reason="newswatch is not installed: pip install -e .")
def test_demo_crawls_matches_stores_and_prints_alerts(tmp_path: Path) -> None:
    # Started as a newcomer does: by a relative path to the venv's script, not on $PATH.
    program = os.path.relpath(SCRIPT, tmp_path)
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [program, "demo", "--dir", "demo"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "── alert: Dana Kemarova (dana-kemarova) ──" in out
    assert "sources 2 ok" in out and "0 failed" in out
    assert not result.stderr.strip()  # quiet: warnings only, and there are none

    # The hand-off: the printed review command works as printed (here: its check twin).
    review = next(line for line in out.splitlines() if " review -c " in line)
    command = review.split("#")[0].strip()
    assert command == f"{program} review -c demo/newswatch.toml"
    checked = subprocess.run(
        command.replace(" review ", " check ", 1), shell=True,
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
    )
    assert checked.returncode == 0, checked.stderr

    # The config the demo leaves reads well, and says its site is gone once the demo ends.
    config = (tmp_path / "demo" / "newswatch.toml").read_text(encoding="utf-8")
    assert "{{" not in config
    assert "runs only while\n# `newswatch demo` does" in config
    # A run on it after the demo: one line on why nothing can be fetched, no traceback.
    after = subprocess.run(
        [program, "run", "-c", "demo/newswatch.toml"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )
    assert after.returncode == 1
    assert len(after.stderr.strip().splitlines()) == 1, after.stderr
    assert "connection refused" in after.stderr
    assert "sources 0 ok" in after.stdout

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
