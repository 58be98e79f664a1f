"""Extract an article from a fetched page: main text, title, date, language, canonical URL.

Main text comes from trafilatura, which already drops navigation, asides, footers, comment
sections and most sidebars. Two passes here catch what it keeps on news sites:

- before it runs, "latest news" / "последние новости" / "соңғы жаңалықтар" style blocks are
  pruned, found by their heading or by class/id names (`lenta`, `latest`, `most-read`...);
- after it runs, lines that are nothing but link text (headline lists, "read also" links)
  are dropped, and a page whose text is mostly such lines is an index page, not an article.

So a name that appears only in navigation, sidebars or footers is not in `Article.text`.

Every length threshold counts words where words are spaced and characters where they are
not (Chinese, Japanese, Thai...): :func:`text_length` counts two such characters as one word,
so a short Chinese or Japanese article of 80 characters is an article like 40 English words.
Right-to-left text is kept in its logical order, as written; the desk sets its direction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from crawler import clock
from crawler.extraction.urls import canonicalize, registrable_domain, same_site
from crawler.models import Article, Page

# trafilatura (and what it imports) loads when a run first extracts a page, not with this
# module: a cycle that finds no new page never needs it.
if TYPE_CHECKING:
    from trafilatura.settings import Document

__all__ = [
    "MIN_WORDS",
    "content_hash",
    "detect_language",
    "extract",
    "extract_links",
    "normalize_date",
    "preload",
    "text_length",
]

logger = logging.getLogger(__name__)

MIN_WORDS = 40
"""Fewer words of main text than this (``text_length``), and a page is not an article."""

CHARS_PER_WORD = 2
"""Characters of a script written without spaces between words that count as one word."""

# Scripts written without spaces between words: Han, kana, Thai, Lao, Khmer, Myanmar.
_UNSPACED = re.compile(
    "[\u3040-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u31f0-\u31ff\uff66-\uff9f"
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\U00020000-\U0003134f]"
)

# Languages the identifier chooses among: the watched ones and those a Central Asian news
# site is likely to publish in, and the scripts of Xinjiang and Iraq's press.
# A wider set only adds ways to be wrong on short texts.
_LANGUAGES = (
    "en", "ru", "kk", "ky", "uz", "tg", "uk", "be", "tr", "de", "fr", "es",
    "zh", "ja", "ar", "fa", "ug", "ur",
)  # fmt: skip
_LANGID_MIN_CONFIDENCE = 0.9
_LANGID_MIN_CHARS = 200
_LANGID_MAX_CHARS = 5000

# Letters of Kazakh Cyrillic absent from Russian, Ukrainian and Kyrgyz: py3langid takes short
# Kazakh texts for Russian (and the reverse), the letters do not.
# Shares are of Cyrillic letters: Kazakh prose runs at 4-13 % per paragraph, a Russian text
# that spells Kazakh names the Kazakh way at about 1 %.
_KAZAKH_LETTERS = frozenset("әғқұһӘҒҚҰҺ")
_KAZAKH_SURE_SHARE = 0.03
_KAZAKH_MIN_SHARE = 0.005
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")

# CJK and Arabic script tell the language more surely than the identifier on short texts.
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_KANA = re.compile("[\u3040-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LETTER = re.compile(r"[^\W\d_]")
_ALNUM = re.compile(r"[^\W_]")
_UYGHUR_LETTERS = frozenset("\u06c7\u06c8\u06c6\u06d0\u06d5\u06ad\u06cb\u06be")  # ۇ ۈ ۆ ې ە ڭ ۋ ھ
_URDU_LETTERS = frozenset("\u0679\u0688\u0691\u06ba\u06d2")  # ٹ ڈ ڑ ں ے
_PERSIAN_LETTERS = frozenset("\u06cc\u06a9")  # ی ک (Arabic writes ي ك)
_ARABIC_LETTERS = frozenset("\u064a\u0643\u0629\u0649")  # ي ك ة ى
_SCRIPT_MIN_LETTERS = 10

# Headings of headline blocks, compared casefolded with punctuation stripped.
_BLOCK_LABELS = frozenset(
    {
        # English
        "latest", "latest news", "latest stories", "latest headlines", "latest articles",
        "most read", "most viewed", "most popular", "popular", "popular news", "trending",
        "trending now", "related", "related news", "related articles", "related stories",
        "read also", "also read", "read more", "see also", "you may also like",
        "recommended", "recommended for you", "more news", "more stories", "top stories",
        "editors picks", "editor s picks", "news feed", "other news", "in other news",
        "dont miss", "don t miss", "more on this story", "breaking news", "news",
        # Russian
        "последние новости", "последние", "лента новостей", "лента", "новости", "главное",
        "главные новости", "популярное", "самое читаемое", "самое популярное",
        "читайте также", "читайте еще", "читайте ещё", "смотрите также", "по теме",
        "новости по теме", "материалы по теме", "другие новости", "рекомендуем",
        "еще новости", "ещё новости", "топ новостей", "выбор редакции", "сейчас читают",
        "актуально", "важное", "новости партнеров", "новости партнёров",
        # Kazakh
        "соңғы жаңалықтар", "жаңалықтар", "жаңалықтар лентасы", "жаңалықтар таспасы",
        "таспа", "көп оқылған", "көп оқылғандар", "ең көп оқылған", "танымал",
        "тақырып бойынша", "тақырыпқа қатысты", "осы тақырыпта", "тағы оқыңыз", "оқыңыз",
        "оқи отырыңыз", "басқа жаңалықтар", "басты жаңалықтар", "маңызды",
        "редакция таңдауы", "ұқсас жаңалықтар", "ұқсас материалдар",
    }
)  # fmt: skip
_BLOCK_LABEL_PREFIXES = ("more from ", "ещё из ", "еще из ")
_NON_WORD = re.compile(r"[\W_]+")

_LABEL_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_LABEL_MAX_CHARS = 60
_HEADLINE_LINK_SHARE = 0.2
_LINK_LINE_MAX_WORDS = 40
_PROTECTED_TAGS = frozenset({"html", "body", "main"})

_HEADLINE_BLOCK_NAMES = (
    "lenta|latest|last-?news|most-?(?:read|viewed|popular)|popular|read-?also|also-?read|"
    "recommend|news-?feed|more-?news|other-?news|top-?news|news-?list"
)
_HEADLINE_BLOCKS = etree.XPath(
    "//*[self::div or self::section or self::aside or self::ul or self::ol or self::nav]"
    f"[re:test(concat(@class, ' ', @id), '{_HEADLINE_BLOCK_NAMES}', 'i')]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
# Teaser cards are often <article>s too: only the page's heading or body marks the article.
_PROTECTS_ARTICLE = etree.XPath(
    "boolean(descendant-or-self::h1 | descendant-or-self::*[@itemprop='articleBody'])"
)
_CANDIDATE_LABELS = etree.XPath(
    "//h2 | //h3 | //h4 | //h5 | //h6 | //strong | //b"
    " | //*[self::div or self::span or self::p or self::header]"
    "[re:test(@class, 'title|head|caption|label', 'i')]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
_TIME_IN_ARTICLE = etree.XPath(
    "(//article//time[@datetime] | //main//time[@datetime] | //time[@pubdate][@datetime])/@datetime"
)
_TIME_ANYWHERE = etree.XPath(
    "//time[@datetime][not(ancestor::aside or ancestor::footer or ancestor::nav)]/@datetime"
)
_ITEMPROP_PUBLISHED = etree.XPath(
    "//*[@itemprop='datePublished']/@content | //*[@itemprop='datePublished']/@datetime"
)
_HEADLINE_LINKS = etree.XPath(
    "count((//*[self::h2 or self::h3 or self::h4][.//a[not(starts-with(@href, '#'))]]"
    " | //a[not(starts-with(@href, '#'))][.//h2 or .//h3 or .//h4])"
    "[not(ancestor::nav or ancestor::aside or ancestor::footer or ancestor::header)])"
)
_JSON_LD = etree.XPath("//script[contains(@type, 'ld+json')]/text()")

_PUBLISHED_META = ("article:published_time", "og:article:published_time", "article:published")
_ARTICLE_OG_TYPES = frozenset({"article", "news", "newsarticle"})

_DATE_PREFIX = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)

_TITLE_SEPARATORS = (" | ", " - ", " — ", " – ", " :: ", " // ")
_TITLE_SUFFIX_MAX = 40

_SKIPPED_HREF = ("#", "javascript:", "mailto:", "tel:", "data:", "sms:")
_HREF_JUNK = re.compile(r"[\t\n\r]")


class ExtractionFailed(Exception):
    """Extraction raised on a page: a bug (bad input returns None), reported, never hidden."""


def extract(page: Page) -> Article | None:
    """Turn a fetched page into an Article, or None when it holds no usable article text.

    None for index and section pages, pages with fewer than MIN_WORDS words of main text,
    empty or unparseable HTML. Anything else that goes wrong is a bug: it raises
    ``ExtractionFailed`` (the ingest counts it and names it in the source's health),
    rather than passing for "not an article".
    """
    try:
        return _extract(page)
    except Exception as exc:
        raise ExtractionFailed(f"{type(exc).__name__}: {exc}") from exc


def preload() -> None:
    """Load trafilatura and the language model (≈80 MB) now, not at the first page."""
    import trafilatura  # noqa: F401

    _identifier()


def extract_links(html: str, base_url: str) -> list[str]:
    """Return the absolute http(s) links of a page's <a href>, without fragments, deduplicated.

    Relative links resolve against <base href> when the page has one, else base_url.
    """
    if "<html" not in html[:4096].lower():
        # A fragment (a feed entry's HTML, say) is not a document trafilatura accepts.
        html = f"<html><body>{html}</body></html>"
    tree = _parse(html)
    if tree is None:
        return []
    base = base_url
    for href in tree.xpath("//base/@href"):
        base = _join(base_url, str(href)) or base_url
        break
    seen: dict[str, None] = {}
    for anchor in tree.iter("a"):
        href = _HREF_JUNK.sub("", anchor.get("href") or "").strip()
        if not href or href.lower().startswith(_SKIPPED_HREF):
            continue
        absolute = _join(base, href)
        if absolute:
            seen.setdefault(absolute, None)
    return list(seen)


def content_hash(text: str) -> str:
    """Return the sha256 hex digest of a text after NFKC, casefolding and whitespace collapse."""
    normalised = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def normalize_date(value: str) -> str | None:
    """Return a date or time as an ISO 8601 UTC string `YYYY-MM-DDTHH:MM:SSZ`, or None.

    Accepts ISO 8601 (with or without offset; a bare date means midnight) and RFC 2822
    (feed dates). A time without an offset is taken as UTC. Dates before 1990 or more
    than a day in the future are rejected as misparses.
    """
    value = value.strip()
    if not value:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            match = _DATE_PREFIX.match(value)
            if match:
                year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
                try:
                    parsed = datetime(year, month, day, hour, minute, second)
                except ValueError:
                    parsed = None
    if parsed is None:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if not _EARLIEST <= parsed <= clock.now() + timedelta(days=1):
        return None
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def _extract(page: Page) -> Article | None:
    tree = _parse(page.html)
    if tree is None:
        return None
    meta = _meta(tree)
    json_ld = list(_json_ld_objects(tree))
    articles_ld = [obj for obj in json_ld if _is_article_type(obj.get("@type"))]
    is_article = bool(
        articles_ld
        or meta.get("og:type", "").lower() in _ARTICLE_OG_TYPES
        or any(key in meta for key in _PUBLISHED_META)
        or tree.xpath("boolean(//*[@itemprop='articleBody'] | //article//h1)")
    )
    # Dates are read after pruning, so that the times of sidebar headlines are gone.
    _prune_headline_blocks(tree)
    import trafilatura
    from trafilatura.settings import Document

    document = trafilatura.bare_extraction(
        tree,
        url=page.url or None,
        include_comments=False,
        include_tables=True,
        include_images=False,
        with_metadata=False,  # read below only if the page's own markup says too little
    )
    if not isinstance(document, Document) or not document.text:
        return None

    text, link_lines = _drop_link_lines(document.text, _anchor_index(tree))
    if text_length(text) < MIN_WORDS:
        return None
    if not is_article and (
        _HEADLINE_LINKS(tree) >= 3 or link_lines >= max(3, len(text.splitlines()))
    ):
        return None  # a list of headlines, maybe with summaries: a section page

    canonical = _canonical_url(page.url, tree, meta)
    others = [canonicalize(u) for u in (page.url, page.requested_url) if u]
    metadata = _Metadata(tree, page.url)
    title = _title(page, tree, meta, articles_ld, metadata)
    return Article(
        url=page.url,
        canonical_url=canonical,
        source=page.source,
        title=title,
        text=text,
        published_at=_published(page, tree, meta, articles_ld, metadata),
        language=_language(text, title, tree, meta, page.language_hint),
        fetched_at=page.fetched_at,
        content_hash=content_hash(text),
        other_urls=tuple(dict.fromkeys(u for u in others if u != canonical)),
    )


def text_length(text: str) -> float:
    """The length of a text in words: spaced words, plus characters of scripts written without
    spaces (Chinese, Japanese, Thai...) at ``CHARS_PER_WORD`` to the word."""
    unspaced = len(_UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    spaced = [word for word in _UNSPACED.sub(" ", text).split() if _ALNUM.search(word)]
    return len(spaced) + unspaced / CHARS_PER_WORD


def _parse(html: str) -> Any:
    if not html or "<" not in html:
        return None
    try:
        import trafilatura

        tree = trafilatura.load_html(html)
    except (TypeError, ValueError, etree.LxmlError):
        return None
    if tree is None or (tree.find(".//body") is None and tree.tag != "body"):
        return None
    return tree


def _join(base: str, href: str) -> str | None:
    try:
        absolute, _ = urldefrag(urljoin(base, href))
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def _meta(tree: Any) -> dict[str, str]:
    """Map meta property/name/itemprop (lowercased) to content; the first one wins."""
    found: dict[str, str] = {}
    for element in tree.iter("meta"):
        content = (element.get("content") or "").strip()
        if not content:
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = (element.get(attribute) or "").strip().lower()
            if key:
                found.setdefault(key, content)
    return found


def _json_ld_objects(tree: Any) -> Iterator[dict[str, Any]]:
    for script in _JSON_LD(tree):
        try:
            data = json.loads(str(script), strict=False)
        except ValueError:
            continue
        yield from _flatten_json_ld(data)


def _flatten_json_ld(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _flatten_json_ld(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten_json_ld(data["@graph"])


def _is_article_type(value: Any) -> bool:
    types = value if isinstance(value, list) else [value]
    return any(
        isinstance(t, str) and (t.endswith("Article") or t.endswith("Posting") or t == "Report")
        for t in types
    )


def _label_key(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


def _is_block_label(element: Any) -> bool:
    text = element.text_content()
    if len(text) > _LABEL_MAX_CHARS:
        return False
    key = _label_key(text)
    return key in _BLOCK_LABELS or key.startswith(_BLOCK_LABEL_PREFIXES)


def _is_headline_block(element: Any) -> bool:
    """Tell a block of headlines (links, maybe with short summaries) from article prose."""
    if (
        element is None
        or not isinstance(element.tag, str)
        or element.tag in _PROTECTED_TAGS
        or _PROTECTS_ARTICLE(element)
    ):
        return False
    text = " ".join(element.text_content().split())
    if not text:
        return True
    anchors = [" ".join(a.text_content().split()) for a in element.iter("a")]
    linked = sum(len(a) for a in anchors)
    link_share = linked / len(text)
    # Prose with a few inline links stays; a short box of two or more links goes.
    return link_share >= _HEADLINE_LINK_SHARE or (len(anchors) >= 2 and text_length(text) < 60)


def _remove(element: Any) -> None:
    parent = element.getparent()
    if parent is None:
        return
    # Keep the text that follows the element in the document (its tail).
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _prune_headline_blocks(tree: Any) -> None:
    """Remove "latest news"-style blocks, found by class/id name or by their heading."""
    for block in _HEADLINE_BLOCKS(tree):
        if block.getparent() is not None and _is_headline_block(block):
            _remove(block)
    for label in _CANDIDATE_LABELS(tree):
        if label.getparent() is None or not _is_block_label(label):
            continue
        # <section><header><h3>Latest</h3></header><ul>...</ul></section>
        key = _label_key(label.text_content())
        head = label
        while (
            (parent := head.getparent()) is not None
            and parent.tag in ("header", "div", "span", "a")
            and len(parent) == 1
            and _label_key(parent.text_content()) == key
        ):
            head = parent
        container = head.getparent()
        if container is None:
            continue
        first = next((c for c in container if isinstance(c.tag, str)), None)
        if first is head and _is_headline_block(container):
            _remove(container)
            continue
        # A flat layout: the heading, then the lists or link blocks under it.
        followers = []
        follower = head.getnext()
        while follower is not None and isinstance(follower.tag, str):
            if follower.tag in _LABEL_TAGS or not _is_headline_block(follower):
                break
            followers.append(follower)
            follower = follower.getnext()
        if followers:
            for element in (head, *followers):
                _remove(element)


def _anchor_index(tree: Any) -> dict[str, list[str]]:
    """Map the first word of each link text (casefolded) to the link texts, longest first."""
    index: dict[str, list[str]] = {}
    # Links within the page (a heading's permalink, a table of contents) are not headlines.
    link_texts = {
        " ".join(a.text_content().split())
        for a in tree.iter("a")
        if not (a.get("href") or "#").lstrip().startswith("#")
    }
    for text in link_texts:
        words = _NON_WORD.sub(" ", text.casefold()).split()
        if words:
            index.setdefault(words[0], []).append(text)
    for texts in index.values():
        texts.sort(key=len, reverse=True)
    return index


def _drop_link_lines(text: str, anchors: dict[str, list[str]]) -> tuple[str, int]:
    """Drop lines that are only link text, give or take a few words; count the headlines.

    "Read also: <a>headline</a>" lines and headline lists that survived extraction go;
    a paragraph with inline links stays.
    """
    kept: list[str] = []
    headlines = 0
    for line in text.splitlines():
        flat = " ".join(line.split())
        if not flat:
            continue
        words = _NON_WORD.sub(" ", flat.casefold()).split()
        rest = flat
        length = text_length(flat)
        if length <= _LINK_LINE_MAX_WORDS:
            for word in dict.fromkeys(words):
                for anchor in anchors.get(word, ()):
                    if anchor in rest:
                        rest = rest.replace(anchor, " ")
        if rest == flat or text_length(rest) >= 4:
            kept.append(line)
        elif length >= 3:
            headlines += 1
    return "\n".join(kept), headlines


def _first_h1(tree: Any) -> str:
    for path in ("//article//h1", "//main//h1", "//h1"):
        for h1 in tree.xpath(path):
            text = " ".join(h1.text_content().split())
            if text:
                return str(text)
    return ""


def _site_names(meta: dict[str, str], articles_ld: list[dict[str, Any]], url: str) -> set[str]:
    names = {meta.get("og:site_name", ""), meta.get("application-name", "")}
    for obj in articles_ld:
        publisher = obj.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            names.add(publisher["name"])
    domain = registrable_domain(url)
    if domain:
        names.update({domain, domain.split(".")[0]})
    return {_NON_WORD.sub("", n.casefold()) for n in names} - {""}


def _strip_site_suffix(title: str, site_names: set[str]) -> str:
    for separator in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(separator)
        if not found or not head.strip():
            continue
        if _NON_WORD.sub("", tail.casefold()) in site_names:
            return head.strip()
        if separator == " | " and len(tail) <= _TITLE_SUFFIX_MAX and len(head) >= 15:
            return head.strip()
    return title


def _title(
    page: Page,
    tree: Any,
    meta: dict[str, str],
    articles_ld: list[dict[str, Any]],
    metadata: _Metadata,
) -> str:
    """og:title, else the <h1>, else trafilatura's pick (<title>...), without a site suffix."""
    og_title = " ".join(meta.get("og:title", "").split())
    h1 = _first_h1(tree)
    if h1 and not og_title:
        return h1  # a heading on the page carries no site name
    candidates: tuple[Callable[[], str], ...] = (
        lambda: og_title,
        lambda: meta.get("twitter:title", ""),
        lambda: metadata.title,
        lambda: page.feed_title,
    )
    title = next((t for t in (" ".join(c().split()) for c in candidates) if t), "")
    if not any(separator in title for separator in _TITLE_SEPARATORS):
        return title
    names = _site_names(meta, articles_ld, page.url)
    if metadata.sitename:
        names.add(_NON_WORD.sub("", metadata.sitename.casefold()))
    return _strip_site_suffix(title, names)


def _published(
    page: Page,
    tree: Any,
    meta: dict[str, str],
    articles_ld: list[dict[str, Any]],
    metadata: _Metadata,
) -> str | None:
    candidates: list[str] = [meta[key] for key in _PUBLISHED_META if key in meta]
    candidates += [str(v) for v in _ITEMPROP_PUBLISHED(tree)]
    for obj in articles_ld:
        for key in ("datePublished", "dateCreated"):
            if isinstance(obj.get(key), str):
                candidates.append(obj[key])
    candidates += [str(v) for v in _TIME_IN_ARTICLE(tree)]
    candidates += [str(v) for v in _TIME_ANYWHERE(tree)][:1]
    found = next((d for d in map(normalize_date, candidates) if d), None)
    if found is None:  # only now trafilatura's date search, then the feed's date
        found = normalize_date(metadata.date) or normalize_date(page.feed_published)
    return found


class _Metadata:
    """trafilatura's title, date and site name of a page, worked out only when asked.

    Most news pages state these in their own markup (og:title, article:published_time,
    JSON-LD), which is read first; trafilatura's metadata pass also looks for authors,
    licence, categories and tags, and costs more than the main text on a heavy page.
    """

    # Only structural date markup: a full-text date scan finds dates of other events.
    DATE_PARAMS: ClassVar[dict[str, Any]] = {
        "extensive_search": False,
        "original_date": True,
        "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    }

    def __init__(self, tree: Any, url: str) -> None:
        self._tree = tree
        self._url = url or None

    @cached_property
    def _document(self) -> Document:
        from trafilatura.metadata import extract_metadata

        document: Document = extract_metadata(self._tree, self._url, self.DATE_PARAMS)
        return document

    @property
    def title(self) -> str:
        """trafilatura's title (meta tags, <title>, headings)."""
        return self._document.title or ""

    @property
    def date(self) -> str:
        """trafilatura's publication date (htmldate, structural markup only)."""
        return self._document.date or ""

    @property
    def sitename(self) -> str:
        """trafilatura's site name."""
        return self._document.sitename or ""


@cache
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(_LANGUAGES))
    return identifier


def _language_code(value: str | None) -> str | None:
    code = re.split(r"[-_]", (value or "").strip().lower(), maxsplit=1)[0]
    code = {"kz": "kk", "rus": "ru", "eng": "en", "kaz": "kk"}.get(code, code)
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _language(text: str, title: str, tree: Any, meta: dict[str, str], hint: str) -> str | None:
    declared = (
        _language_code(tree.get("lang"))
        or _language_code(tree.get("{http://www.w3.org/XML/1998/namespace}lang"))
        or _language_code(meta.get("og:locale"))
        or _language_code(meta.get("content-language"))
        or _language_code(hint)
    )
    sample = f"{title}\n{text}"
    if declared and _agrees(sample, declared):
        return declared
    return detect_language(sample, declared)


# A declared language is taken when the opening of the text reads as it: identification
# costs about 4 µs a character, so this look at 600 spares the full sample's 5,000.
_AGREEMENT_CHARS = 600


def _agrees(sample: str, declared: str) -> bool:
    """Whether the text's opening reads as the language the page (or its feed) declares."""
    return detect_language(sample[:_AGREEMENT_CHARS], min_chars=0) == declared


def detect_language(
    sample: str, declared: str | None = None, *, min_chars: int = _LANGID_MIN_CHARS
) -> str:
    """The language of a text: Kazakh by its own letters, Chinese, Japanese, Arabic, Persian,
    Urdu and Uyghur by their scripts' letters, else the identifier's guess when the text has
    ``min_chars`` and the guess is confident, else ``declared`` when given."""
    sample = sample[:_LANGID_MAX_CHARS]
    by_script = _script_language(sample)
    if by_script is not None:
        return by_script
    cyrillic = len(_CYRILLIC.findall(sample))
    kazakh_share = sum(c in _KAZAKH_LETTERS for c in sample) / cyrillic if cyrillic else 0.0
    if cyrillic >= 50 and kazakh_share >= _KAZAKH_SURE_SHARE:
        return "kk"
    ranking = _identifier().rank(sample)
    detected, confidence = ranking[0]
    if detected == "kk" and kazakh_share < _KAZAKH_MIN_SHARE:
        # Without its own letters it is Russian (or a neighbour) the identifier misread.
        detected, confidence = next((r for r in ranking if r[0] != "kk"), ranking[0])
    if len(sample) >= min_chars and confidence >= _LANGID_MIN_CONFIDENCE:
        return str(detected)
    return _language_code(declared) or str(detected)


def _script_language(sample: str) -> str | None:
    """The language CJK or Arabic-script letters say a text is in, when most letters are theirs.

    Kana is only Japanese (Japanese prose has kana between its Han characters); Han alone is
    Chinese. Arabic script: Uyghur by its own vowel letters, Urdu by its retroflex letters,
    Persian when its ی and ک outnumber Arabic's ي ك ة ى, else Arabic.
    """
    letters = len(_LETTER.findall(sample))
    if letters < _SCRIPT_MIN_LETTERS:
        return None
    han = len(_HAN.findall(sample))
    kana = len(_KANA.findall(sample))
    if han + kana > letters / 2:
        return "ja" if kana >= max(3, (han + kana) // 10) else "zh"
    arabic = _ARABIC.findall(sample)
    if len(arabic) <= letters / 2:
        return None
    counts = {
        name: sum(c in table for c in arabic)
        for name, table in (
            ("ug", _UYGHUR_LETTERS),
            ("ur", _URDU_LETTERS),
            ("fa", _PERSIAN_LETTERS),
            ("ar", _ARABIC_LETTERS),
        )
    }
    if counts["ug"] >= max(2, len(arabic) // 50):
        return "ug"
    if counts["ur"] >= max(2, len(arabic) // 100):
        return "ur"
    return "fa" if counts["fa"] > counts["ar"] else "ar"


def _canonical_url(page_url: str, tree: Any, meta: dict[str, str]) -> str:
    """The page's own canonical (rel=canonical, then og:url) when on the same site, else its URL."""
    candidates: list[str] = []
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            candidates.append(link.get("href"))
    if meta.get("og:url"):
        candidates.append(meta["og:url"])
    page_path = urlsplit(canonicalize(page_url)).path
    for candidate in candidates:
        absolute = _join(page_url, candidate.strip())
        if not absolute or not same_site(absolute, page_url):
            continue
        canonical = canonicalize(absolute)
        # A CMS that points every page's canonical at the home page is wrong, not telling.
        if urlsplit(canonical).path in ("", "/") and page_path not in ("", "/"):
            continue
        return canonical
    return canonicalize(page_url)
