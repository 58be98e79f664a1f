"""The Slack channel: post an alert to a Slack incoming webhook as Block Kit with a text fallback.

Every piece of scraped text is escaped (``&``, ``<``, ``>``), so a headline
saying ``<!channel>`` shows those characters instead of pinging a channel,
and no article can smuggle a link or a mention into the message.
"""

from __future__ import annotations

import json
from typing import Any

from .payload import AlertMessage, PermanentError
from .webhook import HttpChannel

SECTION_LIMIT = 3000  # characters of mrkdwn text Slack accepts in one section block
FALLBACK_LIMIT = 3000  # the notification text; Slack allows more but nobody reads it
TITLE_LIMIT = 300
# Incoming-webhook error bodies that no retry will fix.
PERMANENT_ERRORS = {
    "invalid_payload",
    "invalid_blocks",
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


def _link(url: str, title: str) -> str:
    # In <url|label> a '|' or '>' in the URL would end it early; percent-encode them.
    safe_url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    safe_url = safe_url.replace("&", "&amp;")
    label = _escaped(title or url, TITLE_LIMIT)
    return f"<{safe_url}|{label}>"


def render(message: AlertMessage) -> dict[str, Any]:
    """The JSON body for Slack: a ``text`` fallback and ``blocks``."""
    watch = _escaped(message.watch_name, 200)
    when = (message.published_at or "")[:10]
    origin = " · ".join(part for part in (_escaped(message.source, 200), when) if part)
    headline = f"*{watch}*\n{_link(message.url, message.title)}"
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
        f"newswatch: {message.watch_name} in {message.title or message.url}", FALLBACK_LIMIT
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
    # Parts are clipped already; this is the last guard on Slack's hard limit.
    return text if len(text) <= SECTION_LIMIT else text[:SECTION_LIMIT]


class SlackChannel(HttpChannel):
    """Posts alerts to a Slack incoming webhook (``url_env``); Slack answers 200 ``ok``."""

    kind = "slack"

    def send(self, message: AlertMessage) -> None:
        """POST one alert; raise ``DeliveryError`` (permanent for Slack's configuration errors)."""
        body = json.dumps(render(message), ensure_ascii=False).encode()
        response = self.post_json(body, {})
        error = self.error_for(response)
        if error is None:
            return
        code = response.text.strip()
        if error.retryable and code in PERMANENT_ERRORS:
            raise PermanentError(f"HTTP {response.status_code}: {code}")
        raise error
