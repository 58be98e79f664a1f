"""Crawl benchmark: a generated local site of 2,000 articles behind 200 feeds.

Measures, side by side in one run:
  (a) a no-change cycle over the 200 feeds (every feed answers 304): wall time;
  (b) full-pipeline pages/s (`newswatch run`: fetch, extract, match, store,
      outbox) against a bare Scrapy spider fetching the same pages with no
      processing, as a ratio.

Run: .venv/bin/python bench/crawl_bench.py [--articles 2000] [--feeds 200]
Prints a small table and writes bench/out/crawl.json.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.demo.server import serve

WORDS = [
    "court",
    "hearing",
    "lawyer",
    "activist",
    "prison",
    "sentence",
    "appeal",
    "government",
    "ministry",
    "rights",
    "human",
    "report",
    "statement",
    "journalists",
    "police",
    "detained",
    "released",
    "charges",
    "trial",
    "city",
    "region",
    "family",
    "said",
    "according",
    "officials",
    "week",
    "month",
    "year",
    "international",
    "organisation",
    "committee",
    "protest",
    "election",
    "parliament",
    "president",
    "decision",
    "case",
    "evidence",
    "witness",
    "defence",
    "prosecutor",
    "суд",
    "адвокат",
    "активист",
    "приговор",
    "заявление",
    "журналисты",
    "полиция",
    "задержан",
    "освобожден",
    "обвинение",
    "процесс",
    "город",
    "регион",
    "семья",
    "сказал",
    "неделя",
    "месяц",
    "год",
    "международный",
    "комитет",
]
GIVEN = [
    "Aigerim",
    "Dana",
    "Serik",
    "Marat",
    "Gulnara",
    "Yerlan",
    "Asel",
    "Nurlan",
    "Zhanna",
    "Bolat",
    "Madina",
    "Timur",
    "Saule",
    "Askar",
    "Dinara",
    "Ruslan",
    "Aliya",
    "Daniyar",
]
FAMILY = [
    "Tulegenova",
    "Kemirova",
    "Bekova",
    "Nurlanov",
    "Sarsenbayev",
    "Abenova",
    "Ospanov",
    "Zhaksybekova",
    "Ismailov",
    "Mukanova",
    "Tokhtarov",
    "Kassymova",
    "Seitkali",
    "Amanova",
]


def generate(root: Path, articles: int, feeds: int, seed: int = 7) -> list[str]:
    """Write the site under root; return the article paths."""
    rng = random.Random(seed)
    people = [f"{g} {f}" for g in GIVEN for f in FAMILY]
    paths = []
    (root / "a").mkdir(parents=True)
    (root / "f").mkdir()
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    for number in range(articles):
        words = [rng.choice(WORDS) for _ in range(450)]
        if number % 5 == 0:
            words.insert(rng.randrange(len(words)), rng.choice(people))
        paragraphs = "".join(
            f"<p>{' '.join(words[i : i + 75]).capitalize()}.</p>" for i in range(0, 450, 75)
        )
        title = f"Report {number}: {' '.join(rng.choice(WORDS) for _ in range(6))}"
        path = f"a/{number}.html"
        (root / path).write_text(
            f"<!doctype html><html lang=en><head><title>{title}</title>"
            '<meta property="article:published_time" '
            f'content="2026-11-{1 + number % 20:02d}T08:00:00Z">'
            f"</head><body><nav><a href='/'>Home</a> <a href='/news/'>News</a></nav>"
            f"<article><h1>{title}</h1>{paragraphs}</article>"
            f"<aside><h2>Latest news</h2><ul><li>{rng.choice(people)} in court</li></ul></aside>"
            f"<footer>Bench Herald</footer></body></html>",
            encoding="utf-8",
        )
        paths.append(path)
    per_feed = max(1, articles // feeds)
    for index in range(feeds):
        items = "".join(
            f"<item><title>Report {n}</title><link>{{{{BASE}}}}/{paths[n]}</link>"
            f"<pubDate>Sat, 21 Nov 2026 08:00:00 GMT</pubDate></item>"
            for n in range(index * per_feed, min(articles, (index + 1) * per_feed))
        )
        (root / "f" / f"{index}.xml").write_text(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {index}</title>'
            f"<link>{{{{BASE}}}}/</link>{items}</channel></rss>",
            encoding="utf-8",
        )
    return paths


def write_config(directory: Path, base: str, feeds: int) -> Path:
    lines = [
        'database = "bench.db"',
        "",
        "[crawl]",
        "autothrottle = false",
        "concurrency_per_domain = 8",
        "retries = 0",
        "",
    ]
    for index in range(feeds):
        # The bench site is local (127.0.0.1): a private address the source must allow.
        lines += ["[[source]]", f'name = "feed{index}"', f'feed = "{base}/f/{index}.xml"']
        lines += ["allow_private = true", ""]
    lines += ["[[channel]]", 'id = "log"', 'type = "console"', ""]
    for number, (given, family) in enumerate((g, f) for g in GIVEN for f in FAMILY):
        lines += ["[[watch]]", f'id = "p{number}"', f'name = "{given} {family}"', ""]
    path = directory / "newswatch.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


BARE_SPIDER = """
import json, sys, scrapy
from scrapy.crawler import CrawlerProcess

urls = json.load(open(sys.argv[1]))

class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        for url in urls:
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)
    def parse(self, response):
        return None

process = CrawlerProcess({"LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 0,
    "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False})
process.crawl(Bare)
process.start()
"""


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{argv[:4]} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        site = work / "site"
        site.mkdir()
        paths = generate(site, args.articles, args.feeds)
        server, base = serve(site)
        config = write_config(work, base, args.feeds)
        urls = [f"{base}/f/{i}.xml" for i in range(args.feeds)] + [f"{base}/{p}" for p in paths]
        (work / "urls.json").write_text(json.dumps(urls))
        (work / "bare.py").write_text(BARE_SPIDER)
        newswatch = [sys.executable, "-m", "crawler.cli", "run", "-c", str(config)]

        bare = timed([sys.executable, str(work / "bare.py"), str(work / "urls.json")])
        full = timed(newswatch)
        no_change = timed(newswatch)
        server.shutdown()
    pages = len(urls)
    result = {
        "pages": pages,
        "bare_seconds": round(bare, 2),
        "bare_pages_per_s": round(pages / bare, 1),
        "pipeline_seconds": round(full, 2),
        "pipeline_pages_per_s": round(pages / full, 1),
        "pipeline_vs_bare": round(bare / full, 2),
        "no_change_cycle_seconds": round(no_change, 2),
    }
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "crawl.json").write_text(json.dumps(result, indent=2))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
