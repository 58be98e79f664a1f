"""Sitemap benchmark: one callback step over a gzipped sitemap of 1,000,000 URLs, max_articles 200.

Measures, each variant in a child process of its own, the time of the one blocking step
that reads the sitemap (``SiteSpider.parse_sitemap_response`` on a downloaded response,
no network) and the child's peak memory (``VmHWM``) and its growth over the RSS the child
had just before the step (imports and the gzipped body):

  newswatch  the streaming reader (crawler/extraction/sitemaps.py): stops at max_articles
             while the sitemap runs newest first; reads at most 50,000 entries otherwise;
  before     the same spider at the commit before the streaming reader (``--before``,
             loaded from git): inflates the whole body, lists every entry, sorts them all;
  scrapy     a plain full iteration with Scrapy's own ``gunzip`` and ``Sitemap`` (what a
             ``SitemapSpider`` does), no selection at all: the floor for reading it whole.

Two orders of the same URLs: newest first (news sitemaps; a dated <lastmod> on each),
and oldest first (the worst case for newswatch: nothing lets it stop before 50,000).

Run: .venv/bin/python bench/sitemap_bench.py [--urls 1000000] [--max-articles 200]
     [--skip-before]   (the before variant takes minutes on a million URLs)
Prints a table and writes bench/out/sitemap.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out" / "sitemap.json"
BEFORE = "ae1ee1e"  # the last commit whose SiteSpider inflated and listed a sitemap whole
SITE = "https://news.example.kz"
MAX_PAGE_BYTES = 5 * 1024 * 1024  # the default [crawl] max_page_bytes


def write_sitemap(path: Path, urls: int, newest_first: bool) -> int:
    """A gzipped urlset of ``urls`` article links, 10,000 per day; returns the gzipped size."""
    days = [(date(2026, 11, 20) - timedelta(days=n)).isoformat() for n in range(urls // 10_000 + 1)]
    order = range(urls) if newest_first else range(urls - 1, -1, -1)
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        out.write(compressor.compress(
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        ))
        chunk: list[str] = []
        for n in order:
            chunk.append(
                f"<url><loc>{SITE}/news/{n:07d}.html</loc>"
                f"<lastmod>{days[n // 10_000]}</lastmod></url>\n"
            )
            if len(chunk) == 10_000:
                out.write(compressor.compress("".join(chunk).encode()))
                chunk = []
        out.write(compressor.compress(("".join(chunk) + "</urlset>\n").encode()))
        out.write(compressor.flush())
    return path.stat().st_size


def peak_kib() -> int:
    """This process's peak resident memory so far, KiB (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def rss_kib() -> int:
    """This process's resident memory now, KiB (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def spider_class(variant: str, work: Path) -> Any:
    """SiteSpider as it is now, or as it was at ``BEFORE`` (its module loaded from git)."""
    if variant != "before":
        from crawler.spiders.sites import SiteSpider

        return SiteSpider
    source = work / "sites_before.py"
    spec = importlib.util.spec_from_file_location("crawler.spiders.sites_before", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.SiteSpider


def child(variant: str, sitemap: Path, max_articles: int, work: Path) -> dict[str, Any]:
    """Run one variant over one sitemap file in this process; return its figures."""
    import scrapy
    from scrapy.http import XmlResponse
    from scrapy.utils.gz import gunzip
    from scrapy.utils.reactor import install_reactor
    from scrapy.utils.sitemap import Sitemap as ScrapySitemap
    from scrapy.utils.test import get_crawler

    from crawler.config import CrawlSettings, Source
    from crawler.extraction.urls import canonicalize
    from crawler.run.cycle import scrapy_settings

    body = sitemap.read_bytes()
    url = f"{SITE}/sitemap.xml.gz"
    source = Source(name="big", site=f"{SITE}/", max_articles=max_articles, allow_private=True)
    # Every variant sets up the same spider, so the processes start alike.
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    settings = scrapy_settings(CrawlSettings(max_page_bytes=MAX_PAGE_BYTES))
    crawler = get_crawler(spider_class(variant, work), dict(settings))
    spider = crawler.spidercls.from_crawler(crawler, sources=(source,))
    request = scrapy.Request(url, meta={"source": "big", "entry": True, "depth_sitemap": 0})
    response = XmlResponse(url, body=body, request=request)
    spider.is_article_link(source, f"{SITE}/news/warm-up.html")  # loads the suffix list
    canonicalize(f"{SITE}/news/warm-up.html")
    before_rss, before_peak = rss_kib(), peak_kib()
    started = time.perf_counter()
    if variant == "scrapy":
        entries = sum(1 for _ in ScrapySitemap(gunzip(body)))
        requests = 0
    else:
        produced = list(spider.parse_sitemap_response(response))
        requests = len(produced)
        entries = -1
    seconds = time.perf_counter() - started
    peak = peak_kib()
    # What the step added to the process's peak (0 if it stayed under the earlier peak).
    growth = peak - before_rss if peak > before_peak else 0
    return {
        "seconds": round(seconds, 3),
        "requests": requests,
        "entries": entries,
        "peak_mb": round(peak / 1024, 1),
        "growth_mb": round(growth / 1024, 1),
    }


def run_child(variant: str, sitemap: Path, max_articles: int, work: Path) -> dict[str, Any]:
    command = [
        sys.executable, __file__, "--child", variant, "--sitemap", str(sitemap),
        "--max-articles", str(max_articles), "--work", str(work),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=False)
    if output.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{output.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=1_000_000)
    parser.add_argument("--max-articles", type=int, default=200)
    parser.add_argument("--skip-before", action="store_true")
    parser.add_argument("--before", default=BEFORE, help="git commit of the before variant")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--sitemap", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.sitemap, args.max_articles, args.work)))
        return

    variants = ["newswatch", "scrapy"] + ([] if args.skip_before else ["before"])
    report: dict[str, Any] = {"urls": args.urls, "max_articles": args.max_articles}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "before" in variants:
            old = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{args.before}:crawler/spiders/sites.py"],
                capture_output=True, text=True, check=True,
            )
            (work / "sites_before.py").write_text(old.stdout, encoding="utf-8")
        for order, newest_first in (("newest first", True), ("oldest first", False)):
            sitemap = work / f"sitemap-{order.split()[0]}.xml.gz"
            size = write_sitemap(sitemap, args.urls, newest_first)
            rows = {}
            for variant in variants:
                rows[variant] = run_child(variant, sitemap, args.max_articles, work)
                print(f"{order:>12}  {variant:<9}  {rows[variant]}", flush=True)
            report[order] = {"gzipped_bytes": size, **rows}

    print(f"\n{args.urls:,} URLs, max_articles {args.max_articles}; ratios: newswatch / baseline")
    print(f"{'order':<13} {'variant':<10} {'seconds':>8} {'ratio':>8} {'peak MB':>8} {'ratio':>6}"
          f" {'growth MB':>9} {'ratio':>6} {'requests':>8}")
    for order in ("newest first", "oldest first"):
        ours = report[order]["newswatch"]
        for variant in variants:
            row = report[order][variant]
            ratios = [
                f"{ours[key] / row[key]:.4f}x" if variant != "newswatch" and row[key] else ""
                for key in ("seconds", "peak_mb", "growth_mb")
            ]
            print(
                f"{order:<13} {variant:<10} {row['seconds']:>8.3f} {ratios[0]:>8}"
                f" {row['peak_mb']:>8.1f} {ratios[1]:>6} {row['growth_mb']:>9.1f} {ratios[2]:>6}"
                f" {row['requests']:>8}"
            )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwritten {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
