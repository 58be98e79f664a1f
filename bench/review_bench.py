"""Review-desk benchmark: how long the queue takes to render with 10,000 hits in the database.

Builds a state file through the real store (``crawler.storage.store.save_article``:
FTS triggers included) with N hits over N articles, three articles per story,
30 watches, 70% of hits still new. Then, in one process and side by side, it
times full HTML renders through Datasette's ASGI app (no network):

  queue         /-/newswatch/                    the default view: new hits, first page
  queue_watch   /-/newswatch/?watch=w-07         one watch
  queue_deep    /-/newswatch/?page=40            a page deep in the queue
  dashboard     /-/newswatch/dashboard           90-day chart, precision, health
  search        /-/newswatch/search?q=Tulegenova full-text search
  baseline      /DB/hits?status=new              Datasette's own table page (100 rows)
  queue_sql     load_queue() on a plain sqlite3 connection: the queue's queries alone

and reports the median of the repeats and each page's ratio to the baseline.

Run: .venv/bin/python bench/review_bench.py [--hits 10000] [--repeat 15]
Prints a table and writes bench/out/review.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawl_bench import WORDS  # the crawl benchmark's vocabulary (bench/ is on sys.path)
from datasette.app import Datasette

from crawler.models import Article, Hit
from crawler.review import register
from crawler.review.queries import Filters, load_queue
from crawler.storage.store import open_database, save_article

OUT = Path(__file__).resolve().parent / "out" / "review.json"
WATCHES = [f"w-{n:02d}" for n in range(30)]


def build(path: Path, hits: int, seed: int = 7) -> float:
    """Fill ``path`` with ``hits`` hits; return the seconds it took."""
    rng = random.Random(seed)
    started = time.perf_counter()
    db = open_database(path)
    db.conn.execute("PRAGMA synchronous = OFF")  # building the fixture, not measuring it
    for n in range(hits):
        story = n // 3
        words = " ".join(rng.choice(WORDS) for _ in range(400))
        body = f"Story {story}: Aigerim Tulegenova and the court. {words}"
        url = f"https://news{n % 12}.example/{n}.html"
        day = 1 + (n * 89 // hits)
        article = Article(
            url=url,
            canonical_url=url,
            source=f"source-{n % 12}",
            title=f"Story {story}: hearing for Aigerim Tulegenova, part {n % 3}",
            text=body,
            published_at=f"2026-{8 + day // 31:02d}-{1 + day % 28:02d}T{n % 24:02d}:00:00Z",
            language=("en", "ru", "kk")[n % 3],
            # the same hash for the story's three articles: the store files them as one story
            content_hash=hashlib.sha256(f"story-{story}".encode()).hexdigest(),
        )
        hit = Hit(
            watch_id=WATCHES[n % len(WATCHES)],
            matched="Aigerim Tulegenova",
            start=0,
            end=18,
            snippet=f"… said the lawyer for Aigerim Tulegenova in story {story} …",
            confidence=0.9,
            reason="alias 'Aigerim Tulegenova'",
        )
        save_article(db, article, [hit], lambda watch: [], lambda *args: 0)
    with db.atomic():
        db.execute(
            "UPDATE hits SET status = CASE id % 10 WHEN 0 THEN 'relevant' WHEN 1 THEN "
            "'irrelevant' WHEN 2 THEN 'follow-up' ELSE status END, reviewed_by = 'bench'"
        )
    db.close()
    return time.perf_counter() - started


async def measure(path: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Median and best milliseconds per page over ``repeat`` renders (after one warm-up)."""
    register()
    datasette = Datasette([str(path)], metadata={"plugins": {"newswatch": {}}})
    client = datasette.client
    pages = {
        "queue": "/-/newswatch/",
        "queue_watch": "/-/newswatch/?watch=w-07",
        "queue_deep": "/-/newswatch/?page=40",
        "dashboard": "/-/newswatch/dashboard",
        "search": "/-/newswatch/search?q=Tulegenova",
        "baseline": f"/{path.stem}/hits?status=new",
    }
    times: dict[str, list[float]] = {name: [] for name in pages}
    for name, url in pages.items():  # warm-up: caches, templates, thread pool
        response = await client.get(url)
        assert response.status_code == 200, (name, response.status_code)
    for _ in range(repeat):
        for name, url in pages.items():  # interleaved, so drift hits every page alike
            started = time.perf_counter()
            response = await client.get(url)
            times[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    # The queue's SQL alone (no HTTP, no template), to show where the time goes.
    conn = sqlite3.connect(path)
    for _ in range(repeat + 1):
        started = time.perf_counter()
        load_queue(conn, Filters())
        times.setdefault("queue_sql", []).append((time.perf_counter() - started) * 1000)
    conn.close()
    times["queue_sql"].pop(0)  # the warm-up
    return {
        name: {"median_ms": statistics.median(values), "best_ms": min(values)}
        for name, values in times.items()
    }


def main(argv: list[str] | None = None) -> int:
    """Build the fixture, time the pages, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        build_seconds = build(path, args.hits)
        results = asyncio.run(measure(path, args.repeat))
    baseline = results["baseline"]["median_ms"]
    print(f"{args.hits} hits, {args.hits // 3} stories; fixture built in {build_seconds:.1f} s")
    print(f"{'page':<12} {'median ms':>10} {'best ms':>9} {'vs baseline':>12}")
    for name, item in results.items():
        item["vs_baseline"] = round(item["median_ms"] / baseline, 2)
        print(
            f"{name:<12} {item['median_ms']:>10.1f} {item['best_ms']:>9.1f} "
            f"{item['vs_baseline']:>11.2f}x"
        )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "hits": args.hits,
                "repeat": args.repeat,
                "pages": {
                    k: {m: round(v, 1) for m, v in item.items()} for k, item in results.items()
                },
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
