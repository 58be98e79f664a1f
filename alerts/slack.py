"""The Slack channel: post an alert to a Slack incoming webhook as Block Kit with a text fallback.

Every piece of scraped text is escaped (``&``, ``<``, ``>``), so a headline
saying ``<!channel>`` shows those characters instead of pinging a channel,
and no article can smuggle a link or a mention into the message. Slack takes
about one message per second per webhook: ``min_interval`` tells the outbox
to pace this channel. Slack answers errors as a short text body; those that
mean the webhook or its channel is gone disable the channel, those about one
message make that alert dead, the rest are retried.
"""

from __future__ import annotations

import json
from typing import Any

from alerts.payload import (
    AlertMessage,
    ChannelDisabled,
    DeliveryError,
    Notice,
    PermanentError,
    web_link,
)
from alerts.webhook import HttpChannel

SECTION_LIMIT = 3000  # characters of mrkdwn text Slack accepts in one section block
FALLBACK_LIMIT = 3000  # the notification text; Slack allows more but nobody reads it
TITLE_LIMIT = 300
MIN_INTERVAL = 1.0  # seconds between messages to one webhook (Slack's rate limit)
# Incoming-webhook error bodies meaning the webhook or its channel is gone: no message
# can get through until someone fixes the channel.
CHANNEL_ERRORS = {
    "invalid_token",
    "user_not_found",
    "channel_not_found",
    "channel_is_archived",
    "action_prohibited",
    "posting_to_general_channel_denied",
    "no_service",
    "no_service_id",
    "no_team",
    "team_disabled",
    "invalid_team",
}
# Error bodies about this one message: no retry will fix it.
MESSAGE_ERRORS = {"invalid_payload", "invalid_blocks", "too_many_attachments", "no_text"}


def escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped(text: str, limit: int) -> str:
    """Whitespace collapsed, escaped, and clipped to ``limit`` without splitting an entity."""
    out = escape(" ".join(text.split()))
    if len(out) <= limit:
        return out
    cut = out[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


URL_LIMIT = 2000  # characters of a link's URL; a longer one is shown as its title alone
# Characters a link's URL may not carry as they are: '|' and '>' would end <url|text> early,
# '<' start another, and spaces, quotes and control characters break it in Slack's clients.
_URL_ESCAPES = {ch: f"%{ord(ch):02X}" for ch in ' "\'<>|`'}


def _slack_url(url: str) -> str:
    """The URL with the characters that break a Slack link percent-encoded, ``&`` escaped."""
    out = "".join(
        _URL_ESCAPES.get(ch) or (f"%{ord(ch):02X}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
        for ch in url.strip()
    )
    return out.replace("&", "&amp;")


def _link(url: str, title: str) -> str:
    """``<url|title>`` for a web link; for any other scheme, or a URL too long to send whole
    (it would be cut inside the link), the title as plain text."""
    label = _escaped(title or url, TITLE_LIMIT)
    if not web_link(url):
        return label
    safe_url = _slack_url(url)
    if len(safe_url) > URL_LIMIT:
        return label
    return f"<{safe_url}|{label}>"


def render(message: AlertMessage) -> dict[str, Any]:
    """The JSON body for Slack: a ``text`` fallback and ``blocks``."""
    watch = _escaped(message.watch_name, 200)
    when = (message.published_at or "")[:10]
    origin = " · ".join(part for part in (_escaped(message.source, 200), when) if part)
    updated = " in an updated article" if message.updated_at else ""
    headline = f"*{watch}*{updated}\n{_link(message.url, message.title)}"
    if origin:
        headline += f"\n{origin}"
    snippet = _escaped(message.snippet, SECTION_LIMIT - 2) or "(no snippet)"
    others = len(message.also_reported_by)
    context = f"matched: {_escaped(message.matched, 200)}"
    if message.confidence is not None:
        context += f" · confidence {message.confidence:.2f}"
    if others:
        context += f" · also reported by {others} other article{'s' if others != 1 else ''}"
    fallback = _escaped(
        f"newswatch: {message.watch_name} in {'updated article: ' if updated else ''}"
        f"{message.title or web_link(message.url)}",
        FALLBACK_LIMIT,
    )
    return {
        "text": fallback,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _fit(headline)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _fit(f">{snippet}")}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _fit(context)}]},
        ],
    }


def _fit(text: str) -> str:
    """Parts are clipped already; this is the last guard on Slack's hard limit, and it never
    cuts inside a ``<url|text>`` link or an ``&amp;`` entity."""
    if len(text) <= SECTION_LIMIT:
        return text
    cut = text[: SECTION_LIMIT - 1]
    opened = cut.rfind("<")
    if opened > cut.rfind(">"):
        cut = cut[:opened]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def render_notice(notice: Notice) -> dict[str, Any]:
    """A notice (flood summary, source alert) as a Slack body; all of its text escaped."""
    title = _escaped(notice.title, TITLE_LIMIT)
    text = _escaped(notice.text, SECTION_LIMIT - TITLE_LIMIT - 600)
    body = f"*{title}*\n{text}"
    if notice.link:
        body += "\n" + _link(notice.link, notice.link)
    return {
        "text": _escaped(f"newswatch: {notice.title}", FALLBACK_LIMIT),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": _fit(body)}}],
    }


class SlackChannel(HttpChannel):
    """Posts alerts to a Slack incoming webhook (``url_env``); Slack answers 200 ``ok``."""

    kind = "slack"
    min_interval = MIN_INTERVAL

    def send(self, message: AlertMessage) -> None:
        """POST one alert; raise ``DeliveryError`` mapped from Slack's answer."""
        self._post(render(message))

    def notify(self, notice: Notice) -> None:
        """POST a notice."""
        self._post(render_notice(notice))

    def _post(self, payload: dict[str, Any]) -> None:
        response = self.post_json(json.dumps(payload, ensure_ascii=False).encode(), {})
        error = self.error_for(response)
        if error is None:
            return
        raise slack_error(response.status_code, response.text.strip(), error)


def slack_error(status: int, code: str, error: DeliveryError) -> DeliveryError:
    """What Slack's answer means: its error body decides before the status code does."""
    if code in CHANNEL_ERRORS or status in (404, 410):
        return ChannelDisabled(error.detail)
    if code in MESSAGE_ERRORS:
        return PermanentError(error.detail)
    return error
