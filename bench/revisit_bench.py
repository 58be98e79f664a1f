"""Revisit benchmark: 2,000 due revisits answered 304, and what keeping evidence costs.

Measures, side by side in one run:
  (a) `newswatch run` over a generated site of 2,000 stored articles (behind 20
      feeds that answer 304) with every article due for a revisit, each answered
      304, against the same run with none due: wall time of both, the ratio, and
      the cost per revisit; and, as a floor, a bare Scrapy spider sending the same
      2,000 conditional GETs (same concurrency) and doing nothing with the 304s;
  (b) writing one article's raw response as a WARC record (crawler/storage/evidence.py,
      fsync included) against appending the same bytes gzipped to a file with
      fsync: ms per article, and the disk it takes (MB per 1,000 articles), for
      the generated pages (~4 KB) and for a 150 KB page (a real news page with
      its scripts and markup).

Run: .venv/bin/python bench/revisit_bench.py [--articles 2000] [--feeds 20] [--repeat 3]
Prints a small table and writes bench/out/revisit.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl_bench import FAMILY, GIVEN, generate, timed

from crawler import clock
from crawler.demo.server import serve
from crawler.models import Page
from crawler.storage import evidence


def write_config(directory: Path, base: str, feeds: int, budget: int) -> Path:
    lines = [
        'database = "bench.db"',
        "",
        "[crawl]",
        "autothrottle = false",
        "concurrency_per_domain = 8",
        "retries = 0",
        "",
        "[revisit]",
        f"budget = {budget}",
        "",
    ]
    for index in range(feeds):
        lines += [
            "[[source]]",
            f'name = "feed{index}"',
            f'feed = "{base}/f/{index}.xml"',
            "allow_private = true",
            "",
        ]
    lines += ["[[channel]]", 'id = "log"', 'type = "console"', ""]
    for number, (given, family) in enumerate((g, f) for g in GIVEN for f in FAMILY):
        lines += ["[[watch]]", f'id = "p{number}"', f'name = "{given} {family}"', ""]
    path = directory / "newswatch.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run(config: Path) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "run", "--json", "-c", str(config)],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"newswatch run failed ({result.returncode}):\n{result.stderr[-3000:]}")
    summary: dict[str, object] = json.loads(result.stdout)
    return elapsed, summary


BARE_CONDITIONAL = """
import json, sys, scrapy
from scrapy.crawler import CrawlerProcess

revisits = json.load(open(sys.argv[1]))

class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        for url, etag, modified in revisits:
            headers = {"If-None-Match": etag, "If-Modified-Since": modified}
            yield scrapy.Request(url, headers=headers, callback=self.parse, dont_filter=True,
                                 meta={"handle_httpstatus_list": [304]})
    def parse(self, response):
        assert response.status == 304
        return None

process = CrawlerProcess({"LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 0,
    "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False})
process.crawl(Bare)
process.start()
"""


def set_due(database: Path, due: bool) -> None:
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE articles SET next_revisit_at = ?", ["2000-01-01T00:00:00Z" if due else None]
        )
    conn.close()


def evidence_cost(work: Path, bodies: list[bytes], label: str) -> dict[str, float]:
    """ms per article and MB per 1,000 articles: WARC records vs plain gzip + fsync."""
    folder = work / f"evidence-{label}"
    writer = evidence.EvidenceWriter(folder / "x.db", max_file_bytes=10**12)
    pages = [
        Page(
            source="bench",
            url=f"http://bench.example/a/{n}.html",
            html="",
            status=200,
            headers=(("Content-Type", "text/html; charset=utf-8"), ("ETag", f'"{n}"')),
            body=body,
            fetched_at="2026-12-03T08:00:00Z",
        )
        for n, body in enumerate(bodies)
    ]
    with clock.using(clock.FakeClock("2026-12-03T08:00:00Z")):
        started = time.perf_counter()
        for page in pages:
            writer.write(page)
        warc_seconds = time.perf_counter() - started
    warc_bytes = sum(p.stat().st_size for p in (folder / "evidence").glob("*.warc.gz"))
    plain = folder / "plain.gz"
    started = time.perf_counter()
    with plain.open("ab") as handle:
        for body in bodies:
            handle.write(gzip.compress(body))
            handle.flush()
            os.fsync(handle.fileno())
    plain_seconds = time.perf_counter() - started
    count = len(bodies)
    return {
        f"evidence_{label}_body_kb": round(sum(map(len, bodies)) / count / 1024, 1),
        f"evidence_{label}_warc_ms_per_article": round(warc_seconds / count * 1000, 3),
        f"evidence_{label}_plain_gzip_fsync_ms_per_article": round(
            plain_seconds / count * 1000, 3
        ),
        f"evidence_{label}_warc_vs_plain": round(warc_seconds / plain_seconds, 2),
        f"evidence_{label}_warc_mb_per_1000_articles": round(warc_bytes / count * 1000 / 2**20, 2),
        f"evidence_{label}_plain_mb_per_1000_articles": round(
            plain.stat().st_size / count * 1000 / 2**20, 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        site = work / "site"
        site.mkdir()
        paths = generate(site, args.articles, args.feeds)
        server, base = serve(site)
        config = write_config(work, base, args.feeds, budget=args.articles * 2)
        database = work / "bench.db"
        first_seconds, first = run(config)
        stored = int(str(first["articles_new"]))
        none_due: list[float] = []
        all_due: list[float] = []
        revisited = 0
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            set_due(database, False)
            seconds, summary = run(config)
            assert summary["articles_revisited"] == 0, summary
            none_due.append(seconds)
            set_due(database, True)
            seconds, summary = run(config)
            revisited = int(str(summary["articles_revisited"]))
            assert summary["articles_changed"] == 0, summary
            all_due.append(seconds)
        with sqlite3.connect(database) as conn:
            statuses = dict(conn.execute("SELECT status, COUNT(*) FROM evidence GROUP BY status"))
            validators = conn.execute("SELECT url, etag, last_modified FROM articles").fetchall()
        conn.close()
        (work / "revisits.json").write_text(json.dumps(validators))
        (work / "bare.py").write_text(BARE_CONDITIONAL)
        bare = statistics.median(
            timed([sys.executable, str(work / "bare.py"), str(work / "revisits.json")])
            for _ in range(args.repeat)
        )
        bodies = [(site / path).read_bytes().replace(b"{{BASE}}", base.encode()) for path in paths]
        server.shutdown()
        none, due = statistics.median(none_due), statistics.median(all_due)
        result |= {
            "articles_stored": stored,
            "first_run_seconds": round(first_seconds, 2),
            "first_run_ms_per_article": round(first_seconds / max(stored, 1) * 1000, 2),
            "revisits_per_due_run": revisited,
            "none_due_run_seconds": round(none, 2),
            "all_due_run_seconds": round(due, 2),
            "all_due_vs_none_due": round(due / none, 2),
            "ms_per_304_revisit": round((due - none) / max(revisited, 1) * 1000, 2),
            "bare_scrapy_same_304s_seconds": round(bare, 2),
            "all_due_minus_none_due_vs_bare": round((due - none) / bare, 2),
            "evidence_records_200": statuses.get(200, 0),
            "evidence_records_304": statuses.get(304, 0),
        }
        result |= evidence_cost(work, bodies, "generated")
        filler = b"<script>var x = 1;</script><div class='ad'>" + b"x" * 80 + b"</div>\n"
        large = [body + filler * (150 * 1024 // len(filler)) for body in bodies[:300]]
        result |= evidence_cost(work, large, "150kb")
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "revisit.json").write_text(json.dumps(result, indent=2))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
