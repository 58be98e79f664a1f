"""Read a sitemap or sitemap index as a stream: bounded decompression, at most 50,000 entries.

``Sitemap(body, max_bytes)`` never holds the whole document: a gzipped body is
inflated 32 KiB at a time as lxml asks for input, and reading stops with
``TooBig`` once more than ``max_bytes`` have come out (a 1 MB file can inflate
to gigabytes). Iterating yields one ``SitemapEntry`` per ``<url>`` or
``<sitemap>``, up to the protocol's 50,000 (then ``truncated`` is set), and a
caller that has what it needs just stops: the rest is never inflated or parsed.

Exceptions: ``SitemapError`` (its text is a one-line reason), of which
``TooBig`` is one. Entities are never resolved, the network never used.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

__all__ = ["MAX_ENTRIES", "Sitemap", "SitemapEntry", "SitemapError", "TooBig"]

# sitemaps.org: a sitemap lists at most 50,000 URLs, an index at most 50,000 sitemaps.
MAX_ENTRIES = 50_000
_CHUNK = 32 * 1024  # what lxml asks for per read


class SitemapError(Exception):
    """The sitemap cannot be read; ``str()`` is the reason, one line."""


class TooBig(SitemapError):
    """A gzipped sitemap inflates to more than the size limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"too big: decompresses to over max_page_bytes ({limit})")
        self.limit = limit


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` or ``<sitemap>``: its loc, lastmod and Google News date and title."""

    loc: str
    lastmod: str = ""
    published: str = ""  # news:publication_date
    title: str = ""  # news:title

    @property
    def date(self) -> str:
        """The date the entry sorts by: its publication date, else its lastmod, else ""."""
        return self.published or self.lastmod


class _Inflating(io.RawIOBase):
    """A gzip body read as a file, inflated a chunk per read; ``TooBig`` past ``limit``."""

    def __init__(self, body: bytes, limit: int) -> None:
        super().__init__()
        self._gzip = gzip.GzipFile(fileobj=io.BytesIO(body))
        self.limit = limit
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = _CHUNK if size is None or size < 0 else min(size, _CHUNK)
        try:
            chunk = self._gzip.read1(size)
        except (OSError, EOFError, zlib.error, struct.error):
            if self.inflated:
                return b""  # a damaged tail: keep what came before (as Scrapy's gunzip does)
            raise SitemapError("not valid gzip data") from None
        self.inflated += len(chunk)
        if self.limit and self.inflated > self.limit:
            raise TooBig(self.limit)
        return chunk


class Sitemap:
    """A sitemap (``kind`` "urlset") or an index ("sitemapindex"), read lazily.

    ``kind`` is the root element's local name ("" when there is none); finding it
    reads up to the first entry. ``max_bytes`` bounds the inflated size of a
    gzipped body (0: no bound); a plain body is read as it is.
    """

    def __init__(self, body: bytes, max_bytes: int, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.truncated = False  # more entries than max_entries; the rest were not read
        self.entries_read = 0
        self._input: _Inflating | io.BytesIO = (
            _Inflating(body, max_bytes) if body[:2] == b"\x1f\x8b" else io.BytesIO(body)
        )
        # Only entries reach Python (lxml filters the tags): 4-5 us per entry, not 18.
        self._events = etree.iterparse(
            self._input,
            events=("end",),
            tag=("{*}url", "{*}sitemap"),
            recover=True,
            resolve_entities=False,
            remove_comments=True,
            no_network=True,
            huge_tree=False,
        )
        self._kind: str | None = None
        self._pending: etree._Element | None = None  # the first entry, read to find the root

    @property
    def inflated(self) -> int:
        """Bytes inflated so far (0 for a body that was not gzipped)."""
        return self._input.inflated if isinstance(self._input, _Inflating) else 0

    @property
    def kind(self) -> str:
        """The root element's local name; ``SitemapError`` if the body cannot be read."""
        if self._kind is None:
            self._pending = self._next()
            if self._pending is not None:
                root = self._pending.getroottree().getroot()
            else:  # no entries at all: the whole (bounded) document has been parsed
                root = self._events.root
            self._kind = _name(root) if root is not None else ""
        return self._kind

    def __iter__(self) -> Iterator[SitemapEntry]:
        """The entries in document order, up to ``max_entries``; ``SitemapError`` mid-way."""
        if not self.kind:
            return
        element, self._pending = self._pending, None
        if element is None:
            element = self._next()
        while element is not None:
            if self.entries_read >= self.max_entries:
                self.truncated = True
                return
            entry = _entry(element)
            _forget(element)
            if entry is not None:
                self.entries_read += 1
                yield entry
            element = self._next()

    def _next(self) -> etree._Element | None:
        try:
            return next(self._events)[1]
        except (StopIteration, etree.XMLSyntaxError):
            return None  # recover=True already gave what parsed


# Elements inside an entry that are kept (the first of each), and the field each fills.
_FIELDS = {"loc": "loc", "lastmod": "lastmod", "publication_date": "published", "title": "title"}


def _name(element: etree._Element) -> str:
    tag = element.tag
    return tag[tag.rfind("}") + 1 :] if isinstance(tag, str) else ""


def _entry(element: etree._Element) -> SitemapEntry | None:
    fields: dict[str, str] = {}
    for child in element.iterdescendants():
        key = _FIELDS.get(_name(child))
        if key and key not in fields:
            fields[key] = (child.text or "").strip()
    return SitemapEntry(**fields) if fields.get("loc") else None


def _forget(element: etree._Element) -> None:
    """Drop a finished entry and the ones before it, so the tree never grows."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
