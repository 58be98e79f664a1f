"""Quiet sources: each source's rhythm, learned from when it gave new articles, and its status.

A source **gives** a new article in a run when an article it linked is stored
for the first time in that run (also when another source's link to the same
article was the one fetched: ``crawler.run.coverage``). Each such run is one
*arrival* in ``source_arrivals`` (one per run, however many articles came, so
a first run's backlog counts once). A source's **rhythm** comes from the gaps
between its arrivals in the 30 days up to its last one (at least 4 gaps to
count as learned):

    stale after = max(1 day, 1.5 × its longest gap in those 30 days)

or 7 days while fewer than 4 gaps are known; ``stale_after = "3d"`` on the
source replaces all of it. The longest gap, not a median, because news has
weekly and monthly lulls (weekends, long weekends) that a median of a busy
source's gaps never sees. A source that answered in this run (a 304 counts)
and has been quiet for longer than that since its last new article (or since
its first run) is ``stale``. A source that answered but offered no article
link at all (its feed lists no item; no link on its sections and sitemaps
matched ``follow``) is *blind*: stale at once, at its first run, with the
reason in ``last_error``. A source that failed in this run is ``failing``.
``bench/staleness_bench.py`` measures the rule on simulated publishing
patterns (figures in ``bench/README.md``).

``sources`` keeps ``status`` (``ok`` | ``failing`` | ``stale``),
``last_new_article_at``, ``stale_since``, ``stale_reason``, the threshold in
use (``stale_after_seconds``) and the usual gap (``usual_gap_seconds``).
"""

from __future__ import annotations

import itertools
import logging
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from crawler import clock
from crawler.config import Config, Source
from crawler.db import write_transaction
from crawler.run.coverage import Coverage, blind_reason
from crawler.run.health import SourceHealth

log = logging.getLogger(__name__)

DAY = 86_400.0
DURATION_UNITS = {"m": 60.0, "h": 3600.0, "d": DAY}


@dataclass(frozen=True)
class Rule:
    """How quiet a source may be, from its gaps; the defaults are measured in bench/README.md."""

    floor: float = DAY  # never stale sooner than this
    unlearned: float = 7 * DAY  # while fewer than min_gaps gaps are known
    window: float = 30 * DAY  # learn from arrivals this close to the last one
    max_gaps: int = 3000  # a bound on what is read: 30 days of runs every 15 minutes
    min_gaps: int = 4
    long_factor: float = 1.5  # × the longest gap in the window
    keep: float = 90 * DAY  # arrivals older than this before a source's last one are dropped


RULE = Rule()


@dataclass(frozen=True)
class Rhythm:
    """What a source's arrivals say: its gaps (seconds) and how long it may stay quiet."""

    gaps: tuple[float, ...]
    stale_after: float
    learned: bool

    @property
    def usual_gap(self) -> float | None:
        """The median gap between arrivals, once learned."""
        return statistics.median(self.gaps) if self.learned else None

    @property
    def longest_gap(self) -> float | None:
        """The longest gap in the window, once learned."""
        return max(self.gaps) if self.learned else None


def learn(arrivals: Sequence[datetime], rule: Rule = RULE) -> Rhythm:
    """The rhythm of a source from its arrival times (any order)."""
    times = sorted(set(arrivals))
    if times:
        start = times[-1] - timedelta(seconds=rule.window)
        times = [moment for moment in times if moment >= start][-(rule.max_gaps + 1) :]
    gaps = tuple(
        (later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)
    )
    if len(gaps) < rule.min_gaps:
        return Rhythm(gaps, max(rule.unlearned, rule.floor), learned=False)
    return Rhythm(gaps, max(rule.floor, rule.long_factor * max(gaps)), learned=True)


def parse_duration(text: str) -> float:
    """Seconds in ``"30m"``, ``"36h"`` or ``"3d"`` (ValueError otherwise)."""
    text = text.strip()
    unit = DURATION_UNITS.get(text[-1:])
    if unit is None or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise ValueError(f"expected a duration such as '36h' or '3d', got {text!r}")
    return int(text[:-1]) * unit


def describe_seconds(seconds: float) -> str:
    """``45 min``, ``6 h``, ``2 days``: a duration as a person reads it."""
    if seconds < 2 * 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 2 * DAY:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / DAY)} days"


@dataclass(frozen=True)
class Verdict:
    """A source's status after a run, and for a stale one why, in a few words and in a line."""

    source: str
    status: str  # ok | failing | stale
    short: str = ""  # "quiet 4 days", "no link matched follow": for the summary line
    reason: str = ""  # the whole line, for the log, the desk and the operator
    blind: bool = False


def last_article_id(db: sqlite_utils.Database) -> int:
    """The highest article id stored so far (articles stored later have higher ids)."""
    row = db.execute("SELECT MAX(id) FROM articles").fetchone()
    return int(row[0] or 0)


def new_article_sources(
    db: sqlite_utils.Database, after_id: int, coverage: Coverage | None
) -> set[str]:
    """Sources that gave an article first stored after ``after_id``: the one that stored it,
    and every source that linked it in this crawl (``coverage``)."""
    rows = db.execute(
        "SELECT a.source, u.url FROM articles a LEFT JOIN article_urls u ON u.article_id = a.id "
        "WHERE a.id > ?",
        [after_id],
    ).fetchall()
    given: set[str] = set()
    for source, url in rows:
        if source:
            given.add(source)
        if coverage is not None and url:
            given.update(coverage.offered_by(url))
    return given


def judge(
    db: sqlite_utils.Database,
    config: Config,
    health: SourceHealth,
    *,
    first_new_id: int,
    coverage: Coverage | None = None,
    now: datetime | None = None,
) -> list[Verdict]:
    """Record arrivals and write every configured source's status; return the verdicts.

    Runs after ``SourceHealth.finish`` (so ``consecutive_failures`` is this run's).
    ``first_new_id`` is ``last_article_id`` from before the crawl; ``coverage`` is
    the crawl's (None where the crawl ran elsewhere, as in distributed mode: then
    blindness is not judged and only the storing source is credited).
    """
    moment = now or clock.now()
    stamp = clock.iso(moment)
    given = new_article_sources(db, first_new_id, coverage)
    verdicts: list[Verdict] = []
    with write_transaction(db):
        for source in config.sources:
            row = db.execute(
                "SELECT consecutive_failures, first_run_at, last_new_article_at, stale_since, "
                "status FROM sources WHERE name = ?",
                [source.name],
            ).fetchone()
            if row is None:  # never recorded (the crawl did not reach it at all)
                continue
            failures, first_run, last_new, stale_since, previous = row
            if source.name in given:
                db.execute(
                    "INSERT OR IGNORE INTO source_arrivals (source, seen_at) VALUES (?, ?)",
                    [source.name, stamp],
                )
                db.execute(
                    "DELETE FROM source_arrivals WHERE source = ? AND seen_at < ?",
                    [source.name, clock.iso(moment - timedelta(seconds=RULE.keep))],
                )
                last_new = stamp
            rhythm = learn(_arrivals(db, source.name))
            verdict = _verdict(
                source, health, coverage, rhythm, moment,
                failures=int(failures or 0), quiet_since=last_new or first_run,
            )
            if verdict.status == "stale":
                stale_since = stale_since if previous == "stale" and stale_since else stamp
            else:
                stale_since = None
            db.execute(
                "UPDATE sources SET status = ?, last_new_article_at = ?, stale_since = ?, "
                "stale_reason = ?, stale_after_seconds = ?, usual_gap_seconds = ? "
                "WHERE name = ?",
                [
                    verdict.status,
                    last_new,
                    stale_since,
                    verdict.reason or None,
                    _threshold(source, rhythm),
                    rhythm.usual_gap,
                    source.name,
                ],
            )
            if verdict.blind:
                # Where failures are shown (the desk, `sources.last_error`) this is shown too.
                db.execute(
                    "UPDATE sources SET last_error = ?, last_error_at = ? WHERE name = ?",
                    [verdict.reason[:2000], stamp, source.name],
                )
            verdicts.append(verdict)
    for verdict in verdicts:
        if verdict.status == "stale":
            log.warning("source %s: stale: %s", verdict.source, verdict.reason)
    return verdicts


def _threshold(source: Source, rhythm: Rhythm) -> float:
    if source.stale_after:
        return parse_duration(source.stale_after)
    return rhythm.stale_after


def _verdict(
    source: Source,
    health: SourceHealth,
    coverage: Coverage | None,
    rhythm: Rhythm,
    moment: datetime,
    *,
    failures: int,
    quiet_since: str | None,
) -> Verdict:
    if failures:
        return Verdict(source.name, "failing")
    outcome = health.outcomes.get(source.name)
    answered_in_full = outcome is not None and outcome.ok > 0
    if coverage is not None and answered_in_full and not coverage.of(source.name).offered:
        short = "feed lists no item" if source.feed else "no link matched follow"
        if source.telegram:
            short = "no post with text"
        if source.site and not coverage.of(source.name).seen:
            short = "no link found"
        return Verdict(source.name, "stale", short, blind_reason(source, coverage.of(source.name)),
                       blind=True)
    if not quiet_since:
        return Verdict(source.name, "ok")
    quiet = (moment - clock.parse(quiet_since)).total_seconds()
    threshold = _threshold(source, rhythm)
    if quiet <= threshold:
        return Verdict(source.name, "ok")
    if source.stale_after:
        why = f"stale_after = {source.stale_after!r}"
    elif rhythm.learned and rhythm.usual_gap is not None and rhythm.longest_gap is not None:
        why = (
            f"it usually gives one every {describe_seconds(rhythm.usual_gap)}, at most "
            f"{describe_seconds(rhythm.longest_gap)} apart over the 30 days before its last; "
            f"stale after {describe_seconds(threshold)}"
        )
    else:
        why = f"its rhythm is not known yet; stale after {describe_seconds(threshold)}"
    return Verdict(
        source.name,
        "stale",
        f"quiet {describe_seconds(quiet)}",
        f"no new article for {describe_seconds(quiet)} (since {quiet_since}; {why})",
    )


def _arrivals(db: sqlite_utils.Database, name: str) -> list[datetime]:
    rows = db.execute(
        "SELECT seen_at FROM source_arrivals WHERE source = ? ORDER BY seen_at DESC LIMIT ?",
        [name, RULE.max_gaps + 1],
    ).fetchall()
    return [clock.parse(row[0]) for row in rows]


def stale_summary(verdicts: Iterable[Verdict]) -> list[str]:
    """``orda [quiet 4 days]`` for each stale source, for the run's summary line."""
    return [f"{v.source} [{v.short}]" for v in verdicts if v.status == "stale"]
