"""What an alert says (message, digest, notice, webhook payload) and the errors a channel raises.

The message is read from the database when the alert is sent, not when it is
queued, so ``also_reported_by`` lists every article the story has gathered by
then. Channels receive an ``AlertMessage`` (one alert), a ``Digest`` (many, by
email) or a ``Notice`` (a flood summary, a source alert) and know nothing of
SQLite. A watch with ``redact = true`` reaches channels with its id in place
of the person's name and without a snippet (``redacted``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import unquote_plus, urljoin, urlsplit

import sqlite_utils

from crawler.config import Config, Watch

EVENT_TYPE = "hit.created"
MAX_ALSO_REPORTED = 100  # a story syndicated everywhere should not make a huge payload


class DeliveryError(Exception):
    """A channel could not deliver an alert.

    ``retryable`` says whether a later attempt may succeed, ``retry_after`` is
    the wait in seconds the receiver asked for (if it did), ``detail`` is a
    short reason safe to store and show: it never holds a URL or a secret.
    """

    def __init__(self, detail: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after


class RetryableError(DeliveryError):
    """The receiver failed for now (408, 5xx); try again after a backoff."""

    def __init__(self, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail, retryable=True, retry_after=retry_after)


class RateLimited(RetryableError):
    """The receiver said 429: wait, and send nothing more to it in this run."""


class ChannelUnreachable(RetryableError):
    """Connection error or timeout: send nothing more to this channel in this run."""


class PermanentError(DeliveryError):
    """No later attempt can succeed (4xx other than 408/429, a redirect, bad setup)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, retryable=False)


class ChannelDisabled(PermanentError):
    """The channel itself is gone or misconfigured: stop using it until someone fixes it.

    HTTP 410, Slack's ``channel_not_found``/``channel_is_archived``/``no_service``,
    a mail server that offers no STARTTLS or refuses the login. The alert that
    met it waits with the channel's other alerts; none of them is lost.
    """


@dataclass(frozen=True)
class AlertMessage:
    """Everything a channel needs to render one alert (plain data, no database)."""

    id: str  # the alert's idempotency key; the webhook-id header
    timestamp: str  # ISO 8601 UTC: when the hit was recorded
    watch_id: str
    watch_name: str
    story_id: int | None
    url: str
    title: str
    source: str
    published_at: str | None
    language: str | None
    matched: str
    snippet: str
    confidence: float | None
    also_reported_by: tuple[str, ...] = ()
    review_url: str = ""  # the review desk, for channels that link to it
    priority: str = "normal"
    # Set when the watch was found only in a changed text of the article: when it changed.
    updated_at: str | None = None

    def payload(self) -> dict[str, Any]:
        """The webhook body, exactly as the contract in SPEC.md names it (``article`` has
        ``updated_at`` too when the hit was found in a changed text)."""
        body = {
            "type": EVENT_TYPE,
            "timestamp": self.timestamp,
            "data": {
                "watch_id": self.watch_id,
                "watch_name": self.watch_name,
                "story_id": self.story_id,
                "article": {
                    "url": self.url,
                    "title": self.title,
                    "source": self.source,
                    "published_at": self.published_at,
                    "language": self.language,
                },
                "matched": self.matched,
                "snippet": self.snippet,
                "confidence": self.confidence,
                "also_reported_by": list(self.also_reported_by),
            },
        }
        if self.updated_at:
            body["data"]["article"]["updated_at"] = self.updated_at  # type: ignore[index]
        return body


@dataclass(frozen=True)
class Notice:
    """A message that is not one alert: a flood summary, a source failing or recovering, an
    article taken down or a mention gone from it (``alerts.removals``).

    ``id`` is stable across retries (the webhook-id, the Message-ID); ``title``
    and ``text`` are plain text, which each channel escapes for itself.
    """

    id: str
    # "alerts.summary" | "source.failing" | "source.recovered" | "article.removed" |
    # "mention.removed"
    type: str
    timestamp: str
    title: str
    text: str
    link: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The webhook body for a notice: same envelope as an alert, another ``type``."""
        return {
            "type": self.type,
            "timestamp": self.timestamp,
            "data": {"title": self.title, "text": self.text, "link": self.link, **self.data},
        }


@dataclass(frozen=True)
class Digest:
    """Many alerts in one email; ``more`` counts the ones beyond those listed."""

    id: str  # derived from the items' keys: a digest re-sent after a crash keeps its Message-ID
    channel: str
    timestamp: str
    items: tuple[AlertMessage, ...]
    more: int = 0
    review_url: str = ""

    @property
    def total(self) -> int:
        """How many alerts the digest covers."""
        return len(self.items) + self.more


class Sender(Protocol):
    """What every channel object is: ``send`` and ``notify`` raise ``DeliveryError`` on failure."""

    def send(self, message: AlertMessage) -> None:
        """Deliver one alert, or raise ``DeliveryError``."""

    def notify(self, notice: Notice) -> None:
        """Deliver a notice (flood summary, source alert), or raise ``DeliveryError``."""

    def close(self) -> None:
        """Release connections; the object is not used afterwards."""


class DigestSender(Sender, Protocol):
    """A channel that can also send many alerts as one digest (email)."""

    def send_digest(self, digest: Digest) -> None:
        """Deliver one digest, or raise ``DeliveryError``."""


class MissingAlertData(LookupError):
    """The hit or article behind an alert row is no longer in the database."""


def load_message(db: sqlite_utils.Database, alert: dict[str, Any], config: Config) -> AlertMessage:
    """Build the message for one ``alerts`` row from the hit, article and story it points at."""
    hit = None
    if alert.get("hit_id") is not None:
        hit = db.execute(
            "SELECT article_id, matched, snippet, confidence, created_at, hidden_title, "
            "article_updated_at, id, url_names_watch FROM hits WHERE id = ?",
            [alert["hit_id"]],
        ).fetchone()
    if hit is None:
        # A row queued without hit_id (or whose hit was removed): the story's first hit.
        hit = db.execute(
            "SELECT article_id, matched, snippet, confidence, created_at, hidden_title, "
            "article_updated_at, id, url_names_watch FROM hits WHERE watch_id = ? "
            "AND story_id IS ? "
            "ORDER BY id LIMIT 1",
            [alert["watch_id"], alert["story_id"]],
        ).fetchone()
    if hit is None:
        raise MissingAlertData("the hit behind this alert is no longer in the database")
    article_id, matched, snippet, confidence, hit_created_at, hidden_title, updated_at = hit[:7]
    hit_id, url_names_watch = hit[7], bool(hit[8])
    article = db.execute(
        "SELECT url, canonical_url, title, source, published_at, language, story_id "
        "FROM articles WHERE id = ?",
        [article_id],
    ).fetchone()
    if article is None:
        raise MissingAlertData("the article behind this alert is no longer in the database")
    url, canonical_url, title, source, published_at, language, article_story = article
    story_id = alert["story_id"] if alert["story_id"] is not None else article_story
    others: list[str] = []
    if story_id is not None:
        others = [
            row[0]
            for row in db.execute(
                "SELECT COALESCE(canonical_url, url) FROM articles "
                "WHERE story_id = ? AND id != ? ORDER BY COALESCE(published_at, fetched_at), id "
                "LIMIT ?",
                [story_id, article_id, MAX_ALSO_REPORTED],
            ).fetchall()
        ]
    watches = {watch.id: watch for watch in config.watches}
    watch = watches.get(alert["watch_id"])
    message = AlertMessage(
        id=alert["idempotency_key"],
        timestamp=alert.get("created_at") or hit_created_at or "",
        watch_id=alert["watch_id"],
        watch_name=watch.label if watch is not None else alert["watch_id"],
        story_id=story_id,
        url=canonical_url or url,
        title=title or "",
        source=source_label(config, source or "", canonical_url or url),
        published_at=published_at,
        language=language,
        matched=matched or "",
        snippet=snippet or "",
        confidence=confidence,
        also_reported_by=tuple(others),
        review_url=config.review_url,
        priority=watch.priority if watch is not None else "normal",
        updated_at=updated_at,
    )
    if watch is not None and watch.redact:
        desk_link = urljoin(config.review_url, f"-/newswatch/hit/{hit_id}")
        return redacted(
            message, watch, hidden_title or "", desk_link=desk_link, url_names=url_names_watch
        )
    return message


def source_label(config: Config, source: str, url: str) -> str:
    """How alerts name an article's source: its name, or "Telegram CHANNEL" for a post
    of a Telegram source (an article its posts led to keeps the source's name)."""
    found = next((item for item in config.sources if item.name == source), None)
    if found is not None and found.telegram and url.startswith("https://t.me/"):
        return f"Telegram {found.telegram}"
    return source


def redacted(
    message: AlertMessage,
    watch: Watch,
    hidden_title: str = "",
    *,
    desk_link: str = "",
    url_names: bool = False,
) -> AlertMessage:
    """The message as a redacted watch's channels get it: id for name, no snippet, and no
    address that spells the name.

    ``hidden_title`` is the headline with every form of the name the matcher
    finds replaced by the id, computed when the hit was stored
    (``hits.hidden_title``); without it (a row stored by hand) the name, its
    aliases and the matched words are replaced as written. When the article's URL
    names the watch (``url_names``: any form the matcher knows, found when the hit was
    stored; or the name or an alias as a slug), the message links to ``desk_link``,
    the desk's page for the hit, instead; other articles' URLs that spell it are left out.
    """
    title = hidden_title or message.title
    names = sorted({watch.name, *watch.aliases, message.matched} - {""}, key=len, reverse=True)
    if watch.kind != "case":
        for name in names:
            title = re.sub(re.escape(name), watch.id, title, flags=re.IGNORECASE)
    spelled = [_slug(name) for name in names if watch.kind != "case" and _slug(name)]

    def names_it(url: str) -> bool:
        parts = urlsplit(url)
        slug = _slug(unquote_plus(f"{parts.path} {parts.query}"))
        return any(f"-{name}-" in f"-{slug}-" for name in spelled)

    url = message.url
    if url_names or names_it(url):
        url = desk_link
    others = tuple(other for other in message.also_reported_by if not names_it(other))
    return replace(
        message,
        watch_name=watch.id,
        title=title,
        matched=watch.id,
        snippet="",
        url=url,
        also_reported_by=others,
    )


def _slug(text: str) -> str:
    """Lowercased words joined by '-': how a name reads in a URL slug."""
    return "-".join(re.findall(r"\w+", text.lower()))


def web_link(url: str) -> str:
    """``url`` if it is an http(s) URL with a host, else "": every channel renders links
    through this, so a scraped ``javascript:``, ``data:`` or ``file:`` URL never becomes one."""
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else ""
