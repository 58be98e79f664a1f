"""Telegram benchmark: what reading public channels costs, per run and per channel.

Invented channels of 60 posts each (20 a page, as t.me shows them) are served by the test
server (tests/server.py, which logs every request) on loopback. For each number of
channels it runs ``newswatch run`` three times on a fresh database:

  first  the channels' first read (max_articles = 200: every post, three pages each);
  idle   nothing new: what an idle channel costs, in requests and wall time;
  new    five new posts per channel (on the newest page).

and, side by side, the baseline: as many RSS feeds, every one answering 304 in the idle
run. Both with ``telegram_delay`` at its default (1 s, the polite setting) and at 0 (the
cost of the work itself). Requests are counted per channel from the server's log.

Run: .venv/bin/python bench/telegram_bench.py [--channels 1 10 30] [--delays 1 0]
Prints a table and writes bench/out/telegram.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import serve_web  # noqa: E402
from tests.telegram_pages import TgPost, write_channel  # noqa: E402

POSTS = 60
PER_PAGE = 20
NOW = "2026-11-20T12:00:00Z"

WATCHLIST = """
[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
aliases = ["Айгерим Тулегенова"]
"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Feed {n}</title><link>{{{{BASE}}}}/</link>
<description>An idle feed</description>
<item><title>Old news {n}</title><link>{{{{BASE}}}}/feeds/old-{n}.html</link>
<pubDate>Mon, 16 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>
"""


def channel_posts(n: int, count: int) -> list[TgPost]:
    texts = (
        "Суд над Айгерим Тулегеновой отложен, заседание {k} канала {n} перенесли.",
        "Day {k} on channel {n}: supporters of Aigerim Tulegenova outside the court.",
        "Digest {k} of channel {n}: water tariffs and the city budget.",
    )
    return [
        TgPost(k, texts[k % 3].format(k=k, n=n), when=f"2026-11-19T{k % 24:02d}:00:00+00:00")
        for k in range(1, count + 1)
    ]


def config_text(base: str, channels: int, delay: float, feeds: bool) -> str:
    lines = [
        'database = "nw.db"',
        'watchlist = ["watchlist.toml"]',
        "[alerts]\nbackfill_hours = 0",
        f'[crawl]\nautothrottle = false\ntelegram_base = "{base}"\ntelegram_delay = {delay}',
    ]
    for n in range(channels):
        if feeds:
            lines.append(f'[[source]]\nname = "feed{n}"\nfeed = "{base}/feeds/f{n}.xml"')
        else:
            lines.append(f'[[source]]\ntelegram = "channel_{n:03d}"')
        lines.append("allow_private = true")
    return "\n".join(lines) + "\n"


def run(config: Path) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "run", "--json", "-c", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, "NEWSWATCH_NOW": NOW},
        timeout=3600,
    )
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise RuntimeError(result.stderr[-2000:])
    return elapsed, json.loads(result.stdout)


def measure(channels: int, delay: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        root = folder / "web"
        (root / "feeds").mkdir(parents=True)
        for n in range(channels):
            write_channel(root, f"channel_{n:03d}", channel_posts(n, POSTS), per_page=PER_PAGE)
            (root / "feeds" / f"f{n}.xml").write_text(FEED.format(n=n), encoding="utf-8")
        (folder / "tg").mkdir()
        (folder / "rss").mkdir()
        result: dict[str, Any] = {"channels": channels, "delay": delay}
        with serve_web(root) as web:
            for kind in ("tg", "rss"):
                (folder / kind / "watchlist.toml").write_text(WATCHLIST, encoding="utf-8")
                config = folder / kind / "newswatch.toml"
                config.write_text(
                    config_text(web.url, channels, delay, feeds=kind == "rss"), encoding="utf-8"
                )
                steps = ("first", "idle", "new") if kind == "tg" else ("first", "idle")
                for step in steps:
                    if step == "new":
                        for n in range(channels):
                            write_channel(
                                root, f"channel_{n:03d}", channel_posts(n, POSTS + 5), PER_PAGE
                            )
                    web.reset()
                    seconds, summary = run(config)
                    paths = Counter(
                        "robots" if e["path"] == "/robots.txt" else "page"
                        for e in web.log()
                        if e["path"].startswith(("/s/", "/feeds/", "/robots.txt"))
                    )
                    result[f"{kind}_{step}"] = {
                        "seconds": round(seconds, 2),
                        "requests_per_source": round(paths["page"] / channels, 2),
                        "robots_requests": paths["robots"],
                        "articles_new": summary["articles_new"],
                    }
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, nargs="+", default=[1, 10, 30])
    parser.add_argument("--delays", type=float, nargs="+", default=[1.0, 0.0])
    args = parser.parse_args()
    results = [measure(n, d) for d in args.delays for n in args.channels]
    header = (
        f"{'channels':>8} {'delay':>5} | {'first s':>7} {'req/ch':>6} | {'idle s':>6} "
        f"{'req/ch':>6} | {'new s':>6} {'req/ch':>6} | {'feeds idle s':>12} | {'idle/feeds':>10}"
    )
    print(header)
    for r in results:
        first, idle, new, feeds = r["tg_first"], r["tg_idle"], r["tg_new"], r["rss_idle"]
        print(
            f"{r['channels']:>8} {r['delay']:>5g} | {first['seconds']:>7.2f} "
            f"{first['requests_per_source']:>6g} | {idle['seconds']:>6.2f} "
            f"{idle['requests_per_source']:>6g} | {new['seconds']:>6.2f} "
            f"{new['requests_per_source']:>6g} | {feeds['seconds']:>12.2f} | "
            f"{idle['seconds'] / feeds['seconds']:>9.2f}x"
        )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "telegram.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
