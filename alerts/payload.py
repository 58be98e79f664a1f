"""What an alert says (the message, the webhook payload) and the errors a channel raises.

The message is read from the database when the alert is sent, not when it is
queued, so ``also_reported_by`` lists every article the story has gathered by
then. Channels receive an ``AlertMessage`` and know nothing of SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import sqlite_utils

from crawler.config import Config

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

    def payload(self) -> dict[str, Any]:
        """The webhook body, exactly as the contract in SPEC.md names it."""
        return {
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


class Sender(Protocol):
    """What every channel object is: ``send`` raises a ``DeliveryError`` on failure."""

    def send(self, message: AlertMessage) -> None:
        """Deliver one alert, or raise ``DeliveryError``."""

    def close(self) -> None:
        """Release connections; the object is not used afterwards."""


class MissingAlertData(LookupError):
    """The hit or article behind an alert row is no longer in the database."""


def load_message(db: sqlite_utils.Database, alert: dict[str, Any], config: Config) -> AlertMessage:
    """Build the message for one ``alerts`` row from the hit, article and story it points at."""
    hit = None
    if alert.get("hit_id") is not None:
        hit = db.execute(
            "SELECT article_id, matched, snippet, confidence, created_at FROM hits WHERE id = ?",
            [alert["hit_id"]],
        ).fetchone()
    if hit is None:
        # A row queued without hit_id (or whose hit was removed): the story's first hit.
        hit = db.execute(
            "SELECT article_id, matched, snippet, confidence, created_at FROM hits "
            "WHERE watch_id = ? AND story_id IS ? ORDER BY id LIMIT 1",
            [alert["watch_id"], alert["story_id"]],
        ).fetchone()
    if hit is None:
        raise MissingAlertData("the hit behind this alert is no longer in the database")
    article_id, matched, snippet, confidence, hit_created_at = hit
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
                "SELECT COALESCE(url, canonical_url) FROM articles "
                "WHERE story_id = ? AND id != ? ORDER BY COALESCE(published_at, fetched_at), id "
                "LIMIT ?",
                [story_id, article_id, MAX_ALSO_REPORTED],
            ).fetchall()
        ]
    names = {watch.id: watch.label for watch in config.watches}
    return AlertMessage(
        id=alert["idempotency_key"],
        timestamp=alert.get("created_at") or hit_created_at or "",
        watch_id=alert["watch_id"],
        watch_name=names.get(alert["watch_id"], alert["watch_id"]),
        story_id=story_id,
        url=url or canonical_url,
        title=title or "",
        source=source or "",
        published_at=published_at,
        language=language,
        matched=matched or "",
        snippet=snippet or "",
        confidence=confidence,
        also_reported_by=tuple(others),
    )


def secret_forms(secrets: Iterable[str]) -> list[str]:
    """Every string that would reveal a secret: the value and, for a URL, its path and query."""
    forms: set[str] = set()
    for value in secrets:
        if not value:
            continue
        forms.add(value)
        parts = urlsplit(value)
        if parts.scheme and parts.netloc:
            # Slack and most webhook URLs carry their token in the path.
            for piece in (parts.path, parts.query, parts.netloc.rpartition("@")[0]):
                if len(piece) > 3 and piece != "/":
                    forms.add(piece)
    # Longest first, so a URL is replaced whole before its path is.
    return sorted(forms, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``[redacted]``."""
    for form in secret_forms(secrets):
        text = text.replace(form, "[redacted]")
    return text
