"""What each source offered in one crawl: article links (shared by canonical URL), unmatched links.

The feed and site spiders are separate Scrapy crawlers in one process; the
cycle hands both the same ``Coverage``, so an article linked by a feed (with
``utm_`` parameters) and by a site's sitemap (clean) is fetched once in a run,
and both sources are credited when it is stored. It also counts, per source,
the article links offered and the same-site links no ``follow`` rule
accepted: a source that answers but offers no article link at all is blind,
and ``blind_reason`` says why in one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler.config import Source

# Same-site links a source's pages showed that no follow rule accepted, kept per source.
MAX_UNMATCHED = 500

# Path words of pages that list or frame articles rather than being one.
_NOT_ARTICLE_WORDS = frozenset(
    {
        "about", "account", "advertise", "archive", "author", "authors", "category",
        "categories", "contact", "contacts", "cookies", "feed", "help", "login", "logout",
        "page", "privacy", "register", "rss", "search", "signin", "subscribe", "tag", "tags",
        "terms", "topic", "topics", "wp-admin", "wp-login.php", "wp-json",
    }
)  # fmt: skip
_YEAR = re.compile(r"^(19[89]\d|20\d\d)$")
_ID = re.compile(r"\d{4,}")
_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_ASSET = re.compile(
    r"\.(css|js|json|png|jpe?g|gif|svg|webp|ico|pdf|zip|mp3|mp4|xml|rss|txt)$", re.IGNORECASE
)


def article_likeness(url: str) -> int:
    """How much a URL looks like one article's page (0: not at all), from its path alone.

    A date or a long number in the path, a slug of several words, a page name
    ending in ``.html`` and depth all add; listing words (tag, category, page,
    search, about...) and assets (images, scripts, feeds) rule a link out.
    """
    try:
        path = urlsplit(url).path
    except ValueError:
        return 0
    segments = [segment for segment in path.split("/") if segment]
    if not segments or _ASSET.search(path):
        return 0
    if any(segment.lower() in _NOT_ARTICLE_WORDS for segment in segments):
        return 0
    score = 0
    if any(_YEAR.match(segment) for segment in segments[:-1]):
        score += 3
    if _ID.search(segments[-1]) or any(_ID.fullmatch(segment) for segment in segments):
        score += 2
    last = segments[-1].rsplit(".", 1)[0]
    words = _WORDS.findall(last)
    if len(words) >= 3:
        score += 2 + min(len(words), 8) // 4
    if segments[-1].lower().endswith((".html", ".htm", ".php", ".shtml", ".aspx")):
        score += 1
    if len(segments) >= 2:
        score += 1
    return score


def likely_articles(urls: Iterable[str], limit: int = 20) -> list[str]:
    """The URLs that look most like article pages, likeliest first (ties keep their order)."""
    scored = [(article_likeness(url), index, url) for index, url in enumerate(urls)]
    scored = [item for item in scored if item[0] > 0]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [url for _, _, url in scored[:limit]]


@dataclass
class SourceLinks:
    """One source's links in one crawl."""

    offered: int = 0  # article links offered (follow-accepted, or feed items), known ones too
    seen: int = 0  # same-site links seen on its sitemaps and section pages
    accepted: int = 0  # of those, links a follow rule accepted (each time seen)
    unmatched: list[str] = field(default_factory=list)  # same-site links no follow rule accepted
    unmatched_count: int = 0


class Coverage:
    """Per-crawl bookkeeping shared by the spiders of one process (see the module doc)."""

    def __init__(self) -> None:
        self.sources: dict[str, SourceLinks] = {}
        # canonical URL -> the sources that offered it in this crawl, first to queue it first
        self.offers: dict[str, list[str]] = {}

    def of(self, source: str) -> SourceLinks:
        """The tally of one source (created empty)."""
        return self.sources.setdefault(source, SourceLinks())

    def link(self, source: str, url: str, accepted: bool) -> None:
        """A same-site link on one of the source's sitemaps or section pages."""
        links = self.of(source)
        links.seen += 1
        if accepted:
            links.accepted += 1
        else:
            links.unmatched_count += 1
            if len(links.unmatched) < MAX_UNMATCHED and url not in links.unmatched:
                links.unmatched.append(url)

    def offer(self, source: str) -> None:
        """The source offered one article link (before any known / queued / limit check)."""
        self.of(source).offered += 1

    def claim(self, source: str, canonical: str) -> bool:
        """Queue ``canonical`` for ``source``: False if another source queued it in this crawl
        (the source is still credited with the article when it is stored)."""
        offerers = self.offers.setdefault(canonical, [])
        first = not offerers
        if source not in offerers:
            offerers.append(source)
        return first

    def offered_by(self, canonical: str) -> list[str]:
        """The sources that offered this canonical URL in this crawl."""
        return list(self.offers.get(canonical, ()))


def blind_reason(source: Source, links: SourceLinks | None) -> str:
    """One line on why a source that answered offered no article link.

    ``no link on the section pages matched follow ['/news/\\d{4}/']; 37 links seen,
    e.g. /articles/2026/11/x.html``; or that its pages list no link at all; or that
    its feed lists no item with a link.
    """
    links = links or SourceLinks()
    if source.feed:
        return "the feed answered but lists no item with a link"
    if source.telegram:
        return "the channel's preview answered but shows no post with text"
    where = _where(source)
    if not links.seen:
        return f"no same-site link at all on {where}"
    rules = "[" + ", ".join(f"'{rule}'" for rule in source.follow) + "]"
    examples = likely_articles(links.unmatched, 3) or links.unmatched[:3]
    shown = ", ".join(_path(url) for url in examples)
    plural = "s" if links.seen != 1 else ""
    return (
        f"no link on {where} matched follow {rules}; {links.seen} link{plural} seen"
        + (f", e.g. {shown}" if shown else "")
    )


def _where(source: Source) -> str:
    if source.sitemaps and source.sections:
        return "the section pages or sitemaps"
    if source.sitemaps:
        return "the sitemaps"
    if source.sections:
        return "the section pages"
    return "the home page"


def _path(url: str) -> str:
    """A URL's path and query, which says more than its host in a line about one site."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
