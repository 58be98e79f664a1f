"""AutoThrottle and 304s: a conditional GET answered 304 lowers a site's delay like a 200;
errors still never do. A real Scrapy crawl in a subprocess against the local test server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, WebServer

pytestmark = pytest.mark.e2e

# Scrapy with newswatch's settings (autothrottle on, as by default); prints each download
# slot's delay when the crawl ends. The private-address check is off: no sources here.
CRAWL = """
import json, sys
import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from crawler.config import CrawlSettings
from crawler.run.cycle import scrapy_settings

base, other, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
delays = {}

class Feeds(scrapy.Spider):
    name = "feeds"
    custom_settings = {"HTTPERROR_ALLOW_ALL": True}

    async def start(self):
        for n in range(count):
            # Feeds that did not change: 304 to a conditional GET.
            yield scrapy.Request(f"{base}/feeds/rss20.xml?n={n}", dont_filter=True,
                                 headers={"If-None-Match": "*"})
            # A failing host (another slot: the same server under another name).
            yield scrapy.Request(f"{other}/_fault/status/503?n={n}", dont_filter=True)

    def parse(self, response):
        return None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.closing, signals.spider_closed)
        return spider

    def closing(self, spider):
        for key, slot in self.crawler.engine.downloader.slots.items():
            delays[key] = slot.delay

settings = scrapy_settings(CrawlSettings(retries=0, obey_robots=False))
settings.set("DOWNLOADER_MIDDLEWARES", {
    "crawler.downloadermiddlewares.private.PrivateAddressMiddleware": None,
}, priority="cmdline")
process = CrawlerProcess(settings)
process.crawl(Feeds)
process.start()
print(json.dumps(delays))
"""


def test_304s_speed_a_host_up_and_errors_do_not(tmp_path: Path, web: WebServer) -> None:
    script = tmp_path / "crawl.py"
    script.write_text(CRAWL, encoding="utf-8")
    other = web.url.replace("127.0.0.1", "localhost")
    result = subprocess.run(
        [sys.executable, str(script), web.url, other, "12"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout's package
    )
    assert result.returncode == 0, result.stderr
    delays = json.loads(result.stdout.strip().splitlines()[-1])
    start = 0.25  # AUTOTHROTTLE_START_DELAY in crawler/settings.py
    # Twelve quick 304s: the delay halves towards the latency, as it would on 200s.
    assert delays["127.0.0.1"] < start / 4
    # Twelve quick 503s: AutoThrottle's own rule, never lowered on an error.
    assert delays["localhost"] >= start
    answered = [r for r in web.log("/feeds/rss20.xml") if "if-none-match" in r["headers"]]
    assert len(answered) >= 12
