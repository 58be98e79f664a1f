"""The streaming sitemap reader (crawler/extraction/sitemaps.py): size and entry caps, laziness."""

from __future__ import annotations

import gzip
import zlib

import pytest

from crawler.extraction.sitemaps import MAX_ENTRIES, Sitemap, SitemapEntry, SitemapError, TooBig
from tests.conftest import WEB_ROOT

URLSET = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'


def urlset(count: int) -> bytes:
    entries = b"".join(b"<url><loc>https://a.kz/%d</loc></url>" % n for n in range(count))
    return URLSET + entries + b"</urlset>"


def gzip_stream(*pieces: bytes, repeat_last: int = 1) -> bytes:
    """Gzip ``pieces``, the last one ``repeat_last`` times, without building the plain text."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [compressor.compress(piece) for piece in pieces[:-1]]
    out += [compressor.compress(pieces[-1]) for _ in range(repeat_last)]
    return b"".join(out) + compressor.flush()


def test_google_news_fields_and_index_entries() -> None:
    news = Sitemap((WEB_ROOT / "news1" / "sitemap-news.xml").read_bytes(), 0)
    assert news.kind == "urlset"
    first = next(iter(news))
    assert first == SitemapEntry(
        loc="{{BASE}}/news1/news/2026/11/press-freedom-report.html",
        published="2026-11-19T13:10:00+00:00",
        title="Press freedom report records rise in cases against bloggers",
    )
    index = Sitemap(gzip.compress((WEB_ROOT / "news1" / "sitemap.xml").read_bytes()), 10_000)
    assert index.kind == "sitemapindex"
    assert [entry.loc.rsplit("/", 1)[1] for entry in index] == [
        "sitemap-news.xml",
        "sitemap-pages.xml",
    ]
    assert not index.truncated


def test_a_bomb_stops_at_the_size_limit_not_at_its_end() -> None:
    # 64 MiB of spaces after the root element, about 64 KB gzipped.
    bomb = gzip_stream(URLSET, b" " * (1 << 20), repeat_last=64)
    sitemap = Sitemap(bomb, 5 * 1024 * 1024)
    with pytest.raises(TooBig, match=r"^too big: decompresses to over max_page_bytes \(5242880\)$"):
        list(sitemap)
    assert sitemap.inflated < 6 * 1024 * 1024
    # No root element at all (zeros): finding the kind hits the limit too.
    with pytest.raises(TooBig):
        _ = Sitemap(gzip_stream(b"\0" * (1 << 20), repeat_last=2), 1024 * 1024).kind


def test_at_most_50000_entries_are_read() -> None:
    sitemap = Sitemap(gzip.compress(urlset(MAX_ENTRIES + 10), 1), 0)
    assert sum(1 for _ in sitemap) == MAX_ENTRIES
    assert sitemap.truncated
    exact = Sitemap(urlset(MAX_ENTRIES), 0)
    assert sum(1 for _ in exact) == MAX_ENTRIES and not exact.truncated


def test_stopping_early_leaves_the_rest_compressed() -> None:
    sitemap = Sitemap(gzip.compress(urlset(200_000)), 0)
    entries = iter(sitemap)
    assert [next(entries).loc for _ in range(3)] == [f"https://a.kz/{n}" for n in range(3)]
    assert sitemap.inflated <= 64 * 1024  # of about 7.5 MB


def test_damaged_and_foreign_bodies() -> None:
    whole = gzip.compress(urlset(40))
    assert len(list(Sitemap(whole[:-30], 0))) > 30  # a cut tail keeps what inflated
    with pytest.raises(SitemapError, match="not valid gzip data"):
        _ = Sitemap(b"\x1f\x8b\x08 not really gzip", 0).kind
    assert Sitemap(b"<!DOCTYPE html><html><body><p>Hi</p></body></html>", 0).kind == "html"
    assert Sitemap(b"", 0).kind == ""
    assert list(Sitemap(URLSET + b"<url><lastmod>2026</lastmod></url></urlset>", 0)) == []
