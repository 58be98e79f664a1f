"""Turning scraped text into safe HTML for the desk: escape first, then highlight.

Every string that came from a crawled page (headline, snippet, URL, source
error) is untrusted. Templates escape what they print; the helpers here build
the few fragments that carry markup (a highlighted mention, FTS matches) from
escaped pieces, and refuse links that are not http(s).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from crawler.review.queries import MARK_END, MARK_START

MARK_OPEN, MARK_CLOSE = Markup("<mark>"), Markup("</mark>")


def highlight(text: str | None, mention: str | None) -> Markup:
    """``text`` escaped, with the first occurrence of ``mention`` (any case) in <mark>.

    Whitespace may differ (a case query's span can run from the headline into the text,
    across the blank line between them, while the snippet has one space); a mention
    the snippet holds only part of has that part marked, the longest run of its words
    from either end.
    """
    text = text or ""
    span = _find_mention(text, mention or "")
    if span is None:
        return escape(text)
    start, end = span
    return (
        escape(text[:start]) + MARK_OPEN + escape(text[start:end]) + MARK_CLOSE + escape(text[end:])
    )


def _find_mention(text: str, mention: str) -> tuple[int, int] | None:
    words = mention.split()
    for size in range(len(words), 0, -1):
        for first in dict.fromkeys((0, len(words) - size)):  # a prefix, then a suffix
            part = words[first : first + size]
            found = re.search(r"\s+".join(map(re.escape, part)), text, re.IGNORECASE)
            # A lone short word is too weak a sign that this is the mention.
            if found and (size == len(words) or len(found.group()) >= 4):
                return found.span()
    return None


def text_dir(text: str | None) -> str:
    """The direction to show ``text`` in: "rtl" when most of its strong letters are written
    right to left (Arabic, Persian, Uyghur, Hebrew), else "ltr". The text stays as written."""
    rtl = ltr = 0
    for char in text or "":
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            rtl += 1
        elif kind == "L":
            ltr += 1
    return "rtl" if rtl > ltr else "ltr"


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


@dataclass(frozen=True)
class DiffLine:
    """One line of a text diff: ``kind`` is "same", "added", "removed" or "changed"; ``html``
    is the escaped line, a changed one with the words taken out in <del> and put in in <ins>."""

    kind: str
    html: Markup


def text_diff(old: str | None, new: str | None, context: int = 1) -> list[DiffLine]:
    """What changed from ``old`` to ``new``, line by line (paragraphs, in article text), with
    ``context`` unchanged lines around each change; a gap is a "gap" line."""
    before, after = (old or "").splitlines(), (new or "").splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("gap", Markup("…")))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(DiffLine("same", escape(line)) for line in before[i1:i2])
            elif tag == "replace" and i2 - i1 == j2 - j1:
                lines.extend(
                    DiffLine("changed", _word_diff(a, b))
                    for a, b in zip(before[i1:i2], after[j1:j2], strict=True)
                )
            else:
                lines.extend(DiffLine("removed", escape(line)) for line in before[i1:i2])
                lines.extend(DiffLine("added", escape(line)) for line in after[j1:j2])
    return lines


def _word_diff(old: str, new: str) -> Markup:
    """One changed line: the words it lost in <del>, those it gained in <ins>."""
    before, after = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    out = Markup("")
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += escape("".join(before[i1:i2]))
            continue
        if i2 > i1:
            out += Markup("<del>") + escape("".join(before[i1:i2])) + Markup("</del>")
        if j2 > j1:
            out += Markup("<ins>") + escape("".join(after[j1:j2])) + Markup("</ins>")
    return out
