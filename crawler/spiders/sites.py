"""SiteSpider: finds article links through sitemaps, section pages and follow rules."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import scrapy
from lxml import etree
from scrapy.http import Response
from scrapy.utils.gz import gunzip

from ..config import Source
from ..extract import extract_links
from ..urls import same_site
from .base import NewswatchSpider

log = logging.getLogger(__name__)

MAX_SITEMAP_DEPTH = 3


def parse_sitemap(body: bytes) -> tuple[str, list[dict[str, str]]]:
    """Read a sitemap or sitemap index: its type and, per entry, loc / lastmod / news fields.

    Google News entries carry ``news:publication_date`` and ``news:title``; they
    come back as ``published`` and ``title``. Entities are never resolved.
    """
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body)
    kind = ""
    entries: list[dict[str, str]] = []
    parser = etree.iterparse(
        BytesIO(body),
        events=("start", "end"),
        recover=True,
        resolve_entities=False,
        remove_comments=True,
        no_network=True,
        huge_tree=False,
    )
    current: dict[str, str] | None = None
    try:
        for event, element in parser:
            tag = etree.QName(element).localname if isinstance(element.tag, str) else ""
            if event == "start":
                if not kind:
                    kind = tag
                if tag in ("url", "sitemap"):
                    current = {}
                continue
            if current is None:
                continue
            text = (element.text or "").strip()
            if tag == "loc" and "loc" not in current:
                current["loc"] = text
            elif tag == "lastmod":
                current["lastmod"] = text
            elif tag == "publication_date":
                current["published"] = text
            elif tag == "title":
                current["title"] = text
            elif tag in ("url", "sitemap"):
                if current.get("loc"):
                    entries.append(current)
                current = None
                element.clear()
    except etree.XMLSyntaxError:
        pass  # recover=True already kept what parsed
    return kind, entries


def _join(response: Response, loc: str) -> str:
    """``loc`` made absolute; a malformed one as it is (``link_request`` refuses it)."""
    try:
        return response.urljoin(loc)
    except ValueError:
        return loc


class SiteSpider(NewswatchSpider):
    """Crawls site sources: sitemaps first, then section pages, following only article links."""

    name = "sites"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rules = {
            source.name: [re.compile(pattern) for pattern in source.follow]
            for source in self.sources
        }

    def entry_requests(self, source: Source) -> Iterator[scrapy.Request]:
        """Every sitemap and section of the source, or its home page when none is set."""
        entries = [(url, self.parse_sitemap_response) for url in source.sitemaps]
        entries += [(url, self.parse_section) for url in source.sections]
        if not entries:
            entries = [(source.site, self.parse_section)]
        for url, callback in entries:
            yield scrapy.Request(
                url,
                callback=callback,
                errback=self.entry_failed,
                dont_filter=True,
                meta={"source": source.name, "entry": True, "depth_sitemap": 0},
            )

    def _source(self, response: Response) -> Source:
        name = response.meta["source"]
        return next(source for source in self.sources if source.name == name)

    def is_article_link(self, source: Source, url: str) -> bool:
        """Same site as the source, and matching a follow rule when the source has any."""
        if not same_site(url, source.site):
            return False
        rules = self.rules[source.name]
        if rules:
            return any(rule.search(url) for rule in rules)
        return True

    def final_url_problem(self, source: str, url: str) -> str:
        """An article that redirected off the site, or to a URL the follow rules reject,
        is not the source's article."""
        found = next(s for s in self.sources if s.name == source)
        if self.is_article_link(found, url):
            return ""
        return f"redirected to {url}, outside the source's site or follow rules"

    def parse_sitemap_response(self, response: Response) -> Iterator[Any]:
        """Queue article links from a sitemap; follow a sitemap index a few levels down."""
        source = self._source(response)
        kind, entries = parse_sitemap(response.body)
        if kind not in ("urlset", "sitemapindex"):
            self._entry_problem(response, f"not a sitemap (root element {kind or 'none'!r})")
            return
        self._entry_ok(response)
        if kind == "sitemapindex":
            depth = response.meta.get("depth_sitemap", 0) + 1
            if depth > MAX_SITEMAP_DEPTH:
                return
            # Newest child sitemaps first: news sites keep years of monthly maps.
            entries.sort(key=lambda entry: entry.get("lastmod", ""), reverse=True)
            for entry in entries:
                request = self.link_request(
                    source.name,
                    _join(response, entry["loc"]),
                    callback=self.parse_sitemap_response,
                    errback=self.entry_failed,
                    meta={"source": source.name, "entry": True, "depth_sitemap": depth},
                )
                if request is not None:
                    yield request
            return
        entries.sort(key=lambda e: e.get("published") or e.get("lastmod", ""), reverse=True)
        for entry in entries:
            url = _join(response, entry["loc"])
            if not self.is_article_link(source, url):
                continue
            request = self.article_request(
                source,
                url,
                title=entry.get("title", ""),
                published=entry.get("published", ""),
                updated=entry.get("lastmod", ""),
            )
            if request is not None:
                yield request

    def parse_section(self, response: Response) -> Iterator[Any]:
        """Queue the article links of a section page."""
        source = self._source(response)
        if not hasattr(response, "text"):
            self._entry_problem(response, "not an HTML page")
            return
        self._entry_ok(response)
        for url in extract_links(response.text, response.url):
            if url.rstrip("/") == response.url.rstrip("/") or not self.is_article_link(source, url):
                continue
            request = self.article_request(source, url)
            if request is not None:
                yield request

    def _entry_ok(self, response: Response) -> None:
        self.health.ok(response.meta["source"])

    def _entry_problem(self, response: Response, problem: str) -> None:
        self.health.failed(response.meta["source"], response.url, problem)
