"""``newswatch sources test``: crawl sources now, as a run would, and say what they would give.

The same Scrapy settings, spiders, robots.txt handling and extraction as
``newswatch run``; nothing is stored and nothing is sent (no database is
written, none needs to exist). For each source: every article it would
collect (URL, title, date, language, words of text, the ``follow`` rule that
let it in, where the link was found), the same-site links on its sitemaps and
section pages that no rule accepted (those that look most like articles
first), and the problems that would leave it blind: a failing or forbidden
entry URL, an empty feed or sitemap, no link matching ``follow``, pages
without article text. One crawl per call: Twisted's reactor does not restart.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.config import CrawlSettings, Source
from crawler.extraction.article import extract
from crawler.extraction.telegram import TELEGRAM, ChannelReader, Post, Progress, post_article
from crawler.extraction.urls import canonicalize
from crawler.models import Page
from crawler.run.coverage import Coverage, blind_reason, likely_articles
from crawler.run.health import SourceHealth
from crawler.spiders.base import NewswatchSpider, describe_failure
from crawler.spiders.feeds import FeedSpider
from crawler.spiders.sites import SiteSpider
from crawler.spiders.telegram import TelegramSpider

DEFAULT_MAX_ARTICLES = 20
UNMATCHED_SHOWN = 20


@dataclass
class Entry:
    """One entry URL of a source (feed, sitemap, section page) that answered."""

    url: str
    kind: str  # feed | sitemap | section | channel (a Telegram preview page)
    links: int = 0  # same-site links seen (sitemaps, sections) or items with a link (feeds)
    accepted: int = 0  # of those, article links offered
    children: int = 0  # child sitemaps of a sitemap index

    def describe(self) -> str:
        """``sitemap URL: index of 2 sitemaps`` / ``section URL: 9 links, 4 matched follow``."""
        if self.children:
            return f"{self.kind} {self.url}: index of {self.children} sitemaps"
        if self.kind == "feed":
            return f"feed {self.url}: {self.accepted} items with a link"
        if self.kind == "channel":
            return f"channel {self.url}: {self.accepted} posts with text"
        return f"{self.kind} {self.url}: {self.links} same-site links, {self.accepted} taken"


@dataclass
class SourceReport:
    """What one source would give a run now."""

    source: Source
    articles: list[dict[str, Any]] = field(default_factory=list)
    unmatched_links: list[str] = field(default_factory=list)
    unmatched_count: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    more_links: list[str] = field(default_factory=list)  # beyond --max-articles, not fetched
    not_articles: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if the source would collect something and nothing is broken."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` object of one source."""
        return {
            "source": self.source.name,
            "url": self.source.url,
            "articles": self.articles,
            "unmatched_links": self.unmatched_links,
            "unmatched_count": self.unmatched_count,
            "problems": self.problems,
            "notes": self.notes,
            "entries": [entry.__dict__ for entry in self.entries],
            "more_links": self.more_links,
            "not_articles": self.not_articles,
        }

    def text(self) -> str:
        """The report as lines for a person."""
        source = self.source
        kind = "feed" if source.feed else "telegram" if source.telegram else "site"
        lines = [f"source {source.name}: {kind} {source.url}"]
        lines += [f"  {entry.describe()}" for entry in self.entries]
        if self.articles:
            count = len(self.articles)
            lines.append(f"  {count} article{'s' if count != 1 else ''} it would collect:")
            for article in self.articles:
                lines.append(f"    {article['url']}")
                rule = article["rule"]
                how = f"follow '{rule}'" if rule else article["via"]
                parts = [
                    repr(article["title"] or "(no title)"),
                    article["published_at"] or "no date",
                    article["language"] or "language unknown",
                    f"{article['words']} words",
                    how,
                ]
                if article.get("stored"):
                    parts.append("already stored: a run skips it")
                lines.append("      " + " | ".join(parts))
        else:
            lines.append("  no article it would collect")
        if self.more_links:
            lines.append(
                f"  and {len(self.more_links)} more links it would fetch (not fetched here; "
                "--max-articles raises the limit)"
            )
        if self.unmatched_count:
            shown = len(self.unmatched_links)
            lines.append(
                f"  {self.unmatched_count} same-site links no follow rule took"
                + (f"; those that look like articles ({shown}):" if shown else
                   "; none of them looks like an article")
            )
            lines += [f"    {url}" for url in self.unmatched_links]
        for note in self.notes:
            lines.append(f"  note: {note}")
        if self.problems:
            lines += [f"  problem: {problem}" for problem in self.problems]
        else:
            lines.append("  problems: none")
        return "\n".join(lines)


class _Probe:
    """What the probing spiders record, shared by both."""

    def __init__(self) -> None:
        self.entries: dict[str, list[Entry]] = {}
        # canonical URL -> link, per source: links beyond its (lowered) max_articles
        self.more: dict[str, dict[str, str]] = {}
        # (source, canonical URL) -> (entry kind, entry URL) where the source linked it
        self.found_on: dict[tuple[str, str], tuple[str, str]] = {}
        self.failures: dict[str, list[tuple[str, str]]] = {}  # source -> [(article URL, reason)]
        self.pages: list[Page] = []
        self.posts: list[Post] = []


class _Probing(NewswatchSpider):
    """Records entries, links and failures (the sources' max_articles is the test's limit)."""

    probe: _Probe
    _current: Entry | None = None

    def article_request(
        self, source: Source, url: str, *, title: str = "", published: str = "", updated: str = ""
    ) -> scrapy.Request | None:
        """The run's decision; remember where the link was found and what the limit left out."""
        canonical = canonicalize(url)
        queued = self.queued[source.name]
        if self._current is not None:
            where = (self._current.kind, self._current.url)
            self.probe.found_on.setdefault((source.name, canonical), where)
        over = canonical not in queued and len(queued) >= source.max_articles
        request = super().article_request(
            source, url, title=title, published=published, updated=updated
        )
        if over:
            self.probe.more.setdefault(source.name, {}).setdefault(canonical, url)
        return request

    def article_failed(self, failure: Failure) -> None:
        """Keep the reason an article could not be fetched."""
        request = failure.request  # type: ignore[attr-defined]
        self.probe.failures.setdefault(request.meta["source"], []).append(
            (request.url, describe_failure(failure))
        )

    def counted(self, kind: str, response: Response, results: Iterable[Any]) -> Iterator[Any]:
        """Pass a callback's output on, counting what it took from ``response`` as an entry."""
        name = response.meta["source"]
        entry = Entry(response.url, kind)
        self.probe.entries.setdefault(name, []).append(entry)
        coverage = self.coverage or Coverage()
        tally = coverage.of(name)
        iterator = iter(results)
        while True:
            seen, accepted, offered = tally.seen, tally.accepted, tally.offered
            self._current = entry  # article_request runs inside next(): it sees this entry
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                self._current = None
                entry.links += tally.seen - seen
                # A feed's items (a channel's posts) are offered as they are; a page's links
                # pass follow first.
                entry.accepted += (tally.offered - offered if kind in ("feed", "channel")
                                   else tally.accepted - accepted)
            if isinstance(item, scrapy.Request) and item.meta.get("entry"):
                entry.children += 1
            yield item


class ProbeFeedSpider(_Probing, FeedSpider):
    """The run's FeedSpider, probing."""

    name = "probe-feeds"

    def parse_feed(self, response: Response) -> Any:
        """The run's parsing, counted."""
        return self.counted("feed", response, super().parse_feed(response) or ())


class ProbeSiteSpider(_Probing, SiteSpider):
    """The run's SiteSpider, probing."""

    name = "probe-sites"

    def parse_sitemap_response(self, response: Response) -> Iterator[Any]:
        """The run's sitemap parsing, counted."""
        return self.counted("sitemap", response, super().parse_sitemap_response(response))

    def parse_section(self, response: Response) -> Iterator[Any]:
        """The run's section parsing, counted."""
        return self.counted("section", response, super().parse_section(response))


class ProbeTelegramSpider(_Probing, TelegramSpider):
    """The run's TelegramSpider, probing: the posts it would store are kept, not stored, and
    how far the channel is read is not recorded."""

    name = "probe-telegram"

    def _read_page(
        self, response: Response, source: Source, reader: ChannelReader
    ) -> Iterator[Any]:
        for item in self.counted("channel", response, super()._read_page(response, source, reader)):
            if isinstance(item, Post):
                self.probe.posts.append(item)
            elif not isinstance(item, Progress):
                yield item


def rule_for(source: Source, url: str) -> str | None:
    """The first ``follow`` rule that accepts ``url`` (None for a feed or a site without rules)."""
    for pattern in source.follow:
        if re.search(pattern, url):
            return pattern
    return None


def test_sources(
    sources: Iterable[Source],
    settings: Any,
    *,
    max_articles: int = DEFAULT_MAX_ARTICLES,
    known: Callable[[str], bool] | None = None,
    telegram_base: str = TELEGRAM,
    telegram_delay: float = 1.0,
) -> list[SourceReport]:
    """Crawl ``sources`` once with the run's Scrapy ``settings``; one report per source.

    ``known(url)`` tells whether an article is already stored (a run would skip it);
    the reports mark those. A Telegram channel is read from its newest post back, as at
    its first run (``telegram_base``, ``telegram_delay``: the ``[crawl]`` keys). Runs the
    Twisted reactor: once per process.
    """
    # The run's own limit does the work: every source fetches at most max_articles.
    sources = tuple(
        dataclasses.replace(source, max_articles=min(source.max_articles, max_articles))
        for source in sources
    )
    probe = _Probe()
    coverage = Coverage()
    health = SourceHealth(sources)
    process = CrawlerProcess(settings)

    def collect(item: Any, response: Response, spider: scrapy.Spider) -> None:
        if isinstance(item, Page):
            probe.pages.append(item)

    channel_options = {"base": telegram_base, "delay": telegram_delay}
    for spider, chosen, extra in (
        (ProbeFeedSpider, tuple(s for s in sources if s.feed), {"states": {}}),
        (ProbeSiteSpider, tuple(s for s in sources if s.site), {}),
        (ProbeTelegramSpider, tuple(s for s in sources if s.telegram), channel_options),
    ):
        if not chosen:
            continue
        crawler = process.create_crawler(spider)
        crawler.signals.connect(collect, signal=signals.item_scraped)
        process.crawl(
            crawler, sources=chosen, health=health, coverage=coverage, probe=probe, **extra
        )
    if sources:
        process.start()
    return [_report(source, probe, coverage, health, known) for source in sources]


def _report(
    source: Source,
    probe: _Probe,
    coverage: Coverage,
    health: SourceHealth,
    known: Callable[[str], bool] | None,
) -> SourceReport:
    report = SourceReport(source)
    name = source.name
    report.entries = probe.entries.get(name, [])
    report.more_links = list(probe.more.get(name, {}).values())
    tally = coverage.of(name)
    report.unmatched_count = tally.unmatched_count
    report.unmatched_links = likely_articles(tally.unmatched, UNMATCHED_SHOWN)
    for post in probe.posts:
        article = post_article(post) if post.source == name else None
        if article is not None:
            report.articles.append(
                {
                    "url": article.canonical_url,
                    "title": article.title,
                    "published_at": article.published_at,
                    "language": article.language,
                    "words": len(article.text.split()),
                    "rule": None,
                    "via": f"channel {post.page_url}".strip(),
                    "link": article.canonical_url,
                    "stored": bool(known and known(article.canonical_url)),
                }
            )
    for page in probe.pages:
        link = page.requested_url or page.url
        canonical = canonicalize(link)
        # An article another source's link fetched first counts for each source that linked it.
        if page.source != name and name not in coverage.offered_by(canonical):
            continue
        article = extract(page)
        if article is None:
            report.not_articles.append(page.url)
            continue
        kind, found_on = probe.found_on.get((name, canonical), ("", ""))
        report.articles.append(
            {
                "url": article.canonical_url or page.url,
                "title": article.title,
                "published_at": article.published_at,
                "language": article.language,
                "words": len(article.text.split()),
                "rule": rule_for(source, link) if source.site else None,
                "via": f"{kind} {found_on}".strip() or ("feed" if source.feed else "site"),
                "link": link,
                "stored": bool(known and (known(page.url) or known(article.canonical_url))),
            }
        )
    outcome = health.outcomes[name]
    kinds = dict.fromkeys(source.sitemaps, "sitemap") | dict.fromkeys(source.sections, "section")
    for url, reason in outcome.failures:
        kind = "feed" if source.feed else "channel" if source.telegram else kinds.get(url, "page")
        report.problems.append(f"{kind} {url}: {reason}")
    answered = bool(report.entries)
    if not answered and not outcome.failures:
        report.problems.append(f"{source.url}: no answer (the crawl stopped early?)")
    if answered and not tally.offered:
        report.problems.append(blind_reason(source, tally))
    for entry in report.entries:
        if entry.kind == "sitemap" and not entry.links and not entry.children:
            empty = f"sitemap {entry.url} lists no URL"
            (report.problems if not tally.offered else report.notes).append(empty)
    failures = probe.failures.get(name, [])
    robots = [url for url, reason in failures if reason == "forbidden by robots.txt"]
    if robots:
        report.notes.append(
            f"robots.txt forbids {len(robots)} article link{'s' if len(robots) != 1 else ''}, "
            f"e.g. {robots[0]}"
        )
    others = [(url, reason) for url, reason in failures if reason != "forbidden by robots.txt"]
    if others:
        url, reason = others[0]
        report.notes.append(
            f"{len(others)} article link{'s' if len(others) != 1 else ''} failed, "
            f"e.g. {url}: {reason}"
        )
    if report.not_articles:
        count = len(report.not_articles)
        report.notes.append(
            f"{count} page{'s' if count != 1 else ''} fetched had no article text (a list "
            f"or a gallery?), e.g. {report.not_articles[0]}"
        )
    if tally.offered and not report.articles and not report.more_links and not report.problems:
        report.problems.append(
            "it would collect no article: every link it offers failed or had no article text"
        )
    return report


def settings_for(crawl: CrawlSettings, log_level: str = "WARNING") -> Any:
    """The run's Scrapy settings (``crawler.run.cycle.scrapy_settings``)."""
    from crawler.run.cycle import scrapy_settings

    return scrapy_settings(crawl, log_level)
