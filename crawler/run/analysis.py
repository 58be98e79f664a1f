"""The pure half of ingest: page → article → hits → entities, with nothing that needs the database.

It runs wherever there is a spare core: in the crawling process, in a pool of worker
processes, or on a distributed crawl worker. The single SQLite writer then stores what
it made (``Ingest.process(page, analysis)``). Everything here is picklable and
deterministic for a given page and watchlist.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from crawler.config import Watch
from crawler.extraction.article import ExtractionFailed, extract
from crawler.matching.matcher import Matcher, hide_names, url_names
from crawler.models import Article, Hit, Page
from crawler.storage.store import Prepared, prepare
from crawler.storage.stories import Entities, entities

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Analysis:
    """What the pure stages made of one page.

    ``article`` is None when the page holds no article (an index, a gallery) or when
    extraction raised, in which case ``failure`` says why (a bug, named in the source's
    health rather than passed off as "not an article").
    """

    article: Article | None
    hits: tuple[Hit, ...] = ()
    entities: Entities | None = None  # names and numbers, for stories across languages
    failure: str = ""
    prepared: Prepared | None = None  # the search words and story signature, to store it


def matchable_text(article: Article) -> str:
    """Title and text as one string, without the title twice when the text opens with it."""
    if not article.title or article.text.lstrip().startswith(article.title):
        return article.text
    return f"{article.title}\n\n{article.text}"


class Analyser:
    """Extracts and matches pages against one compiled watchlist."""

    def __init__(self, matcher: Matcher | None, watches: Sequence[Watch]) -> None:
        """``matcher`` is ``watches`` compiled; None compiles them when first needed (a
        cycle that finds nothing new never loads the name tables)."""
        self._matcher = matcher
        self._watches = tuple(watches)
        self._redacted = {watch.id: watch for watch in watches if watch.redact}

    @property
    def matcher(self) -> Matcher:
        """The compiled watchlist."""
        if self._matcher is None:
            self._matcher = Matcher.compile(self._watches)
        return self._matcher

    def page(self, page: Page) -> Analysis:
        """Extract the page's article and match it (no article: ``Analysis(None)``)."""
        try:
            article = extract(page)
        except ExtractionFailed as exc:
            log.warning(
                "extraction failed for %s (source %s): %s", page.url, page.source, exc,
                exc_info=exc,
            )
            return Analysis(None, failure=str(exc))
        if article is None:
            return Analysis(None)
        return self.article(article)

    def article(self, article: Article) -> Analysis:
        """Match an article already in hand (a Telegram post, a re-read post)."""
        text = matchable_text(article)
        hits = tuple(self._with_hidden_titles(article, self.matcher.match(text)))
        found = entities(text, hits) if hits else None
        return Analysis(article, hits, found, prepared=prepare(article))

    def _with_hidden_titles(self, article: Article, hits: Iterable[Hit]) -> Iterator[Hit]:
        """Hits of redacted watches carry the title with the name hidden, and whether the
        article's URL names the watch (channels then get the desk's link), for the channels."""
        for hit in hits:
            watch = self._redacted.get(hit.watch_id)
            if watch is not None:
                hit = dataclasses.replace(
                    hit,
                    hidden_title=hide_names(article.title, watch) if article.title else "",
                    url_names_watch=any(
                        url_names(url, watch) for url in {article.url, article.canonical_url}
                    ),
                )
            yield hit
