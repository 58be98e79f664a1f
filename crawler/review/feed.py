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
    *, title: str, feed_url: str, page_url: str, hit_url: str, entries: Iterable[dict[str, Any]]
) -> bytes:
    """The feed document; ``hit_url`` is a template with ``{id}`` for each hit's own page."""
    ET.register_namespace("", ATOM)
    rows = list(entries)
    root = ET.Element(f"{{{ATOM}}}feed")
    _text(root, "title", title)
    _text(root, "id", feed_url)
    updated = max((_updated(row) for row in rows), default="1970-01-01T00:00:00Z")
    _text(root, "updated", updated)
    ET.SubElement(root, f"{{{ATOM}}}link", rel="self", href=feed_url)
    ET.SubElement(root, f"{{{ATOM}}}link", rel="alternate", href=page_url)
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _text(author, "name", "newswatch review desk")
    for row in rows:
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        _text(entry, "title", row.get("title") or row.get("url") or "(untitled)")
        _text(entry, "id", hit_url.format(id=row["id"]))
        _text(entry, "updated", _updated(row))
        if row.get("published_at"):
            _text(entry, "published", row["published_at"])
        href = safe_href(row.get("url"))
        if href:
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=href)
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
    return str(row.get("reviewed_at") or row.get("created_at") or "1970-01-01T00:00:00Z")
