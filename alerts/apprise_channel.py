"""The Apprise channel: Telegram, Matrix, Signal, Teams and the rest through one Apprise URL.

The URL (``url_env``) is a secret: it carries tokens. Apprise's own retries
are switched off (``retry = 0`` on every service) and redirects are not
followed, so the outbox alone decides when to try again. The body goes as
plain text (``NotifyFormat.TEXT``): Apprise escapes it for services that
render Markdown or HTML, so a headline cannot format or mention. Apprise
does not say why a service failed in a way worth classifying, so a failure
is retried with backoff (and is dead after ``max_attempts``); a timeout
makes the channel unreachable for the rest of the run.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import apprise

from alerts.payload import AlertMessage, ChannelUnreachable, Notice, RetryableError, web_link
from alerts.redaction import add_log_secrets, redact
from crawler.config import AppriseOptions, Channel

BODY_LIMIT = 3500  # characters; under Telegram's 4,096 with room for Apprise's own framing
SNIPPET_LIMIT = 600


@contextmanager
def _quiet_imports() -> Iterator[None]:
    """Apprise loads plugins lazily; some import ``imghdr``, deprecated since Python 3.11."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        yield


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render(message: AlertMessage) -> tuple[str, str]:
    """``(title, body)`` in plain text for one alert."""
    updated = " (updated article)" if message.updated_at else ""
    title = _clip(f"newswatch: {message.watch_name}{updated}", 250)
    link = web_link(message.url)  # a service may linkify it: web links only
    lines = [_clip(message.title or link or "(untitled)", 500), *([link] if link else [])]
    origin = " · ".join(p for p in (message.source, (message.published_at or "")[:10]) if p)
    if origin:
        lines.append(_clip(origin, 200))
    if message.snippet:
        lines.append("“" + _clip(message.snippet, SNIPPET_LIMIT) + "”")
    others = len(message.also_reported_by)
    if others:
        lines.append(f"also reported by {others} other article{'s' if others != 1 else ''}")
    return title, _clip_body("\n".join(lines))


def _clip_body(body: str) -> str:
    return body if len(body) <= BODY_LIMIT else body[: BODY_LIMIT - 1] + "…"


class AppriseChannel:
    """Sends through one Apprise URL (which may name several services)."""

    kind = "apprise"

    def __init__(self, channel: Channel) -> None:
        url = channel.secrets.get("url", "")
        if not url:
            raise ValueError(f"channel {channel.id!r}: no URL (its url_env variable is not set)")
        self.id = channel.id
        self._secrets = (url,)
        add_log_secrets(self._secrets)
        self.timeout = channel.options_as(AppriseOptions).timeout
        asset = apprise.AppriseAsset(async_mode=False, http_redirects=False, secure_logging=True)
        asset.default_service_retry = 0
        self._apprise = apprise.Apprise(asset=asset)
        with _quiet_imports():
            added = self._apprise.add(url)
        if not added:
            raise ValueError(
                f"channel {channel.id!r}: the url_env variable does not hold a URL Apprise knows"
            )
        for service in self._apprise:
            service.retry = 0  # the outbox retries, with backoff that outlives this process

    def __repr__(self) -> str:
        return f"AppriseChannel(id={self.id!r})"

    def send(self, message: AlertMessage) -> None:
        """Notify every service behind the URL about one alert."""
        title, body = render(message)
        self._notify(title, body)

    def notify(self, notice: Notice) -> None:
        """Notify every service about a notice."""
        body = _clip_body("\n".join(p for p in (notice.text, web_link(notice.link)) if p))
        self._notify(_clip(notice.title, 250), body)

    def close(self) -> None:
        """Nothing to release (Apprise opens a connection per notification)."""

    def _notify(self, title: str, body: str) -> None:
        with _quiet_imports():
            result: Any = self._apprise.notify(
                body=body,
                title=title,
                body_format=apprise.NotifyFormat.TEXT,
                timeout=self.timeout,
            )
        status = getattr(result, "status", None)
        if bool(result):
            return
        reasons = []
        for entry in getattr(result, "logs", lambda: [])():
            reasons.append(str(getattr(entry, "message", entry)))
        detail = redact("; ".join(reasons)[-300:], self._secrets) or "no detail from Apprise"
        if status == apprise.AppriseResultStatus.TIMEOUT:
            raise ChannelUnreachable(f"timed out: {detail}")
        raise RetryableError(f"Apprise could not deliver: {detail}")
