"""Per-run bookkeeping of each source's entry points (feed, sitemaps, sections) and its verdict."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlite_utils

from crawler.config import Source
from crawler.db import write_transaction
from crawler.storage.store import record_source_failure, record_source_ok

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceEvent:
    """How one entry request of a source went; JSON-ready, so a crawl worker can report it."""

    source: str
    outcome: str  # "ok", "not_modified", "failed", or "article_failed" (an article's fetch)
    url: str = ""
    error: str = ""
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class _Outcome:
    ok: int = 0
    not_modified: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    articles: list[tuple[str, str]] = field(default_factory=list)  # articles not fetched
    etag: str | None = None
    last_modified: str | None = None


class SourceHealth:
    """Collects how each entry request of each source went; writes ``sources`` at the end.

    Validators (ETag, Last-Modified) are written only when the run finishes, so a
    run that dies half-way fetches the feed in full again next time instead of
    getting a 304 for items it never stored. Failures are logged then too, one
    warning line per failing source, or one per host when several sources fail
    there for the same reason (a site down).
    """

    def __init__(self, sources: tuple[Source, ...]) -> None:
        self.sources = {source.name: source for source in sources}
        self.outcomes = {source.name: _Outcome() for source in sources}
        # Sources whose crawl was cut short with work outstanding: their stored
        # validators stay, so the next run sees again what this one did not finish.
        self.cut_short: set[str] = set()

    def unfinished(self, name: str) -> None:
        """Not every item this source's entry requests led to was ingested or counted
        failed (the crawl was cut short): keep its stored validators."""
        self.cut_short.add(name)

    def ok(
        self,
        name: str,
        *,
        not_modified: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """An entry request of this source answered usefully (or with 304)."""
        outcome = "not_modified" if not_modified else "ok"
        self.record(SourceEvent(name, outcome, etag=etag, last_modified=last_modified))

    def failed(self, name: str, url: str, error: str) -> None:
        """An entry request of this source failed, for a one-line reason (logged at the end)."""
        self.record(SourceEvent(name, "failed", url=url, error=error))

    def article_failed(self, name: str, url: str, error: str) -> None:
        """An article of this source could not be fetched (or was not the source's): a note
        in the source's ``last_error``, which alone does not make the source fail."""
        self.record(SourceEvent(name, "article_failed", url=url, error=error))

    def record(self, event: SourceEvent) -> None:
        """Count one request's outcome, seen here or reported by a crawl worker."""
        outcome = self.outcomes.get(event.source)
        if outcome is None:  # a crawl worker with another config reported it
            log.warning("ignoring a report on source %s, which is not configured", event.source)
        elif event.outcome == "article_failed":
            outcome.articles.append((event.url, event.error))
        elif event.outcome == "failed":
            outcome.failures.append((event.url, event.error))
        elif event.outcome == "not_modified":
            outcome.not_modified += 1
        else:
            outcome.ok += 1
            outcome.etag, outcome.last_modified = event.etag, event.last_modified

    def finish(self, db: sqlite_utils.Database) -> tuple[int, int, int]:
        """Write each source's verdict and log the failures; return (ok incl. not modified,
        failed, not modified)."""
        counts = [0, 0, 0]
        with write_transaction(db):  # one commit for all sources, not one each
            self._write(db, counts)
        for line in self.failure_lines():
            log.warning("%s", line)
        return counts[0], counts[1], counts[2]

    def _write(self, db: sqlite_utils.Database, counts: list[int]) -> None:
        for name, outcome in self.outcomes.items():
            source = self.sources[name]
            if not outcome.failures and not outcome.ok and not outcome.not_modified:
                outcome.failures.append((source.url, "no response (crawl stopped early?)"))
            note = articles_note(outcome.articles)
            if outcome.failures:
                errors = "; ".join(f"{url}: {reason}" for url, reason in outcome.failures)
                record_source_failure(db, name, source.url, "; ".join(filter(None, [errors, note])))
                counts[1] += 1
            elif outcome.ok and name not in self.cut_short:
                record_source_ok(
                    db,
                    name,
                    source.url,
                    etag=outcome.etag,
                    last_modified=outcome.last_modified,
                    note=note,
                )
                counts[0] += 1
            else:
                record_source_ok(db, name, source.url, keep_validators=True, note=note)
                counts[0] += 1
                counts[2] += int(not outcome.ok)  # else its crawl was cut short

    def failure_lines(self) -> list[str]:
        """One line per failing source, ``source NAME: URL: REASON``; sources that failed for
        one reason on one host:port share a line, ``HOST:PORT: REASON (sources A, B)``."""
        failing = {name: o.failures for name, o in self.outcomes.items() if o.failures}
        hosts: dict[str, tuple[str, str]] = {}  # source -> (host:port, reason)
        for name, failures in failing.items():
            places = {_host_port(url) for url, _ in failures}
            reasons = {reason for _, reason in failures}
            if len(places) == 1 and len(reasons) == 1 and "" not in places:
                hosts[name] = (places.pop(), reasons.pop())
        sharing: dict[tuple[str, str], list[str]] = {}
        for name, place in hosts.items():
            sharing.setdefault(place, []).append(name)
        lines: list[str] = []
        for name, failures in failing.items():
            names = sharing.get(hosts[name], []) if name in hosts else []
            if len(names) < 2:
                lines.append(f"source {name}: {_describe(failures)}")
            elif name == names[0]:
                host, reason = hosts[name]
                lines.append(f"{host}: {reason} (sources {', '.join(names)})")
        return lines

    @property
    def failed_names(self) -> list[str]:
        """Sources with at least one failed entry request."""
        return [name for name, outcome in self.outcomes.items() if outcome.failures]


MAX_NOTED_ARTICLES = 5  # articles named in a note; the rest are counted


def articles_note(failures: list[tuple[str, str]]) -> str:
    """``N articles not fetched: URL: REASON; URL, URL: REASON`` (articles failing for one
    reason share it; the first few are named, the rest counted), or ""."""
    unique = list(dict.fromkeys(failures))
    if not unique:
        return ""
    by_reason: dict[str, list[str]] = {}
    for url, reason in unique[:MAX_NOTED_ARTICLES]:
        by_reason.setdefault(reason, []).append(url)
    named = "; ".join(f"{', '.join(urls)}: {reason}" for reason, urls in by_reason.items())
    more = len(unique) - MAX_NOTED_ARTICLES
    count = f"{len(unique)} article{'s' if len(unique) > 1 else ''} not fetched"
    return f"{count}: {named}" + (f"; and {more} more" if more > 0 else "")


def _host_port(url: str) -> str:
    """``host:port`` of a URL (the scheme's default port if none is given), or ""."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return ""
    host = parts.hostname or ""
    if not host or port is None:
        return ""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _describe(failures: list[tuple[str, str]]) -> str:
    """``URL: REASON``; several URLs failing for one reason as ``URL and N more: REASON``."""
    by_reason: dict[str, list[str]] = {}
    for url, reason in failures:
        urls = by_reason.setdefault(reason, [])
        if url not in urls:
            urls.append(url)
    parts = []
    for reason, urls in by_reason.items():
        more = f" and {len(urls) - 1} more" if len(urls) > 1 else ""
        parts.append(f"{urls[0]}{more}: {reason}")
    return "; ".join(parts)
