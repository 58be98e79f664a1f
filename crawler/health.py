"""Per-run bookkeeping of each source's entry points (feed, sitemaps, sections) and its verdict."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlite_utils

from .config import Source
from .store import record_source_failure, record_source_ok

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceEvent:
    """How one entry request of a source went; JSON-ready, so a crawl worker can report it."""

    source: str
    outcome: str  # "ok", "not_modified" or "failed"
    url: str = ""
    error: str = ""
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class _Outcome:
    ok: int = 0
    not_modified: int = 0
    errors: list[str] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None


class SourceHealth:
    """Collects how each entry request of each source went; writes ``sources`` at the end.

    Validators (ETag, Last-Modified) are written only when the run finishes, so a
    run that dies half-way fetches the feed in full again next time instead of
    getting a 304 for items it never stored.
    """

    def __init__(self, sources: tuple[Source, ...]) -> None:
        self.sources = {source.name: source for source in sources}
        self.outcomes = {source.name: _Outcome() for source in sources}

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
        """An entry request of this source failed; logged with the source name and URL."""
        self.record(SourceEvent(name, "failed", url=url, error=error))

    def record(self, event: SourceEvent) -> None:
        """Count one entry request's outcome, seen here or reported by a crawl worker."""
        if event.outcome == "failed":
            log.warning("source %s failed: %s: %s", event.source, event.url, event.error)
        outcome = self.outcomes.get(event.source)
        if outcome is None:  # a crawl worker with another config reported it
            log.warning("ignoring a report on source %s, which is not configured", event.source)
        elif event.outcome == "failed":
            outcome.errors.append(f"{event.url}: {event.error}")
        elif event.outcome == "not_modified":
            outcome.not_modified += 1
        else:
            outcome.ok += 1
            outcome.etag, outcome.last_modified = event.etag, event.last_modified

    def finish(self, db: sqlite_utils.Database) -> tuple[int, int, int]:
        """Write each source's verdict; return (ok incl. not modified, failed, not modified)."""
        counts = [0, 0, 0]
        for name, outcome in self.outcomes.items():
            source = self.sources[name]
            if not outcome.errors and not outcome.ok and not outcome.not_modified:
                outcome.errors.append(f"{source.url}: no response (crawl stopped early?)")
            if outcome.errors:
                record_source_failure(db, name, source.url, "; ".join(outcome.errors))
                counts[1] += 1
            elif outcome.ok:
                record_source_ok(
                    db, name, source.url, etag=outcome.etag, last_modified=outcome.last_modified
                )
                counts[0] += 1
            else:
                record_source_ok(db, name, source.url, keep_validators=True)
                counts[0] += 1
                counts[2] += 1
        return counts[0], counts[1], counts[2]

    @property
    def failed_names(self) -> list[str]:
        """Sources with at least one failed entry request."""
        return [name for name, outcome in self.outcomes.items() if outcome.errors]
