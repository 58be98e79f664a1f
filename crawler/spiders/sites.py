"""SiteSpider: finds article links through sitemaps, section pages and follow rules."""

from __future__ import annotations

import heapq
import logging
import re
from collections import deque
from collections.abc import Iterator
from typing import Any, Self
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.config import Source
from crawler.extraction.article import extract_links
from crawler.extraction.sitemaps import Sitemap, SitemapEntry, SitemapError, TooBig
from crawler.extraction.urls import canonicalize, same_site
from crawler.spiders.base import NewswatchSpider

log = logging.getLogger(__name__)

MAX_SITEMAP_DEPTH = 3
# Links of a sitemap considered per article the source has room for (see _article_requests).
CANDIDATES = 2


def _absolute(base: str, loc: str) -> str:
    """A sitemap loc as an absolute URL (they are meant to be absolute already); a
    malformed one as it is (``link_request`` refuses it).

    Not ``response.urljoin``: that decodes the whole, maybe gzipped, body to look for <base>.
    """
    if loc.startswith(("https://", "http://")):
        return loc
    try:
        return urljoin(base, loc)
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
        # Sitemaps that indexes listed, newest first, not yet requested; they are fetched one
        # at a time per source, and no more once the source has queued its max_articles.
        self.listed_sitemaps: dict[str, deque[tuple[str, int]]] = {
            source.name: deque() for source in self.sources
        }
        self.listed_in_flight: set[str] = set()  # sources with a listed sitemap being fetched

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """The spider, also told when the crawl goes idle (see ``listed_when_idle``)."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.listed_when_idle, signal=signals.spider_idle)
        return spider

    def entry_requests(self, source: Source) -> Iterator[scrapy.Request]:
        """Every sitemap and section of the source, or its home page when none is set."""
        self.listed_sitemaps[source.name].clear()  # a crawl worker's earlier cycle's
        self.listed_in_flight.discard(source.name)
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
        accepted = any(rule.search(url) for rule in rules) if rules else True
        if self.coverage is not None:
            self.coverage.link(source.name, url, accepted)
        return accepted

    def final_url_problem(self, source: str, url: str) -> str:
        """An article that redirected off the site, or to a URL the follow rules reject,
        is not the source's article."""
        found = next(s for s in self.sources if s.name == source)
        if self.is_article_link(found, url):
            return ""
        return f"redirected to {url}, outside the source's site or follow rules"

    def parse_sitemap_response(self, response: Response) -> Iterator[Any]:
        """Queue article links from a sitemap; follow a sitemap index a few levels down.

        The sitemap is read as a stream and only as far as the source's
        ``max_articles`` need (see ``_article_requests``); a gzipped one that
        inflates past ``max_page_bytes`` is refused, and one listing more than
        50,000 entries is read up to there. The sitemaps an index lists are
        fetched one at a time, newest first; once the source has queued its
        ``max_articles``, further sitemaps of it are neither fetched nor parsed.
        """
        source = self._source(response)
        if response.meta.get("depth_sitemap", 0):
            self.listed_in_flight.discard(source.name)
        yield from self._read_sitemap(source, response)
        yield from self._next_listed(source)

    def _read_sitemap(self, source: Source, response: Response) -> Iterator[scrapy.Request]:
        if self.articles_left(source) <= 0:
            self.crawler.stats.inc_value("newswatch/sitemaps_skipped")
            return
        maxsize = response.meta.get(
            "download_maxsize", self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
        )
        sitemap = Sitemap(response.body, maxsize)
        requests: list[scrapy.Request] = []
        try:
            kind = sitemap.kind
            if kind == "sitemapindex":
                self._list_children(source, response, sitemap)
            elif kind == "urlset":
                requests = self._article_requests(source, response, sitemap)
        except SitemapError as exc:
            self.crawler.stats.inc_value("newswatch/sitemaps_refused")
            self._entry_problem(response, str(exc))
            return
        if kind not in ("urlset", "sitemapindex"):
            self._entry_problem(response, f"not a sitemap (root element {kind or 'none'!r})")
            return
        if sitemap.truncated:
            self.crawler.stats.inc_value("newswatch/sitemaps_truncated")
            log.info(
                "sitemap %s of source %s lists more than %d entries; read the first %d",
                response.url,
                source.name,
                sitemap.max_entries,
                sitemap.max_entries,
            )
        self._entry_ok(response)
        yield from requests

    def _list_children(self, source: Source, response: Response, index: Sitemap) -> None:
        """Put the sitemaps an index lists, newest first, ahead of those listed before."""
        depth = response.meta.get("depth_sitemap", 0) + 1
        if depth > MAX_SITEMAP_DEPTH:
            return
        # Newest child sitemaps first: news sites keep years of monthly maps.
        children = sorted(index, key=lambda entry: entry.lastmod, reverse=True)
        self.listed_sitemaps[source.name].extendleft(
            (_absolute(response.url, entry.loc), depth) for entry in reversed(children)
        )

    def _next_listed(self, source: Source) -> Iterator[scrapy.Request]:
        """The request for the next listed sitemap of the source, if it is its turn: none is
        being fetched, and the source has room for more articles."""
        listed = self.listed_sitemaps[source.name]
        if not listed or source.name in self.listed_in_flight:
            return
        if self.articles_left(source) <= 0:
            self.crawler.stats.inc_value("newswatch/sitemaps_skipped", len(listed))
            listed.clear()
            return
        while listed:
            url, depth = listed.popleft()
            request = self.link_request(  # http(s) only; a malformed loc is counted, skipped
                source.name,
                url,
                callback=self.parse_sitemap_response,
                errback=self.listed_sitemap_failed,
                meta={"source": source.name, "entry": True, "depth_sitemap": depth},
            )
            if request is not None:
                self.listed_in_flight.add(source.name)
                yield request
                return

    def listed_when_idle(self) -> None:
        """On ``spider_idle``: request the next listed sitemaps that are due. (A crawl worker
        may not see the response to a listed sitemap it requested, nor does anyone see one
        the duplicate filter dropped; idle, nothing of ours is in flight.)"""
        self.listed_in_flight.clear()
        requests = [request for source in self.sources for request in self._next_listed(source)]
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider

    def _article_requests(
        self, source: Source, response: Response, sitemap: Sitemap
    ) -> list[scrapy.Request]:
        """Requests for the newest article links of a sitemap, as many as the source has room for.

        Only the newest links that match the follow rules, ``CANDIDATES`` times the
        room, are considered; those that are no article links of the source, or are
        queued or stored already, are left out (a check costs ~0.1 ms: too much for
        50,000 links in one step, every run). While the sitemap runs newest first,
        as news sitemaps do, those are its first links: once the room is filled or
        they are checked, reading stops at the next entry that is older (or at
        once, if the entries carry no dates). Once an entry is newer than the one
        before it, the order is unknown: reading goes on to the end (at most
        50,000 entries), keeping the newest.
        """
        room = self.articles_left(source)
        limit = CANDIDATES * room
        taken: list[tuple[str, int, str, SitemapEntry]] = []  # checked, in sitemap order
        newest: list[tuple[str, int, str, SitemapEntry]] = []  # a heap of unchecked, oldest on top
        newest_first, previous, checked = True, "", 0
        enough: str | None = None  # newest first, no more needed: the date of the last checked
        for position, entry in enumerate(sitemap):
            date = entry.date
            newest_first = newest_first and (position == 0 or date <= previous)
            previous = date
            if newest_first and enough is not None:
                if not enough or date < enough:
                    log.debug("sitemap %s: read %d entries", response.url, position + 1)
                    break
                continue  # as new as the last one checked, and further down: it loses
            if not newest_first and len(newest) >= limit and (date, -position) < newest[0][:2]:
                continue  # older than every link kept
            url = _absolute(response.url, entry.loc)
            if not self._follows(source, url):
                continue
            item = (date, -position, url, entry)
            if newest_first:
                checked += 1
                if self._wanted(source, url, entry.lastmod):
                    taken.append(item)
                if len(taken) >= room or checked >= limit:
                    enough = date
            elif len(newest) < limit:
                heapq.heappush(newest, item)
            elif item > newest[0]:
                heapq.heapreplace(newest, item)
        wanted = {-item[1] for item in taken}
        requests = []
        for _, minus_position, url, entry in sorted(taken + newest, reverse=True):
            if -minus_position not in wanted and not self._wanted(source, url, entry.lastmod):
                continue
            request = self.article_request(
                source, url, title=entry.title, published=entry.published, updated=entry.lastmod
            )
            if request is not None:
                requests.append(request)
                if len(requests) >= room:
                    break
        return requests

    def _follows(self, source: Source, url: str) -> bool:
        """Whether a URL matches one of the source's follow rules (or it has none)."""
        rules = self.rules[source.name]
        return not rules or any(rule.search(url) for rule in rules)

    def _wanted(self, source: Source, url: str, lastmod: str = "") -> bool:
        """An article link of the source that is neither queued in this run nor stored
        (a stored one with a ``lastmod`` is left to ``article_request``: it may have changed)."""
        if not self.is_article_link(source, url):
            return False
        if canonicalize(url) in self.queued[source.name]:
            return False
        if not lastmod and self.is_known(url):
            self.crawler.stats.inc_value("newswatch/articles_known")
            return False
        return True

    def articles_left(self, source: Source) -> int:
        """How many more articles the source may queue in this run."""
        return source.max_articles - len(self.queued[source.name])

    def entry_failed(self, failure: Failure) -> None:
        """As for any entry request, but a body that inflated past the size limit says so."""
        error = failure.value
        limit = getattr(error.__cause__, "max_size", None) if error is not None else None
        if isinstance(error, IgnoreRequest) and isinstance(limit, int):
            # HttpCompressionMiddleware refused a Content-Encoding body past DOWNLOAD_MAXSIZE.
            request = failure.request  # type: ignore[attr-defined]
            self.crawler.stats.inc_value("newswatch/inflated_too_big")
            self.health.failed(request.meta["source"], request.url, str(TooBig(limit)))
            return
        super().entry_failed(failure)

    def listed_sitemap_failed(self, failure: Failure) -> list[scrapy.Request]:
        """Errback of a sitemap an index listed: as ``entry_failed``, then the next one."""
        self.entry_failed(failure)
        name = failure.request.meta["source"]  # type: ignore[attr-defined]
        self.listed_in_flight.discard(name)
        return list(self._next_listed(next(s for s in self.sources if s.name == name)))

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

