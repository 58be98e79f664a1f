"""Distributed-mode benchmark: 1 and 2 crawl workers with one ingest, against a plain run.

On a generated local site (bench/crawl_bench.py's: articles behind feeds, one in five
naming a watched person), side by side in one run, each on a fresh database:
  - `newswatch run`: wall time, pages/s (the baseline);
  - the ingest alone: the pages analysed in this process as a worker would (untimed),
    pushed to Redis, then taken and stored as a cycle does: CPU (process time) and wall
    time per article;
  - one `newswatch ingest` cycle with 1, then 2 `newswatch crawl` workers on a local
    redis-server: wall time and pages/s of the cycle; the ingest process's CPU time per
    stored article, less the CPU of an idle cycle (every feed 304) so process start,
    imports and seeding are not counted; and the queue wait, sampled every 0.2 s:
    items waiting for the ingest and requests waiting for a worker (mean and max).
From the ingest's CPU per article follows how many workers one ingest can serve.

Run: .venv/bin/python bench/distributed_bench.py [--articles 600] [--feeds 60]
Prints a small table and writes bench/out/distributed.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import redis
from crawl_bench import generate, write_config

from crawler.demo.server import serve
from crawler.distributed.keys import ITEMS_KEY, SPIDERS, WORKER_KEY, queue_key

CLI = [sys.executable, "-m", "crawler.cli"]


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Wall seconds and CPU seconds of one command (run to its end), and its stdout."""
    cpu, started = child_cpu(), time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{argv} exited {done.returncode}: {done.stderr[-2000:]}")
    return wall, child_cpu() - cpu, done.stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sampler(threading.Thread):
    """Samples the items waiting for the ingest and the requests waiting for a worker."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.server = redis.Redis.from_url(url)
        self.items: list[int] = []
        self.requests: list[int] = []
        self.running = True

    def run(self) -> None:
        while self.running:
            pipe = self.server.pipeline(transaction=False)
            pipe.llen(ITEMS_KEY)
            for spider in SPIDERS:
                pipe.xlen(queue_key(spider))
            items, *queued = pipe.execute()
            self.items.append(int(items))
            self.requests.append(sum(int(n) for n in queued))
            time.sleep(0.2)

    def summary(self) -> dict[str, float]:
        def mean(values: list[int]) -> float:
            return sum(values) / len(values) if values else 0.0

        return {
            "items_waiting_mean": round(mean(self.items), 1),
            "items_waiting_max": max(self.items, default=0),
            "requests_queued_mean": round(mean(self.requests), 1),
            "requests_queued_max": max(self.requests, default=0),
        }


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A redis-server of its own, without persistence; yields its URL."""
    port = free_port()
    directory.mkdir()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def distributed(config: Path, workers: int, articles: int, url: str) -> dict[str, Any]:
    """One full cycle and one idle cycle of the ingest with ``workers`` crawl workers."""
    client = redis.Redis.from_url(url)
    env = {**os.environ, "NEWSWATCH_REDIS_URL": url}
    crawlers = [
        subprocess.Popen([*CLI, "crawl", "-c", str(config)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        while len(list(client.scan_iter(match=WORKER_KEY % {"worker": "*"}))) < 3 * workers:
            time.sleep(0.1)  # every spider of every worker is live
        sampler = Sampler(url)
        sampler.start()
        ingest = [*CLI, "ingest", "-c", str(config), "--redis", url, "--wait", "900"]
        os.environ["NEWSWATCH_REDIS_URL"] = url
        wall, cpu, line = timed(ingest)
        sampler.running = False
        sampler.join()
        _, idle_cpu, _ = timed(ingest)
    finally:
        for process in crawlers:
            process.terminate()
        for process in crawlers:
            process.wait(timeout=60)
    settle = 2.0  # the ingest waits this long to be sure the crawl has drained
    return {
        "workers": workers,
        "wall_s": round(wall, 2),
        "pages_per_s": round(articles / (wall - settle), 1),
        "ingest_cpu_s": round(cpu, 2),
        "idle_cycle_cpu_s": round(idle_cpu, 2),
        "ingest_ms_per_article": round(1000 * (cpu - idle_cpu) / articles, 2),
        "summary": line,
        **sampler.summary(),
    }


def ingest_alone(config: Path, site: Path, base: str, url: str) -> dict[str, float]:
    """The ingest's CPU per article on its own: the site's pages analysed here as a worker
    would (untimed), pushed to Redis, then taken and stored as a cycle does (timed with
    process time, so other load on the machine counts little)."""
    from functools import partial

    from alerts.outbox import enqueue
    from crawler.config import load_config
    from crawler.distributed.consumer import Consumer
    from crawler.distributed.items import analyse, encode_item
    from crawler.matching.matcher import Matcher
    from crawler.models import Page
    from crawler.run.analysis import Analyser
    from crawler.run.health import SourceHealth
    from crawler.run.ingest import Ingest
    from crawler.storage.store import open_database

    loaded = load_config(config, need_secrets=False)
    matcher = Matcher.compile(loaded.watches)
    analyser = Analyser(matcher, loaded.watches)
    server = redis.Redis.from_url(url)
    server.flushdb()
    pages = sorted((site / "a").glob("*.html"))
    items = []
    for path in pages:
        html = path.read_text(encoding="utf-8")
        page = Page(source="feed0", url=f"{base}/a/{path.name}", html=html,
                    fetched_at="2026-11-21T08:00:00Z", body=html.encode(),
                    headers=(("Content-Type", "text/html"),))
        items.append(encode_item(analyse(analyser, page)))
    server.rpush(ITEMS_KEY, *items)
    db = open_database(loaded.database)
    ingest = Ingest(loaded, db, matcher, partial(enqueue, backfill_hours=0))
    consumer = Consumer(server, loaded, ingest, SourceHealth(loaded.sources))
    started_cpu, started = time.process_time(), time.perf_counter()
    while batch := consumer.take():
        consumer.handle(batch)
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    db.close()
    return {
        "articles": ingest.counts["articles_new"],
        "cpu_ms_per_article": round(1000 * cpu / len(pages), 2),
        "wall_ms_per_article": round(1000 * wall / len(pages), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--feeds", type=int, default=60)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server not installed: apt-get install redis-server")
    with tempfile.TemporaryDirectory() as temp:
        scratch = Path(temp)
        site = scratch / "site"
        generate(site, args.articles, args.feeds)
        server, base = serve(site)
        results: dict[str, Any] = {"articles": args.articles, "feeds": args.feeds}
        try:
            plain_dir = scratch / "plain"
            plain_dir.mkdir()
            config = write_config(plain_dir, base, args.feeds)
            wall, cpu, line = timed([*CLI, "run", "-c", str(config)])
            results["plain"] = {
                "wall_s": round(wall, 2),
                "pages_per_s": round(args.articles / wall, 1),
                "cpu_s": round(cpu, 2),
                "summary": line,
            }
            alone = scratch / "alone"
            alone.mkdir()
            with redis_server(scratch / "redis-alone") as url:
                config = write_config(alone, base, args.feeds)
                results["ingest_alone"] = ingest_alone(config, site, base, url)
            for workers in (1, 2):
                directory = scratch / f"dist{workers}"
                directory.mkdir()
                config = write_config(directory, base, args.feeds)
                with redis_server(scratch / f"redis{workers}") as url:
                    results[f"workers_{workers}"] = distributed(
                        config, workers, args.articles, url
                    )
        finally:
            server.shutdown()
    plain = results["plain"]["pages_per_s"]
    print(f"{'mode':<12}{'wall s':>8}{'pages/s':>9}{'vs plain':>10}{'ingest ms/art':>15}"
          f"{'items wait mean/max':>21}{'requests queued mean/max':>26}")
    print(f"{'plain run':<12}{results['plain']['wall_s']:>8}{plain:>9}{'1.00x':>10}")
    for workers in (1, 2):
        row = results[f"workers_{workers}"]
        print(
            f"{f'{workers} worker(s)':<12}{row['wall_s']:>8}{row['pages_per_s']:>9}"
            f"{row['pages_per_s'] / plain:>9.2f}x{row['ingest_ms_per_article']:>15}"
            f"{row['items_waiting_mean']:>13}/{row['items_waiting_max']:<7}"
            f"{row['requests_queued_mean']:>18}/{row['requests_queued_max']:<7}"
        )
    alone = results["ingest_alone"]
    print(
        f"ingest alone: {alone['cpu_ms_per_article']} ms CPU per article "
        f"({alone['wall_ms_per_article']} ms wall, {alone['articles']} articles stored)"
    )
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "distributed.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
