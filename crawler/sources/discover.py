"""``newswatch sources discover``: an outlet's feeds, sitemaps and article-link shapes.

A few plain GETs with httpx (the run's user agent, timeout and size limit;
http(s) only; loopback, private and link-local hosts refused unless
``allow_private``; robots.txt obeyed when ``[crawl] obey_robots`` is on):

- **feeds**: ``<link rel="alternate" type="application/rss+xml|atom+xml">`` and
  feed-looking links on the home page, then the common paths ``/feed``,
  ``/rss``, ``/rss.xml``, ``/feed.xml``, ``/atom.xml``; each kept only if
  feedparser reads it as a feed;
- **sitemaps**: robots.txt ``Sitemap:`` lines, then ``/sitemap.xml``,
  ``/sitemap_index.xml``, ``/sitemap-news.xml`` and ``/news-sitemap.xml``;
  indexes are opened a level down to find Google News sitemaps;
- **article links**: the same-site links of the home page that look like
  articles (``crawler.run.coverage.article_likeness``), grouped by their shape
  into regular expressions such as ``/news/\\d{4}/`` (a literal path prefix
  and the first part that varies: a year, an id, a slug).

The result is a ready ``[[source]]`` block whose comments say what was found
where and what was tried in vain; nothing is guessed silently.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx
from lxml import html as lxml_html
from protego import Protego

from crawler.config import CrawlSettings, Source
from crawler.config.keys import ID_RE
from crawler.extraction.article import extract_links
from crawler.extraction.sitemaps import Sitemap, SitemapError
from crawler.extraction.urls import registrable_domain, same_site
from crawler.run.coverage import article_likeness

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
FEED_PATHS = ("feed", "rss", "rss.xml", "feed.xml", "atom.xml")
SITEMAP_PATHS = ("sitemap.xml", "sitemap_index.xml", "sitemap-news.xml", "news-sitemap.xml")
FEED_NAMES = re.compile(r"(^|/)(feed|rss|atom)(\.xml|\.rss)?/?$|\.(rss|atom)$", re.IGNORECASE)
MAX_CHILD_SITEMAPS = 5  # children of an index opened to find its news sitemaps
MIN_PATTERN_LINKS = 2  # a pattern must cover at least this many article-like links


class Refused(Exception):
    """A URL discovery will not fetch: not http(s), or a private address not allowed."""


class DiscoveryError(Exception):
    """The home page itself could not be read; the message says why in one line."""


@dataclass
class Found:
    """A feed or sitemap that answered as one."""

    url: str
    how: str  # where it was found
    kind: str  # feed: rss20, atom10...; sitemap: urlset, sitemapindex, news
    detail: str  # what it holds, in words
    entries: int = 0
    links: list[str] = field(default_factory=list)
    parent: str = ""  # the sitemap index that lists it


@dataclass
class Pattern:
    """A ``follow`` regular expression and the home-page links that show it."""

    regex: str
    matches: int
    examples: list[str]
    sitemap_matches: int | None = None  # of the news sitemap's URLs, when there is one


@dataclass
class Discovery:
    """What discovery found for one outlet, and what it tried."""

    url: str
    name: str
    allow_private: bool = False
    title: str = ""
    language: str = ""
    feeds: list[Found] = field(default_factory=list)
    sitemaps: list[Found] = field(default_factory=list)
    patterns: list[Pattern] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    links_seen: int = 0
    article_links: int = 0
    learned_from: str = "the home page's article-like links"
    tried: list[str] = field(default_factory=list)  # "GET /rss: HTTP 404"
    problems: list[str] = field(default_factory=list)

    @property
    def news_sitemaps(self) -> list[Found]:
        """The Google News sitemaps found."""
        return [found for found in self.sitemaps if found.kind == "news"]

    def chosen_sitemaps(self) -> list[Found]:
        """What the source should read: news sitemaps if any, else the top-level sitemaps."""
        return self.news_sitemaps or [found for found in self.sitemaps if not found.parent]

    def sources(self) -> list[Source]:
        """The proposed sources: the site (if it has sitemaps or article links) and a feed."""
        proposed = []
        if self.chosen_sitemaps() or self.patterns:
            proposed.append(
                Source(
                    name=self.name,
                    site=self.url,
                    sitemaps=tuple(found.url for found in self.chosen_sitemaps()),
                    sections=tuple(self.sections),
                    follow=tuple(pattern.regex for pattern in self.patterns[:1]),
                    language=self.language,
                    allow_private=self.allow_private,
                )
            )
        if self.feeds:
            proposed.append(
                Source(
                    name=f"{self.name}-feed",
                    feed=self.feeds[0].url,
                    language=self.language,
                    allow_private=self.allow_private,
                )
            )
        return proposed

    def toml(self) -> str:
        """The ``[[source]]`` blocks, with comments saying what was found where."""
        lines = [f"# newswatch sources discover {self.url}"]
        if self.title:
            lines.append(f"# home page: {_comment(self.title)}")
        lines.append(f"# {self.links_seen} same-site links on the home page, "
                     f"{self.article_links} of them look like articles")
        for problem in self.problems:
            lines.append(f"# PROBLEM: {_comment(problem)}")
        site = next((s for s in self.sources() if s.site), None)
        feed = next((s for s in self.sources() if s.feed), None)
        lines.append("")
        if site is None:
            lines.append("# no site source: no sitemap and no article-like link pattern found")
        else:
            lines += self._site_block(site)
        lines.append("")
        if feed is None:
            lines.append("# no feed found: " + _comment(
                "no <link rel=\"alternate\"> feed on the home page, and none at "
                + ", ".join(f"/{path}" for path in FEED_PATHS)
            ))
        else:
            lines += self._feed_block(feed)
        if self.tried:
            lines.append("")
            lines.append("# tried without result:")
            lines += [f"#   {_comment(item)}" for item in self.tried]
        return "\n".join(lines) + "\n"

    def _site_block(self, source: Source) -> list[str]:
        lines = []
        for found in self.sitemaps:
            chosen = "" if found in self.chosen_sitemaps() else " (not used)"
            lines.append(f"# sitemap {found.url}: {found.detail}; {found.how}{chosen}")
        if not self.sitemaps:
            lines.append("# no sitemap found (robots.txt names none; "
                         + ", ".join(f"/{path}" for path in SITEMAP_PATHS) + " are not sitemaps)")
        for pattern in self.patterns:
            used = "" if pattern is self.patterns[0] else " (another shape, not used)"
            lines.append(
                f"# follow '{pattern.regex}'{used}: learned from {self.learned_from}; matches "
                f"{pattern.matches} of the {self.links_seen} same-site links on the home page, "
                f"e.g. {pattern.examples[0]}"
            )
            if pattern.sitemap_matches is not None:
                lines.append(
                    f"#   and {pattern.sitemap_matches} of the news sitemap's "
                    f"{self.news_sitemaps[0].entries} URLs"
                )
        if not self.patterns:
            lines.append("# no follow rule: the home page shows no group of article-like links; "
                         "every same-site link of the sitemaps and sections will be fetched "
                         "(write one by hand, and check it with `newswatch sources test`)")
        if self.sections:
            lines.append("# sections: the home page, and the pages its article links sit under")
        if self.language:
            lines.append(f"# language: from <html lang={self.language!r}>")
        lines.append("[[source]]")
        lines.append(f"name = {_quote(source.name)}")
        lines.append(f"site = {_quote(source.site)}")
        if source.sitemaps:
            lines.append(f"sitemaps = [{', '.join(_quote(url) for url in source.sitemaps)}]")
        if source.sections:
            lines.append(f"sections = [{', '.join(_quote(url) for url in source.sections)}]")
        if source.follow:
            lines.append(f"follow = [{', '.join(_literal(rule) for rule in source.follow)}]")
        if source.language:
            lines.append(f"language = {_quote(source.language)}")
        if source.allow_private:
            lines.append("allow_private = true  # a loopback or private address (--allow-private)")
        return lines

    def _feed_block(self, source: Source) -> list[str]:
        lines = []
        for found in self.feeds:
            used = "" if found.url == source.feed else " (not used)"
            lines.append(f"# feed {found.url}: {found.detail}; {found.how}{used}")
        lines.append("# a feed and the site may both be configured: an article both list is "
                     "fetched once per run")
        lines.append("[[source]]")
        lines.append(f"name = {_quote(source.name)}")
        lines.append(f"feed = {_quote(source.feed)}")
        if source.language:
            lines.append(f"language = {_quote(source.language)}")
        if source.allow_private:
            lines.append("allow_private = true  # a loopback or private address (--allow-private)")
        return lines

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` object."""
        return {
            "url": self.url,
            "name": self.name,
            "title": self.title,
            "language": self.language,
            "feeds": [_found_dict(found) for found in self.feeds],
            "sitemaps": [_found_dict(found) for found in self.sitemaps],
            "follow": [pattern.__dict__ for pattern in self.patterns],
            "sections": self.sections,
            "links_seen": self.links_seen,
            "article_links": self.article_links,
            "follow_learned_from": self.learned_from,
            "tried": self.tried,
            "problems": self.problems,
            "toml": self.toml(),
        }


def _found_dict(found: Found) -> dict[str, Any]:
    data = dict(found.__dict__)
    data.pop("links")
    return data


def _quote(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text)


def _literal(text: str) -> str:
    """A TOML literal string for a regular expression (no escapes), basic if it holds a quote."""
    return f"'{text}'" if "'" not in text and "\n" not in text else json.dumps(text)


def _comment(text: str) -> str:
    return " ".join(text.split())


# --- fetching -------------------------------------------------------------------------------


def check_address(url: str, allow_private: bool) -> None:
    """Refuse a URL that is not http(s), or whose host is loopback, private or link-local
    (unless ``allow_private``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"{url}: only http(s) URLs are fetched")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise Refused(f"{url}: DNS lookup failed for {parts.hostname} ({exc})") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise Refused(
                f"{url}: {parts.hostname} is a loopback, private or link-local address "
                f"({address}); --allow-private fetches it anyway"
            )


@dataclass
class Answer:
    """A response, read up to the size limit."""

    url: str
    status: int
    content_type: str
    body: bytes


class Fetcher:
    """httpx with the run's user agent, timeout and size limit, the address rule and robots.txt."""

    def __init__(self, crawl: CrawlSettings, allow_private: bool) -> None:
        self.crawl = crawl
        self.allow_private = allow_private
        self.robots: dict[str, Protego | None] = {}

        def guard(request: httpx.Request) -> None:  # every request, redirects included
            check_address(str(request.url), allow_private)

        self.client = httpx.Client(
            headers={"User-Agent": crawl.user_agent},
            timeout=crawl.download_timeout,
            follow_redirects=True,
            max_redirects=5,
            event_hooks={"request": [guard]},
        )

    def close(self) -> None:
        """Release the connections."""
        self.client.close()

    def get(self, url: str) -> Answer:
        """GET ``url``; raise ``Refused`` or ``DiscoveryError`` with a one-line reason."""
        if not self.allowed(url):
            raise Refused(f"{url}: forbidden by robots.txt")
        try:
            with self.client.stream("GET", url) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.crawl.max_page_bytes:
                        raise DiscoveryError(f"{url}: too big: over max_page_bytes")
                return Answer(
                    str(response.url),
                    response.status_code,
                    response.headers.get("content-type", ""),
                    bytes(body),
                )
        except httpx.TimeoutException:
            seconds = self.crawl.download_timeout
            raise DiscoveryError(f"{url}: timed out after {seconds:g} s") from None
        except httpx.TooManyRedirects:
            raise DiscoveryError(f"{url}: too many redirects") from None
        except httpx.HTTPError as exc:
            raise DiscoveryError(f"{url}: {type(exc).__name__}: {exc}") from None

    def robots_for(self, url: str) -> Protego | None:
        """The parsed robots.txt of the URL's host (None if it has none)."""
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self.robots:
            self.robots[root] = None
            try:
                with self.client.stream("GET", root + "/robots.txt") as response:
                    if response.status_code == 200:
                        text = response.read()[: self.crawl.max_page_bytes]
                        self.robots[root] = Protego.parse(text.decode("utf-8", "replace"))
            except (httpx.HTTPError, Refused):
                pass
        return self.robots[root]

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets newswatch fetch ``url`` (always, with obey_robots off)."""
        if not self.crawl.obey_robots or url.endswith("/robots.txt"):
            return True
        robots = self.robots_for(url)
        return robots is None or bool(robots.can_fetch(url, self.crawl.user_agent))


# --- discovery ------------------------------------------------------------------------------


def discover(
    url: str,
    crawl: CrawlSettings | None = None,
    *,
    allow_private: bool = False,
    name: str = "",
) -> Discovery:
    """Discover the feeds, sitemaps and article-link patterns of the outlet at ``url``.

    Raises ``Refused`` or ``DiscoveryError`` when the home page cannot be read.
    """
    fetcher = Fetcher(crawl or CrawlSettings(), allow_private)
    try:
        return _discover(fetcher, url, allow_private, name)
    finally:
        fetcher.close()


def _discover(fetcher: Fetcher, url: str, allow_private: bool, name: str) -> Discovery:
    check_address(url, allow_private)
    home = fetcher.get(url)
    if home.status != 200:
        raise DiscoveryError(f"{url}: HTTP {home.status}")
    text = home.body.decode(_charset(home.content_type), "replace")
    found = Discovery(url=home.url, name=name or default_name(home.url),
                      allow_private=allow_private)
    tree = _html(text)
    if tree is not None:
        found.title = " ".join(tree.xpath("string(//title)").split())[:200]
        lang = (tree.xpath("string(/html/@lang)") or "").strip().lower()
        found.language = lang.split("-")[0] if re.fullmatch(r"[a-z]{2,3}(-[\w-]+)?", lang) else ""
    links = extract_links(text, home.url)
    _feeds(fetcher, found, tree, links)
    _sitemaps(fetcher, found)
    _patterns(found, links)
    robots = fetcher.robots_for(home.url)
    if fetcher.crawl.obey_robots and robots is not None:
        for section in found.sections:
            if not robots.can_fetch(section, fetcher.crawl.user_agent):
                found.problems.append(f"robots.txt forbids the section page {section}")
    return found


def default_name(url: str) -> str:
    """A source name from the host: ``orda`` for https://orda.kz/, ``127-0-0-1`` for an IP."""
    host = urlsplit(url).hostname or "site"
    domain = registrable_domain(url) or host
    try:
        ipaddress.ip_address(host)
        candidate = host.replace(".", "-").replace(":", "-")
    except ValueError:
        candidate = domain.split(".")[0]
    candidate = re.sub(r"[^A-Za-z0-9_.-]+", "-", candidate).strip("-.") or "site"
    return candidate if ID_RE.match(candidate) else "site"


def _charset(content_type: str) -> str:
    found = re.search(r"charset=([\w-]+)", content_type or "")
    return found.group(1) if found else "utf-8"


def _html(text: str) -> Any:
    try:
        return lxml_html.document_fromstring(text) if text.strip() else None
    except (ValueError, lxml_html.etree.ParserError):
        return None


def _candidates(base: str, names: tuple[str, ...]) -> list[str]:
    """``names`` under the site root, and under the home page's folder when that is not root."""
    parts = urlsplit(base)
    root = f"{parts.scheme}://{parts.netloc}/"
    folders = [root]
    folder = parts.path.rsplit("/", 1)[0] + "/"
    if folder not in ("", "/"):
        folders.insert(0, urljoin(root, folder))
    return [urljoin(folder_url, name) for folder_url in folders for name in names]


def _feeds(fetcher: Fetcher, found: Discovery, tree: Any, links: list[str]) -> None:
    candidates: list[tuple[str, str]] = []
    if tree is not None:
        for link in tree.xpath("//link[@href]"):
            rel = (link.get("rel") or "").lower().split()
            kind = (link.get("type") or "").lower().split(";")[0].strip()
            if "alternate" in rel and kind in FEED_TYPES:
                href = urljoin(found.url, link.get("href").strip())
                candidates.append((href, f'<link rel="alternate" type="{kind}"> on the home page'))
    for link in links:
        if FEED_NAMES.search(urlsplit(link).path) and same_site(link, found.url):
            candidates.append((link, "linked from the home page"))
    for url in _candidates(found.url, FEED_PATHS):
        candidates.append((url, f"common path {urlsplit(url).path}"))
    seen_items: dict[frozenset[str], str] = {}
    checked: set[str] = set()
    for url, how in candidates:
        if url in checked:
            continue
        checked.add(url)
        answer = _try(fetcher, found, url)
        if answer is None:
            continue
        if answer.url in checked and answer.url != url:
            continue  # a redirect to a feed already read
        checked.add(answer.url)
        parsed = feedparser.parse(answer.body)
        entries = parsed.get("entries", [])
        version = parsed.get("version", "")
        if not version and not entries:
            found.tried.append(f"GET {url}: not a feed ({answer.content_type or 'no type'})")
            continue
        items = frozenset(str(entry.get("link", "")) for entry in entries)
        if items and items in seen_items:
            found.tried.append(f"{url}: the same items as {seen_items[items]}")
            continue
        seen_items[items] = answer.url
        title = " ".join(str(parsed.get("feed", {}).get("title", "")).split())
        detail = f"{_feed_format(version)}, {len(entries)} items"
        detail += f", {title!r}" if title else ""
        if not entries:
            found.problems.append(f"the feed {answer.url} lists no item")
        found.feeds.append(Found(answer.url, how, version or "feed", detail, len(entries)))


def _feed_format(version: str) -> str:
    names = {"rss20": "RSS 2.0", "rss10": "RSS 1.0", "atom10": "Atom 1.0", "atom03": "Atom 0.3"}
    if version in names:
        return names[version]
    return version.upper().replace("RSS0", "RSS 0.") if version.startswith("rss0") else (
        version or "a feed")


def _try(fetcher: Fetcher, found: Discovery, url: str) -> Answer | None:
    """GET a candidate; None (and a line in ``tried``) unless it answered 200."""
    try:
        answer = fetcher.get(url)
    except (Refused, DiscoveryError) as exc:
        found.tried.append(f"GET {exc}")
        return None
    if answer.status != 200:
        found.tried.append(f"GET {url}: HTTP {answer.status}")
        return None
    return answer


def _sitemaps(fetcher: Fetcher, found: Discovery) -> None:
    robots = fetcher.robots_for(found.url)
    candidates = [(url, "robots.txt Sitemap line") for url in (robots.sitemaps if robots else ())]
    candidates += [(url, f"common path {urlsplit(url).path}")
                   for url in _candidates(found.url, SITEMAP_PATHS)]
    checked: set[str] = set()
    for url, how in candidates:
        _read_sitemap(fetcher, found, url, how, "", checked)


def _sitemap_entries(body: bytes, max_bytes: int) -> tuple[str, list[dict[str, str]]]:
    """A sitemap's kind and entries (loc, lastmod, published), read by the crawl's own reader."""
    sitemap = Sitemap(body, max_bytes)
    try:
        kind = sitemap.kind
        entries = [
            {"loc": entry.loc, "lastmod": entry.lastmod}
            | ({"published": entry.published} if entry.published else {})
            for entry in sitemap
        ]
    except SitemapError:
        return "", []
    return kind, entries


def _read_sitemap(
    fetcher: Fetcher, found: Discovery, url: str, how: str, parent: str, checked: set[str]
) -> None:
    if url in checked:
        return
    checked.add(url)
    answer = _try(fetcher, found, url)
    if answer is None:
        return
    kind, entries = _sitemap_entries(answer.body, fetcher.crawl.max_page_bytes)
    if kind not in ("urlset", "sitemapindex"):
        found.tried.append(f"GET {url}: not a sitemap (root element {kind or 'none'!r})")
        return
    checked.add(answer.url)
    if kind == "sitemapindex":
        found.sitemaps.append(Found(answer.url, how, kind, f"sitemap index of {len(entries)}",
                                    len(entries), parent=parent))
        # Newest first; a child named for news first of all.
        entries.sort(key=lambda e: ("news" in e["loc"].lower(), e.get("lastmod", "")),
                     reverse=True)
        for entry in entries[:MAX_CHILD_SITEMAPS]:
            _read_sitemap(fetcher, found, urljoin(answer.url, entry["loc"]),
                          f"in the sitemap index {answer.url}", answer.url, checked)
        return
    links = [urljoin(answer.url, entry["loc"]) for entry in entries]
    news = any("published" in entry for entry in entries)
    if news:
        detail = f"Google News sitemap, {len(entries)} articles"
    else:
        detail = f"sitemap of {len(entries)} URLs"
    if not entries:
        found.problems.append(f"the sitemap {answer.url} lists no URL")
    found.sitemaps.append(Found(answer.url, how, "news" if news else kind, detail, len(entries),
                                links, parent))


# --- article-link patterns ------------------------------------------------------------------

_YEAR = re.compile(r"(19[89]\d|20\d\d)")
_NUMBER = re.compile(r"\d+")
_ID_SLUG = re.compile(r"\d{3,}[-_].+")
_SLUG = re.compile(r"[^/]*[-_][^/]*[-_][^/]*")  # three words or more


def _escape(text: str) -> str:
    """Escape what a regex treats specially, and nothing more (``-`` and ``/`` read as they are)."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


def shape(url: str) -> str | None:
    """The ``follow`` regex a URL's path suggests: a literal prefix and the first part that
    varies (``/news/2026/11/x.html`` → ``/news/\\d{4}/``), or None for no clear shape."""
    segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        prefix = "/" + "".join(_escape(part) + "/" for part in segments[:index])
        if _YEAR.fullmatch(segment) and not last:
            return prefix + r"\d{4}/"
        if _NUMBER.fullmatch(segment) and len(segment) >= 3:
            return prefix + r"\d+"
        if _ID_SLUG.fullmatch(segment):
            return prefix + r"\d+"
        if last and _SLUG.fullmatch(segment.rsplit(".", 1)[0]) and index >= 1:
            return prefix + r"[^/]+-[^/]+-"
    return None


def _patterns(found: Discovery, links: list[str]) -> None:
    same = [link for link in links if same_site(link, found.url)
            and link.rstrip("/") != found.url.rstrip("/")]
    found.links_seen = len(same)
    articles = [link for link in same if article_likeness(link) >= 2]
    found.article_links = len(articles)
    sources = articles
    if not articles and found.news_sitemaps:
        sources = found.news_sitemaps[0].links  # the home page shows none: learn from the news
        found.learned_from = "the news sitemap (the home page shows no article-like link)"
    shapes = Counter(s for s in (shape(link) for link in sources) if s)
    for regex, count in shapes.most_common():
        if count < MIN_PATTERN_LINKS:
            break
        rule = re.compile(regex)
        examples = [_path(link) for link in sources if rule.search(link)][:3]
        matched_all = sum(1 for link in same if rule.search(link))
        pattern = Pattern(regex, matched_all, examples)
        if found.news_sitemaps:
            news = found.news_sitemaps[0].links
            pattern.sitemap_matches = sum(1 for link in news if rule.search(link))
        found.patterns.append(pattern)
        if len(found.patterns) == 3:
            break
    if found.patterns and found.news_sitemaps:
        # The shape that also covers the news sitemap best goes first.
        found.patterns.sort(key=lambda p: (-(p.sitemap_matches or 0), -p.matches))
    sections = [found.url]
    if found.patterns:
        literal = found.patterns[0].regex.split("\\d")[0].split("[^/]")[0]
        prefix = re.sub(r"\\(.)", r"\1", literal)
        if prefix not in ("", "/"):
            section = urljoin(found.url, prefix)
            if any(link.rstrip("/") == section.rstrip("/") for link in same):
                sections.append(section)
    found.sections = sections


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
