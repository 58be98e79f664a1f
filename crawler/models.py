"""Plain data passed between the pure stages: what was fetched, extracted and matched."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    """A fetched HTML page, as the crawl hands it to ingest (also the Redis item shape)."""

    source: str
    url: str  # the final URL after redirects
    html: str
    requested_url: str = ""
    fetched_at: str = ""
    # What a feed entry said about the page, used where the page itself is silent.
    feed_title: str = ""
    feed_published: str = ""
    language_hint: str = ""
    # The raw response, kept as evidence (a WARC record) when the article has a hit.
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()  # (name, value) pairs as received
    body: bytes = b""
    # A fetch of a stored article (a revisit): its id, and what became of the request. A
    # revisit answered 304, 404 or 410 comes with that status and no html; one that failed
    # for now (5xx, a timeout) with ``error`` set.
    revisit_of: int = 0
    error: str = ""

    def header(self, name: str) -> str:
        """The first value of a response header ('' if absent); names compare case-blind."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), "")


@dataclass(frozen=True)
class Article:
    """An extracted article: main text and metadata, ready to match and store."""

    url: str
    canonical_url: str
    source: str
    title: str
    text: str
    published_at: str | None = None
    language: str | None = None
    fetched_at: str = ""
    content_hash: str = ""
    other_urls: tuple[str, ...] = field(default=())
    # The response's validators, sent back when the article is fetched again.
    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class Hit:
    """One watch found in one text, with what matched and why."""

    watch_id: str
    matched: str  # the original text of the mention
    start: int  # character span of the mention in the text
    end: int
    snippet: str  # about 200 characters around the mention
    confidence: float  # 0..1
    reason: str  # e.g. "alias 'Айман Умарова'", "case query"
    # How it was found: name, alias, spelling, inflection, transliteration, patronymic,
    # name order, initials, typo, surname+context, surname alone or case.
    variant: str = ""
    # Every mention of the watch in the text, as character spans in text order: the
    # full-name ones and the family name alone after the full name has appeared
    # ("Aiman Umarova ... Umarova said"), for counts and highlighting.
    mentions: tuple[tuple[int, int], ...] = ()
    # For a watch with redact = true: the article's title with every form of the name
    # replaced by the watch id, for the channels (set by the ingest stage).
    hidden_title: str = ""
    # For a watch with redact = true: the article's URL names the watch (a slug such as
    # ".../serikzhan-bilash-detained"), so channels get the desk's link instead (ingest).
    url_names_watch: bool = False
