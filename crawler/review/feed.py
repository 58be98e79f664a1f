"""An Atom 1.0 feed of a watch's relevant hits, built with ElementTree (which escapes)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from crawler.review.render import safe_href

ATOM = "http://www.w3.org/2005/Atom"
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def atom_feed(
    *,
    title: str,
    feed_id: str,
    feed_url: str,
    page_url: str,
    entries: Iterable[dict[str, Any]],
    empty_updated: str,
) -> bytes:
    """The feed document. Each entry row carries ``id_url`` (its permanent id) and
    ``desk_url`` (the desk's page for the hit: the alternate link when the article's own
    URL is not a usable http(s) link); ``empty_updated`` dates a feed with no entry."""
    ET.register_namespace("", ATOM)
    rows = list(entries)
    root = ET.Element(f"{{{ATOM}}}feed")
    _text(root, "title", title)
    _text(root, "id", feed_id)
    _text(root, "updated", max((_updated(row) for row in rows), default=empty_updated))
    ET.SubElement(root, f"{{{ATOM}}}link", rel="self", href=feed_url)
    ET.SubElement(root, f"{{{ATOM}}}link", rel="alternate", href=page_url)
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _text(author, "name", "newswatch review desk")
    for row in rows:
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        _text(entry, "title", row.get("title") or row.get("url") or "(untitled)")
        _text(entry, "id", row["id_url"])
        _text(entry, "updated", _updated(row))
        if row.get("published_at"):
            _text(entry, "published", row["published_at"])
        href = safe_href(row.get("url")) or row["desk_url"]
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=href)
        if href != row["desk_url"]:
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="related", href=row["desk_url"])
        summary = f"{row.get('source') or ''}: {row.get('snippet') or ''}"
        if row.get("note"):
            summary += f"\n\nNote: {row['note']}"
        _text(entry, "summary", summary).set("type", "text")
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = NOT_XML.sub("", text)  # control characters are not allowed in XML
    return element


def _updated(row: dict[str, Any]) -> str:
    """When the entry last changed: its verdict, else when the hit was found."""
    return str(row.get("reviewed_at") or row["created_at"])
