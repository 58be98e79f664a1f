"""Public Telegram channels: a web preview page read into posts, posts into articles, and
how far a channel has been read.

Every public channel has a preview at ``https://t.me/s/<channel>``: its newest posts
(about twenty) as ``.tgme_widget_message`` blocks, each with ``data-post="<channel>/<id>"``,
the text in ``.tgme_widget_message_text``, the time in the ``<time datetime>`` of its date
link, a forwarded-from line and a link preview when it has them; older posts are at
``?before=<id>`` (the page's ``<link rel="prev">`` or its "load more" anchor).

``parse_preview`` reads one such page (no network, no Scrapy: the spider, a crawl worker
and a unit test call it alike); ``post_article`` turns a post into the ``Article`` that
matching and storage take; ``ChannelReader`` decides which pages a run reads so that,
run after run, every post is read once: from the newest back to the newest already read,
then into any gap an earlier run left (a run cut short by a 429 or by ``max_articles``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import lxml.html
from lxml import etree

from crawler.extraction.article import content_hash, detect_language, normalize_date
from crawler.models import Article, Page

__all__ = [
    "MAX_GAPS",
    "TELEGRAM",
    "TELEGRAM_HOSTS",
    "TITLE_CHARS",
    "ChannelReader",
    "Post",
    "PreviewPage",
    "Progress",
    "embed_url",
    "followable",
    "parse_preview",
    "post_article",
    "post_of_url",
    "post_url",
    "preview_url",
    "read_post",
]

TELEGRAM = "https://t.me"
"""Where the previews are, and the host of every post's canonical URL."""

TELEGRAM_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})

TITLE_CHARS = 100
"""A post's title is its first line, cut at a word near this many characters."""

MAX_GAPS = 20
"""Unread stretches of a channel remembered at most (the newest are kept)."""

# A post shorter than this takes the source's language hint unless the identifier is sure.
_LANGID_MIN_CHARS = 40

_BLOCK_TAGS = frozenset({"p", "div", "blockquote", "pre", "ul", "ol", "li", "h1", "h2", "h3"})
_SKIPPED_TAGS = frozenset({"script", "style", "template"})
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def preview_url(base: str, channel: str, before: int | None = None) -> str:
    """The preview page of a channel: its newest posts, or those before post ``before``."""
    url = f"{base.rstrip('/')}/s/{channel}"
    return f"{url}?before={before}" if before is not None else url


def post_url(channel: str, post_id: int) -> str:
    """A post's canonical URL, ``https://t.me/<channel>/<id>``, wherever it was read."""
    return f"{TELEGRAM}/{channel}/{post_id}"


_POST_URL = re.compile(r"^https://t\.me/([A-Za-z][A-Za-z0-9_]{3,31})/(\d+)$")


def post_of_url(url: str) -> tuple[str, int] | None:
    """(channel, id) of a post's canonical URL, or None for any other URL."""
    found = _POST_URL.match(url)
    return (found.group(1), int(found.group(2))) if found else None


def embed_url(base: str, channel: str, post_id: int) -> str:
    """The page of one post alone (Telegram's embeddable widget): how a post is read again."""
    return f"{base.rstrip('/')}/{channel}/{post_id}?embed=1&mode=tme"


@dataclass(frozen=True)
class Post:
    """One post of a channel as the preview shows it; JSON-ready (a crawl worker sends it)."""

    source: str  # the [[source]] name
    channel: str  # as Telegram spells it in data-post
    id: int
    url: str  # https://t.me/<channel>/<id>
    text: str = ""  # the message or caption, "<br>" as newlines; "" for a photo alone
    published_at: str | None = None
    forwarded_from: str = ""  # the origin's name, for a forwarded post
    forwarded_url: str = ""  # a t.me link to the origin (channel or post), when shown
    links: tuple[str, ...] = ()  # http(s) links of the text, then the link preview's
    preview_title: str = ""  # the link preview block, when the post has one
    preview_description: str = ""
    preview_site: str = ""
    fetched_at: str = ""
    language_hint: str = ""
    # The preview page the post was read from, as received: its evidence.
    page_url: str = ""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def raw_page(self) -> Page:
        """The preview page the post was read from, as a ``Page`` without text (for the
        evidence of a post with a hit)."""
        return Page(
            source=self.source,
            url=self.page_url or self.url,
            html="",
            requested_url=self.page_url or self.url,
            fetched_at=self.fetched_at,
            status=self.status,
            headers=self.headers,
            body=self.body,
        )


@dataclass(frozen=True)
class PreviewPage:
    """What one preview page holds: its posts (oldest first, as shown) and the older page."""

    is_preview: bool  # False: not a channel preview (a private channel, a user, a bot...)
    posts: tuple[Post, ...] = ()
    before: int | None = None  # the ``before`` of the page of older posts, if there is one

    @property
    def ids(self) -> list[int]:
        """The ids of every post on the page, text or not."""
        return [post.id for post in self.posts]


def _classes(element: Any) -> set[str]:
    return set((element.get("class") or "").split())


def _find(element: Any, cls: str) -> Any:
    """The first descendant with this class, or None."""
    for found in element.iterdescendants():
        if isinstance(found.tag, str) and cls in _classes(found):
            return found
    return None


def _inline_text(element: Any) -> str:
    """An element's text on one line, whitespace collapsed."""
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def message_text(element: Any) -> tuple[str, list[str]]:
    """A message's text with ``<br>`` and block ends as newlines, and the hrefs of its links.

    Links stay as the text they show; emoji images as their characters; nothing is
    dropped for being a link. Runs of spaces collapse, as a browser shows them.
    """
    parts: list[str] = []
    hrefs: list[str] = []

    def walk(node: Any, pre: bool) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _SKIPPED_TAGS:
            return
        if tag == "br":
            parts.append("\n")
        else:
            block = tag in _BLOCK_TAGS and node is not element
            pre = pre or tag == "pre"
            if block:
                parts.append("\n")
            if tag == "a" and node.get("href"):
                hrefs.append(node.get("href").strip())
            if node.text:
                parts.append(node.text if pre else _SPACES.sub(" ", node.text))
            for child in node:
                walk(child, pre)
            if block:
                parts.append("\n")
        if node is not element and node.tail:
            parts.append(node.tail if pre else _SPACES.sub(" ", node.tail))

    walk(element, False)
    lines = [line.strip() for line in "".join(parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip(), hrefs


def _absolute(base: str, href: str) -> str:
    """An http(s) URL for a link, or "" (javascript:, tg:, mailto: and the like)."""
    try:
        url = urljoin(base, href.strip())
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def _before(value: str) -> int | None:
    try:
        found = parse_qs(urlsplit(value).query).get("before", [""])[-1]
        return int(found) if found.isdigit() else None
    except ValueError:
        return None


def parse_preview(
    html: str | bytes,
    *,
    source: str,
    channel: str,
    page_url: str = TELEGRAM,
    fetched_at: str = "",
    language_hint: str = "",
) -> PreviewPage:
    """Read a channel's preview page: its posts and the ``before`` of the older page.

    Posts of other channels than ``channel`` (compared without case) and service
    messages are left out; a post without text (a photo alone) is kept with
    ``text = ""`` so that its id still counts. A page with no post and no channel
    header is not a preview (``is_preview = False``).
    """
    if not html or not html.strip():
        return PreviewPage(is_preview=False)
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return PreviewPage(is_preview=False)
    header = _find(tree, "tgme_channel_info") is not None
    posts: list[Post] = []
    for block in tree.iter("div"):
        post = _post(block, source, channel, page_url, fetched_at, language_hint)
        if post is not None:
            posts.append(post)
    if not posts and not header:
        return PreviewPage(is_preview=False)
    return PreviewPage(is_preview=True, posts=tuple(posts), before=_older_page(tree))


def read_post(
    html: str | bytes,
    *,
    source: str,
    channel: str,
    post_id: int,
    page_url: str = TELEGRAM,
    fetched_at: str = "",
    language_hint: str = "",
) -> tuple[Post | None, bool]:
    """A post as its own page (``embed_url``) shows it now: ``(post, False)``; or
    ``(None, True)`` when Telegram says there is no such post any more (deleted);
    ``(None, False)`` when the page says neither (not a Telegram page)."""
    page = parse_preview(
        html,
        source=source,
        channel=channel,
        page_url=page_url,
        fetched_at=fetched_at,
        language_hint=language_hint,
    )
    found = next((post for post in page.posts if post.id == post_id), None)
    if found is not None:
        return found, False
    try:
        tree = lxml.html.fromstring(html) if html and html.strip() else None
    except (etree.ParserError, ValueError):
        tree = None
    gone = tree is not None and _find(tree, "tgme_widget_message_error") is not None
    return None, gone


def _older_page(tree: Any) -> int | None:
    for link in tree.iter("link"):
        if "prev" in (link.get("rel") or "").lower().split():
            found = _before(link.get("href") or "")
            if found is not None:
                return found
    for anchor in tree.iter("a"):
        if "tme_messages_more" in _classes(anchor):
            value = anchor.get("data-before") or ""
            if value.isdigit():
                return int(value)
            found = _before(anchor.get("href") or "")
            if found is not None:
                return found
    return None


def _post(
    block: Any, source: str, channel: str, page_url: str, fetched_at: str, hint: str
) -> Post | None:
    classes = _classes(block)
    data_post = block.get("data-post") or ""
    if "tgme_widget_message" not in classes or "/" not in data_post:
        return None
    if "service_message" in classes:
        return None
    name, _, number = data_post.rpartition("/")
    if name.casefold() != channel.casefold() or not number.isdigit():
        return None
    post_id = int(number)
    text = ""
    hrefs: list[str] = []
    for element in block.iterdescendants():
        if not isinstance(element.tag, str):
            continue
        if "tgme_widget_message_text" in _classes(element) and not _in_reply(element, block):
            text, hrefs = message_text(element)
            break
    published = None
    date_link = _find(block, "tgme_widget_message_date")
    if date_link is not None:
        for moment in date_link.iter("time"):
            published = normalize_date(moment.get("datetime") or "")
            break
    forwarded_from, forwarded_url = "", ""
    forwarded = _find(block, "tgme_widget_message_forwarded_from")
    if forwarded is not None:
        origin = _find(forwarded, "tgme_widget_message_forwarded_from_name")
        forwarded_from = _inline_text(origin) or _inline_text(forwarded).removeprefix(
            "Forwarded from"
        ).strip()
        anchor = origin if origin is not None and origin.tag == "a" else None
        if anchor is None:
            anchor = next(iter(forwarded.iter("a")), None)
        if anchor is not None:
            forwarded_url = _absolute(page_url, anchor.get("href") or "")
    links = [_absolute(page_url, href) for href in hrefs]
    preview = _find(block, "tgme_widget_message_link_preview")
    title = description = site = ""
    if preview is not None:
        title = _inline_text(_find(preview, "link_preview_title"))
        site = _inline_text(_find(preview, "link_preview_site_name"))
        found = _find(preview, "link_preview_description")
        description = message_text(found)[0] if found is not None else ""
        links.append(_absolute(page_url, preview.get("href") or ""))
    return Post(
        source=source,
        channel=name,
        id=post_id,
        url=post_url(name, post_id),
        text=text,
        published_at=published,
        forwarded_from=forwarded_from,
        forwarded_url=forwarded_url,
        links=tuple(dict.fromkeys(link for link in links if link)),
        preview_title=title,
        preview_description=description,
        preview_site=site,
        fetched_at=fetched_at,
        language_hint=hint,
    )


def _in_reply(element: Any, block: Any) -> bool:
    """Whether an element is inside the quote of the post a reply answers."""
    parent = element.getparent()
    while parent is not None and parent is not block:
        if "tgme_widget_message_reply" in _classes(parent):
            return True
        parent = parent.getparent()
    return False


def post_title(text: str, limit: int = TITLE_CHARS) -> str:
    """The first non-empty line, cut at a word boundary near ``limit`` characters."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0].rstrip(" ,.;:-–—")
    return (cut or line[:limit]) + "…"


def post_article(post: Post) -> Article | None:
    """The article a post becomes, or None for a post without text (a photo alone).

    The text is the message (a photo's caption), after a first line "Forwarded from
    NAME" for a forwarded post, and followed by the link preview's title and
    description; the title is the message's first line.
    """
    if not post.text.strip():
        return None
    lines = [f"Forwarded from {post.forwarded_from}"] if post.forwarded_from else []
    lines.append(post.text)
    preview = "\n".join(part for part in (post.preview_title, post.preview_description) if part)
    if preview:
        lines += ["", preview]
    text = "\n".join(lines).strip()
    title = post_title(post.text)
    return Article(
        url=post.url,
        canonical_url=post.url,
        source=post.source,
        title=title,
        text=text,
        published_at=post.published_at,
        language=detect_language(
            f"{post.text}\n{preview}", post.language_hint or None, min_chars=_LANGID_MIN_CHARS
        ),
        fetched_at=post.fetched_at,
        content_hash=content_hash(text),
    )


# --- how far a channel has been read ------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far a channel is read: every post up to ``newest``, except in the ``gaps``.

    A gap ``(low, high)`` holds the posts ``low < id < high`` that a run could not
    read (it was cut short by a 429, an error or ``max_articles``); the next run reads
    them after the new posts. JSON-ready: a crawl worker sends it to the ingest side.
    """

    source: str
    channel: str
    newest: int = 0  # 0: never read
    gaps: tuple[tuple[int, int], ...] = field(default=())

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Progress:
        """From the dict ``dataclasses.asdict`` (then JSON) made of one."""
        gaps = tuple((int(low), int(high)) for low, high in data.get("gaps") or ())
        return cls(str(data["source"]), str(data["channel"]), int(data.get("newest") or 0), gaps)


@dataclass
class _Chain:
    """A run of pages read back from ``before`` (None: the newest page) down to ``low``."""

    low: int
    before: int | None = None
    top: bool = False  # the chain from the newest page, not a gap


class ChannelReader:
    """Which preview pages one run reads for one channel, page by page.

    First the newest page, and older ones until a post already read (``newest``) or
    the channel's first post; then each gap, newest first, from ``?before=high`` down
    to ``low``. At most ``budget`` new posts are taken in a run. At a channel's first
    run (nothing read yet) the run reads back as far as the budget goes and older posts
    are left alone; later, what the budget or a failure leaves unread becomes a gap.
    """

    def __init__(self, progress: Progress, budget: int) -> None:
        self.start = progress
        self.budget = max(budget, 1)
        self.newest = progress.newest
        self.pending = sorted(progress.gaps, key=lambda gap: gap[1], reverse=True)
        self.left: list[tuple[int, int]] = []  # gaps this run leaves for the next
        self.chain = _Chain(low=progress.newest, top=True)
        self.pages = 0
        self.done = False

    @property
    def before(self) -> int | None:
        """The ``before`` of the page to read now (None: the newest page)."""
        return self.chain.before

    def take(self, page: PreviewPage) -> tuple[list[Post], int | None]:
        """The new posts of the page just read (newest first), and whether to go on:
        the ``before`` of the next page, or None when the run is done with the channel.
        """
        self.pages += 1
        chain = self.chain
        ids = page.ids
        if chain.top and ids:
            self.newest = max(self.newest, *ids)
        upper = chain.before if chain.before is not None else float("inf")
        fresh = sorted(
            (post for post in page.posts if chain.low < post.id < upper),
            key=lambda post: post.id,
            reverse=True,
        )
        taken = fresh[: self.budget]
        self.budget -= len(taken)
        if len(taken) < len(fresh):  # the budget ends inside this page
            self._leave(taken[-1].id if taken else chain.before)
            return taken, None
        lowest = min(ids) if ids else None
        if lowest is None or lowest <= chain.low + 1 or page.before is None:
            return taken, self._next_gap()
        if self.budget <= 0:
            self._leave(lowest)
            return taken, None
        before = min(page.before, lowest)
        if chain.before is not None and before >= chain.before:  # a page that goes nowhere
            self._leave(lowest)
            return taken, None
        chain.before = before
        return taken, before

    def failed(self) -> None:
        """The page asked for could not be read: the rest of this chain, and every gap not
        reached yet, is left for the next run."""
        self._leave(self.chain.before)

    def _leave(self, high: int | None) -> None:
        """End the run; posts between the chain's ``low`` and ``high`` stay unread."""
        chain = self.chain
        first_run = self.start.newest == 0
        if high is not None and high > chain.low + 1 and not (chain.top and first_run):
            self.left.append((chain.low, high))
        self.left += self.pending
        self.pending = []
        self.done = True

    def _next_gap(self) -> int | None:
        """Start on the next gap: its ``before``, or None when none is left."""
        if not self.pending:
            self.done = True
            return None
        low, high = self.pending.pop(0)
        self.chain = _Chain(low=low, before=high)
        return high

    def progress(self) -> Progress:
        """What is read once the run is done with the channel."""
        gaps = sorted(set(self.left + self.pending), key=lambda gap: gap[1], reverse=True)
        return Progress(
            self.start.source, self.start.channel, self.newest, tuple(gaps[:MAX_GAPS])
        )


def followable(links: Iterable[str], preview_base: str = TELEGRAM) -> Iterator[str]:
    """The links of a post that may lead to news articles: not Telegram's own pages."""
    base = preview_base.rstrip("/")
    for link in links:
        host = (urlsplit(link).hostname or "").lower()
        if host in TELEGRAM_HOSTS or link.startswith(f"{base}/s/"):
            continue
        yield link
