"""``newswatch demo``: the whole job, offline, on an embedded news site and watchlist."""

from __future__ import annotations

import shlex
from pathlib import Path

from crawler.config import load_config
from crawler.demo.server import serve
from crawler.run.cycle import run_cycle

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
CONFIG = HERE / "newswatch.toml"


def run_demo(directory: Path, *, verbose: int = 0, program: str = "newswatch") -> int:
    """Serve the demo site on a free local port, run one cycle on it, say what to do next.

    ``program`` is how the user started newswatch (``.venv/bin/newswatch``), so
    the command printed at the end works as it is.
    """
    directory.mkdir(parents=True, exist_ok=True)
    server, base = serve(SITE)
    try:
        config_path = directory / "newswatch.toml"
        config_path.write_text(
            CONFIG.read_text(encoding="utf-8").replace("{{BASE}}", base), encoding="utf-8"
        )
        config = load_config(config_path)
        # A demo starts from nothing, so that every run shows the same alerts.
        for suffix in ("", "-wal", "-shm"):
            Path(f"{config.database}{suffix}").unlink(missing_ok=True)
        print(f"demo site: {base}/  (Steppe Herald, an invented outlet)")
        print(f"watching {len(config.watches)} people and cases; alerts print below\n")
        summary = run_cycle(config, log_level=["WARNING", "INFO", "DEBUG"][min(verbose, 2)])
    finally:
        server.shutdown()
        server.server_close()
    print()
    print(summary.line())
    print(f"database: {config.database}")
    print("open the review desk on what was found:")
    print(
        f"  {program} review -c {shlex.quote(str(config_path))}   "
        "# then browse http://127.0.0.1:8001/-/newswatch/"
    )
    return summary.exit_code
