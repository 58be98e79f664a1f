"""What crawl workers push to the item list, and its JSON form.

A worker analyses each page it fetches (extract, match, entities: ``analyse``) and
pushes an ``AnalysedPage``: the page without its HTML, and the raw body only where
the ingest may keep it as evidence (an article with a hit, or a revisit of a stored
one). A Telegram post is matched there too (``analyse_post``), its preview page sent
only with a hit. A channel's reading progress and source events travel as they are.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from crawler.extraction.telegram import Post, Progress, post_article
from crawler.models import Article, Hit, Page
from crawler.run.analysis import Analyser, Analysis
from crawler.run.health import SourceEvent
from crawler.storage.store import Prepared
from crawler.storage.stories import Entities


@dataclass(frozen=True)
class AnalysedPage:
    """A fetched page and what the pure stages made of it on the worker."""

    page: Page
    analysis: Analysis


def _never(url: str) -> bool:
    return False


def _needs_body(analysis: Analysis, known: Callable[[str], bool]) -> bool:
    """Evidence is kept only for an article with a hit: this one has one, or it is stored
    already (and may have had one)."""
    article = analysis.article
    return bool(analysis.hits) or (article is not None and known(article.canonical_url))


def analyse(
    analyser: Analyser, page: Page, known: Callable[[str], bool] = _never
) -> AnalysedPage:
    """Analyse a page on the worker and trim it for the trip: the one place a worker runs
    the pure stages (a process pool can take this call over). ``known``: whether a URL
    leads to a stored article."""
    analysis = analyser.page(page) if page.html else Analysis(None)  # prepared there too
    if page.revisit_of:  # the ingest may need all of it (a Telegram post, a removal)
        return AnalysedPage(page, analysis)
    body = page.body if _needs_body(analysis, known) else b""
    return AnalysedPage(dataclasses.replace(page, html="", body=body), analysis)


@dataclass(frozen=True)
class AnalysedPost:
    """A Telegram post and what matching made of it on the worker."""

    post: Post
    analysis: Analysis


def analyse_post(
    analyser: Analyser, post: Post, known: Callable[[str], bool] = _never
) -> AnalysedPost:
    """Match a post on the worker; the preview page it was read from travels only when it
    may be kept as evidence (as for a page)."""
    article = post_article(post)
    analysis = analyser.article(article) if article is not None else Analysis(None)
    if not _needs_body(analysis, known):
        post = dataclasses.replace(post, body=b"")
    return AnalysedPost(post, analysis)


Item = AnalysedPage | AnalysedPost | Page | Post | Progress | SourceEvent
_KINDS: dict[type[Any], str] = {
    AnalysedPage: "analysed_page",
    AnalysedPost: "analysed_post",
    Page: "page",
    Post: "post",
    Progress: "telegram_progress",
    SourceEvent: "source_event",
}


def _page_data(page: Page | Post) -> dict[str, Any]:
    data = asdict(page)
    data["body"] = base64.b64encode(page.body).decode("ascii")
    return data


def _analysis_data(analysis: Analysis) -> dict[str, Any]:
    found = analysis.entities
    return {
        "article": asdict(analysis.article) if analysis.article else None,
        "hits": [asdict(hit) for hit in analysis.hits],
        "entities": (
            {"words": sorted(found.words), "watches": sorted(found.watches)} if found else None
        ),
        "failure": analysis.failure,
        "prepared": _prepared_data(analysis.prepared),
    }


def _prepared_data(prepared: Prepared | None) -> dict[str, Any] | None:
    if prepared is None:
        return None
    sig = prepared.signature
    return {
        "signature": base64.b64encode(sig.astype("<u4").tobytes()).decode("ascii")
        if sig is not None
        else None,
        "search_words": prepared.words,
        "unspaced": list(prepared.unspaced) if prepared.unspaced is not None else None,
    }


def _prepared(fields: dict[str, Any] | None) -> Prepared | None:
    if fields is None:
        return None
    sig = fields.get("signature")
    return Prepared(
        words=str(fields["search_words"]),
        signature=(
            np.frombuffer(base64.b64decode(sig), dtype="<u4").astype(np.uint32) if sig else None
        ),
        unspaced=(
            (str(unspaced[0]), str(unspaced[1])) if (unspaced := fields.get("unspaced")) else None
        ),
    )


def encode_item(item: Item) -> str:
    """An item as a worker pushes it (scrapy-redis REDIS_ITEMS_SERIALIZER); a raw body
    travels as base64."""
    if isinstance(item, AnalysedPage):
        data = {"page": _page_data(item.page), "analysis": _analysis_data(item.analysis)}
    elif isinstance(item, AnalysedPost):
        data = {"post": _page_data(item.post), "analysis": _analysis_data(item.analysis)}
    elif isinstance(item, Page | Post):
        data = _page_data(item)
    else:
        data = asdict(item)
    return json.dumps({"type": _KINDS[type(item)], "data": data}, ensure_ascii=False)


def _page(fields: dict[str, Any]) -> Page:
    fields["body"] = base64.b64decode(fields.get("body") or "")
    fields["headers"] = tuple(tuple(pair) for pair in fields.get("headers") or ())
    return Page(**fields)


def _post(fields: dict[str, Any]) -> Post:
    fields["body"] = base64.b64decode(fields.get("body") or "")
    fields["headers"] = tuple(tuple(pair) for pair in fields.get("headers") or ())
    return Post(**{**fields, "links": tuple(fields.get("links") or ())})


def _analysis(fields: dict[str, Any]) -> Analysis:
    article = fields.get("article")
    hits = tuple(
        Hit(**{**hit, "mentions": tuple(tuple(span) for span in hit.get("mentions") or ())})
        for hit in fields.get("hits") or ()
    )
    found = fields.get("entities")
    return Analysis(
        Article(**{**article, "other_urls": tuple(article.get("other_urls") or ())})
        if article
        else None,
        hits,
        Entities(frozenset(found["words"]), frozenset(found["watches"])) if found else None,
        str(fields.get("failure") or ""),
        _prepared(fields.get("prepared")),
    )


def decode_item(data: bytes | str) -> Item:
    """The item ``encode_item`` wrote; ValueError if it is not one."""
    try:
        envelope = json.loads(data)
        kind, fields = envelope["type"], envelope["data"]
        if kind == "analysed_page":
            return AnalysedPage(_page(fields["page"]), _analysis(fields["analysis"]))
        if kind == "page":
            return _page(fields)
        if kind == "analysed_post":
            return AnalysedPost(_post(fields["post"]), _analysis(fields["analysis"]))
        if kind == "post":
            return _post(fields)
        if kind == "telegram_progress":
            return Progress.from_data(fields)
        if kind == "source_event":
            return SourceEvent(**fields)
    except (KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise ValueError(f"not a newswatch item: {exc}") from None
    raise ValueError(f"not a newswatch item: type {kind!r}")
