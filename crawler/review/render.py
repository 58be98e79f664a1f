"""Turning scraped text into safe HTML for the desk: escape first, then highlight.

Every string that came from a crawled page (headline, snippet, URL, source
error) is untrusted. Templates escape what they print; the helpers here build
the few fragments that carry markup (a highlighted mention, FTS matches) from
escaped pieces, and refuse links that are not http(s).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from .queries import MARK_END, MARK_START

MARK_OPEN, MARK_CLOSE = Markup("<mark>"), Markup("</mark>")


def highlight(text: str | None, mention: str | None) -> Markup:
    """``text`` escaped, with the first occurrence of ``mention`` (any case) in <mark>."""
    text = text or ""
    if mention:
        found = re.search(re.escape(mention), text, re.IGNORECASE)
        if found:
            start, end = found.span()
            return (
                escape(text[:start])
                + MARK_OPEN
                + escape(text[start:end])
                + MARK_CLOSE
                + escape(text[end:])
            )
    return escape(text)


def marked(text: str | None) -> Markup:
    """Text carrying FTS5 match markers, escaped, with the markers turned into <mark>."""
    escaped = str(escape(text or ""))
    return Markup(escaped.replace(MARK_START, str(MARK_OPEN)).replace(MARK_END, str(MARK_CLOSE)))


def safe_href(url: str | None) -> str | None:
    """The URL if it is http(s), else None (no javascript:, data: or relative links)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def day(moment: str | None) -> str:
    """An ISO 8601 time as 'YYYY-MM-DD HH:MM' (UTC), or '' when unknown."""
    if not moment:
        return ""
    text = moment.replace("T", " ").removesuffix("Z")
    return text[:16] if len(text) >= 16 else text[:10]


def percent(value: float | None) -> str:
    """A share as a whole percentage, or an en dash before there is anything to count."""
    return "–" if value is None else f"{round(value * 100)}%"
