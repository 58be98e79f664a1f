"""The one clock: tests move it; a subprocess can start from another instant."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from crawler import clock
from crawler.clock import FakeClock, SystemClock, using
from crawler.storage.store import utcnow

ROOT = Path(__file__).resolve().parents[1]


def test_a_fake_clock_moves_only_when_told() -> None:
    fake = FakeClock("2026-11-16T08:00:00Z")
    with using(fake):
        assert utcnow() == "2026-11-16T08:00:00Z"
        start = clock.monotonic()
        clock.sleep(2.5)
        fake.advance(hours=6)
        assert utcnow() == "2026-11-16T14:00:02Z"
        assert clock.monotonic() - start == 6 * 3600 + 2.5
        assert fake.slept == [2.5]
    assert isinstance(clock.current(), SystemClock)  # restored after the block


def test_a_system_clock_can_start_from_another_instant() -> None:
    moved = SystemClock(datetime(2030, 1, 1, tzinfo=UTC))
    assert moved.now().year == 2030 and moved.now() >= datetime(2030, 1, 1, tzinfo=UTC)


def test_the_cli_runs_on_newswatch_now(tmp_path: Path) -> None:
    (tmp_path / "newswatch.toml").write_text('database = "nw.db"\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSWATCH_NOW": "2030-01-01T00:00:00Z"}
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "run", "-c", "newswatch.toml"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "nw.db") as db:
        started = db.execute("SELECT started_at FROM runs").fetchone()[0]
    assert started.startswith("2030-01-01T00:0")
    bad = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "run", "-c", "newswatch.toml"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**env, "NEWSWATCH_NOW": "next tuesday"},
    )
    assert bad.returncode != 0 and "NEWSWATCH_NOW: expected an ISO 8601 time" in bad.stderr
