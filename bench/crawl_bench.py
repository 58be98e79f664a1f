"""Crawl benchmark: newswatch's whole pipeline against a bare Scrapy spider and news-please.

Two generated local sites, served on loopback by ``crawler/demo/server.py`` (in
threads of this process), behind RSS feeds; a watchlist of 252 people, one article
in five naming one of them in its text, and the sidebars and comments of every page
naming others (which must not be hits):

- **light**: 2,000 articles of ≈450 words, each page ≈4 KB (a nav, a sidebar, a footer);
- **heavy**: 600 articles of ≈900 words, each page 50–150 KB as news pages are: inline
  styles and scripts (an analytics snippet, a JSON state blob), JSON-LD, a menu of
  ≈150 links, a "latest news" and a "most read" block, a comment section, a footer.

Measured side by side in one run (each row the whole command, process start included):

  (a) pages/s: a bare Scrapy spider that fetches the same URLs and does nothing;
      ``newswatch run`` on an empty database (fetch, extract, match, store, outbox);
      news-please 1.6 (``NewsPlease.from_urls``: threads fetch, a process pool
      extracts) over the article URLs;
  (b) parallel efficiency: ``newswatch run`` on the heavy site with ``workers = 2``
      against ``workers = 1``;
  (c) peak memory: the largest sum of PSS (and of RSS) over the command's process tree
      (main process and its workers), sampled every 20 ms;
  (d) the no-change cycle: a second ``newswatch run`` over 200 feeds that all answer
      304, with the feeds on one host (127.0.0.1) and spread over 20 (127.0.0.2-21).

Run: .venv/bin/python bench/crawl_bench.py [--articles 2000] [--heavy 600] [--feeds 200]
Prints a table and writes bench/out/crawl.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.demo.server import serve


def _words(text: str) -> list[str]:
    return text.split()


WORDS = _words(
    "court hearing lawyer activist prison sentence appeal government ministry rights human "
    "report statement journalists police detained released charges trial city region family "
    "said according officials week month year international organisation committee protest "
    "election parliament president decision case evidence witness defence prosecutor "
    "суд адвокат активист приговор заявление журналисты полиция задержан освобожден "
    "обвинение процесс город регион семья сказал неделя месяц год международный комитет"
)
GIVEN = _words(
    "Aigerim Dana Serik Marat Gulnara Yerlan Asel Nurlan Zhanna Bolat Madina Timur Saule "
    "Askar Dinara Ruslan Aliya Daniyar"
)
FAMILY = _words(
    "Tulegenova Kemirova Bekova Nurlanov Sarsenbayev Abenova Ospanov Zhaksybekova "
    "Ismailov Mukanova Tokhtarov Kassymova Seitkali Amanova"
)
PEOPLE = [f"{g} {f}" for g in GIVEN for f in FAMILY]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _paragraphs(rng: random.Random, words: int, per: int, named: bool) -> list[str]:
    text = [rng.choice(WORDS) for _ in range(words)]
    if named:
        text.insert(rng.randrange(len(text)), rng.choice(PEOPLE))
    return [" ".join(text[i : i + per]).capitalize() + "." for i in range(0, words, per)]


def light_page(rng: random.Random, number: int) -> str:
    """≈4 KB: the article, a nav, a "latest news" aside naming someone, a footer."""
    title = f"Report {number}: {_sentence(rng, 6)[:-1]}"
    body = "".join(f"<p>{p}</p>" for p in _paragraphs(rng, 450, 75, number % 5 == 0))
    return (
        f"<!doctype html><html lang=en><head><title>{title}</title>"
        '<meta property="article:published_time" '
        f'content="2026-11-{1 + number % 20:02d}T08:00:00Z">'
        f"</head><body><nav><a href='/'>Home</a> <a href='/news/'>News</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        f"<aside><h2>Latest news</h2><ul><li>{rng.choice(PEOPLE)} in court</li></ul></aside>"
        f"<footer>Bench Herald</footer></body></html>"
    )


def _links(rng: random.Random, count: int, words: int = 3) -> str:
    return "".join(
        f'<li><a href="/news/{rng.randrange(10**6)}.html">{_sentence(rng, words)[:-1]}</a></li>'
        for _ in range(count)
    )


def _css(rng: random.Random, rules: int) -> str:
    return "".join(
        f".c{rng.randrange(10**5)} .item-{i}>a:hover{{color:#{rng.randrange(16**6):06x};"
        f"margin:{rng.randrange(40)}px {rng.randrange(40)}px;font:14px/1.4 Georgia,serif}}\n"
        for i in range(rules)
    )


def _script(rng: random.Random, entries: int) -> str:
    state = {
        "page": {"section": "news", "tags": [rng.choice(WORDS) for _ in range(8)]},
        "teasers": [
            {"id": rng.randrange(10**7), "title": _sentence(rng, 8), "person": rng.choice(PEOPLE),
             "url": f"/news/{rng.randrange(10**6)}.html", "summary": _sentence(rng, 25)}
            for _ in range(entries)
        ],
    }
    return (
        "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
        "gtag('js',new Date());gtag('config','G-BENCH');"
        f"window.__STATE__={json.dumps(state, ensure_ascii=False)};"
    )


def heavy_page(rng: random.Random, number: int) -> str:
    """50-150 KB, as news pages are: most of the weight is not the article."""
    title = f"Report {number}: {_sentence(rng, 7)[:-1]}"
    paragraphs = _paragraphs(rng, 900, 60, number % 5 == 0)
    paragraphs.insert(6, f'Read also: <a href="/news/{number + 1}.html">{_sentence(rng, 8)}</a>')
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    json_ld = json.dumps({
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
        "datePublished": f"2026-11-{1 + number % 20:02d}T08:00:00Z",
        "publisher": {"@type": "Organization", "name": "Bench Herald"},
    })
    weight = rng.randrange(0, 5)  # scripts and comments make pages 50-150 KB
    comments = "".join(
        f'<li class="comment"><span class="author">{rng.choice(PEOPLE)}</span>'
        f"<p>{_sentence(rng, rng.randrange(10, 60))}</p></li>"
        for _ in range(10 + 12 * weight)
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | '
        f"Bench Herald</title>"
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta property="og:type" content="article"><meta property="og:title" content="{title}">'
        f'<meta property="og:site_name" content="Bench Herald">'
        f'<link rel="canonical" href="{{{{BASE}}}}/a/{number}.html">'
        f'<script type="application/ld+json">{json_ld}</script>'
        f"<style>{_css(rng, 120 + 40 * weight)}</style>"
        f"<script>{_script(rng, 20 + 15 * weight)}</script>"
        f"</head><body>"
        f'<header class="site-header"><nav class="menu"><ul>{_links(rng, 150, 2)}</ul></nav>'
        f"</header>"
        f'<main><article><h1>{title}</h1><div class="byline">By {rng.choice(PEOPLE)}</div>'
        f'<div itemprop="articleBody">{body}</div></article>'
        f'<section class="comments"><h2>Comments</h2><ul>{comments}</ul></section></main>'
        f'<aside class="sidebar"><div class="latest-news"><h3>Latest news</h3>'
        f"<ul>{_links(rng, 20, 8)}</ul></div>"
        f'<div class="most-read"><h3>Most read</h3><ul>{_links(rng, 10, 8)}</ul></div></aside>'
        f'<footer><ul>{_links(rng, 60, 2)}</ul><p>© Bench Herald</p></footer>'
        f"<script>{_script(rng, 10 + 10 * weight)}</script>"
        f"</body></html>"
    )


def generate(root: Path, articles: int, feeds: int, heavy: bool, seed: int = 7) -> list[str]:
    """Write a site under root (robots.txt, a/N.html, f/N.xml); return the article paths."""
    rng = random.Random(seed)
    paths = []
    (root / "a").mkdir(parents=True)
    (root / "f").mkdir()
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    page = heavy_page if heavy else light_page
    for number in range(articles):
        path = f"a/{number}.html"
        (root / path).write_text(page(rng, number), encoding="utf-8")
        paths.append(path)
    per_feed = max(1, -(-articles // feeds))
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


def write_config(
    directory: Path, feed_urls: list[str], workers: int = 0, autothrottle: bool = False
) -> Path:
    """A config over these feeds. AutoThrottle is off where pages/s are compared (the bare
    spider runs without it) and on, as by default, for the no-change cycle."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        'database = "bench.db"',
        "",
        "[crawl]",
        f"autothrottle = {str(autothrottle).lower()}",
        "concurrency_per_domain = 8",
        "retries = 0",
        f"workers = {workers}",
        "",
    ]
    for index, url in enumerate(feed_urls):
        # The bench sites are local (loopback): private addresses the sources must allow.
        lines += ["[[source]]", f'name = "feed{index}"', f'feed = "{url}"']
        lines += ["allow_private = true", ""]
    lines += ["[[channel]]", 'id = "log"', 'type = "console"', ""]
    for number, person in enumerate(PEOPLE):
        lines += ["[[watch]]", f'id = "p{number}"', f'name = "{person}"', 'channels = ["log"]', ""]
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

NEWS_PLEASE = """
import json, sys
from newsplease import NewsPlease

urls = json.load(open(sys.argv[1]))
found = 0
for start in range(0, len(urls), 500):
    # request_args must be given: from_urls reads its "timeout" (news-please 1.6.16 fails
    # every URL with {} otherwise).
    articles = NewsPlease.from_urls(
        urls[start:start + 500], request_args={"timeout": 30}, fetch_images=False
    )
    found += sum(1 for a in articles.values() if getattr(a, "maintext", None))
print(found)
"""


def _tree_memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process and all its descendants, in KB. Forked workers share pages
    with their parent: RSS counts a shared page in each, PSS splits it between them."""
    rss = pss = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
        except (OSError, ValueError):
            continue
    return rss, pss


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run a command; return (seconds, peak MB of its process tree (PSS), stdout); the peak
    RSS sum goes to ``PEAK_RSS_MB``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )
    peak = peak_rss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_rss
        while not done.wait(0.02):
            rss, pss = _tree_memory_kb(process.pid)
            peak, peak_rss = max(peak, pss), max(peak_rss, rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{argv[:4]} failed ({process.returncode}):\n{err[-3000:]}")
    PEAK_RSS_MB[0] = peak_rss / 1024
    return elapsed, peak / 1024, out


PEAK_RSS_MB = [0.0]  # of the last command timed


def newswatch(config: Path) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", "run", "-c", str(config)]


def site_run(work: Path, name: str, articles: int, feeds: int, heavy: bool,
             workers: tuple[int, ...], news_please: bool) -> dict[str, Any]:
    """Bare Scrapy, newswatch (per pool size) and news-please over one generated site."""
    site = work / name
    site.mkdir()
    paths = generate(site, articles, feeds, heavy)
    server, base = serve(site)
    try:
        feed_urls = [f"{base}/f/{i}.xml" for i in range(feeds)]
        article_urls = [f"{base}/{p}" for p in paths]
        urls = feed_urls + article_urls
        (work / f"{name}-urls.json").write_text(json.dumps(urls))
        (work / f"{name}-articles.json").write_text(json.dumps(article_urls))
        pages = len(urls)
        sizes = [(site / p).stat().st_size for p in paths]
        result: dict[str, Any] = {
            "pages": pages,
            "page_kb_mean": round(sum(sizes) / len(sizes) / 1024, 1),
            "page_kb_min": round(min(sizes) / 1024, 1),
            "page_kb_max": round(max(sizes) / 1024, 1),
        }
        bare, bare_mb, _ = timed([sys.executable, str(work / "bare.py"),
                                  str(work / f"{name}-urls.json")])
        result["bare_pages_per_s"] = round(pages / bare, 1)
        result["bare_peak_pss_mb"] = round(bare_mb)
        for count in workers:
            config = write_config(work / f"{name}-w{count}", feed_urls, count)
            seconds, peak_mb, _ = timed(newswatch(config))
            stored = _count(config.parent / "bench.db")
            result[f"newswatch_w{count}_pages_per_s"] = round(pages / seconds, 1)
            result[f"newswatch_w{count}_vs_bare"] = round(bare / seconds, 2)
            result[f"newswatch_w{count}_peak_pss_mb"] = round(peak_mb)
            result[f"newswatch_w{count}_peak_rss_sum_mb"] = round(PEAK_RSS_MB[0])
            result[f"newswatch_w{count}_articles"] = stored
        if news_please:
            seconds, peak_mb, out = timed([sys.executable, str(work / "newsplease_run.py"),
                                           str(work / f"{name}-articles.json")])
            result["newsplease_pages_per_s"] = round(len(article_urls) / seconds, 1)
            result["newsplease_peak_pss_mb"] = round(peak_mb)
            result["newsplease_peak_rss_sum_mb"] = round(PEAK_RSS_MB[0])
            result["newsplease_articles"] = int(out.strip().splitlines()[-1])
    finally:
        server.shutdown()
        server.server_close()
    return result


def _count(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])


def no_change(work: Path, feeds: int, hosts: int) -> dict[str, Any]:
    """A first run stores what 200 feeds link, the second finds every feed unchanged (304)."""
    site = work / f"nochange-{hosts}"
    site.mkdir()
    generate(site, feeds, feeds, heavy=False)  # one article per feed
    servers = [serve(site, host=f"127.0.0.{2 + i}" if hosts > 1 else "127.0.0.1")
               for i in range(hosts)]
    try:
        feed_urls = [f"{servers[i % hosts][1]}/f/{i}.xml" for i in range(feeds)]
        config = write_config(work / f"nochange-{hosts}-run", feed_urls, autothrottle=True)
        first, _, _ = timed(newswatch(config))
        seconds, peak_mb, out = timed([*newswatch(config), "--json"])
        summary = json.loads(out)
        if summary["sources_not_modified"] != feeds:
            raise SystemExit(f"no-change run: {summary['sources_not_modified']} of {feeds} 304s")
    finally:
        for server, _ in servers:
            server.shutdown()
            server.server_close()
    return {"first_seconds": round(first, 2), "seconds": round(seconds, 2),
            "peak_pss_mb": round(peak_mb)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000, help="light articles")
    parser.add_argument("--heavy", type=int, default=600, help="heavy articles")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--no-news-please", action="store_true")
    parser.add_argument("--only", choices=("light", "heavy", "nochange"), action="append")
    args = parser.parse_args()
    only = set(args.only or ("light", "heavy", "nochange"))
    news_please = not args.no_news_please
    if news_please:
        try:
            import newsplease  # noqa: F401
        except ImportError:
            print("news-please is not installed (pip install -e '.[bench]'); skipping it")
            news_please = False
    results: dict[str, Any] = {"cores": len(os.sched_getaffinity(0))}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bare.py").write_text(BARE_SPIDER)
        (work / "newsplease_run.py").write_text(NEWS_PLEASE)
        if "light" in only:
            results["light"] = site_run(work, "light", args.articles, args.feeds, False,
                                        (0,), news_please)
        if "heavy" in only:
            feeds = max(1, args.heavy // 10)
            results["heavy"] = site_run(work, "heavy", args.heavy, feeds, True, (2, 1),
                                        news_please)
            heavy = results["heavy"]
            heavy["pool_2_vs_1"] = round(
                heavy["newswatch_w2_pages_per_s"] / heavy["newswatch_w1_pages_per_s"], 2)
        if "nochange" in only:
            results["no_change_1_host"] = no_change(work, args.feeds, 1)
            results["no_change_20_hosts"] = no_change(work, args.feeds, 20)
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "crawl.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
