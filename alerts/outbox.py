"""The alert outbox: queue alerts with their hits, deliver them with retries, report on them.

A row's life::

    pending ──claim──► sending ──ok──► sent   (alone, in a digest, or in a flood summary)
       ▲                  │
       │                  ├─retryable─► failed ──(next_attempt_at passes)──► claimed again
       │                  ├─channel gone─► pending, and the channel is disabled
       │                  └─permanent, or max_attempts used─► dead
       └──────────── retry_dead() ◄─────────────────────────────────────────────┘

``enqueue`` runs inside the transaction that stores the hit, so an alert
exists exactly when its hit does; an item published well before its source's
or watch's first run (``backfill_hours``) is stored but queues no alert.
``deliver`` claims each due row with one atomic UPDATE (status ``sending``
plus a lease) before sending, so two overlapping processes never both send
it; a sender that dies mid-send leaves a ``sending`` row whose lease runs
out, and the next ``deliver`` takes it over. Delivery is at least once: the
``webhook-id`` header and the email ``Message-ID`` (the idempotency key) let
a receiver drop the rare repeat. A row is marked sent in its own short
transaction right after its channel accepted it.

``alerts.delivery`` sends what is due; this module is the queue itself:
``enqueue``, the backfill rule, the backoff schedule, ``status`` and
``retry_dead``.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from alerts.state import (
    channel_states,
    watch_first_run,
)
from crawler import clock
from crawler.clock import iso
from crawler.clock import parse as parse_iso
from crawler.config import AlertSettings
from crawler.db import write_transaction
from crawler.models import Hit

log = logging.getLogger(__name__)

STATUSES = ("pending", "sending", "sent", "failed", "dead")
# Seconds to wait after the 1st, 2nd, ... failed attempt; the last value repeats.
BACKOFF = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 24 * 3600)
JITTER = 0.2  # each wait is scaled by a random factor in [1 - JITTER, 1 + JITTER]
def idempotency_key(watch_id: str, story_id: int | None, channel: str) -> str:
    """The alert's stable id: one alert per (watch, story, channel), also the webhook-id."""
    raw = f"{watch_id}\x1f{'' if story_id is None else story_id}\x1f{channel}"
    return "nw_" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def enqueue(
    db: sqlite_utils.Database,
    hit: Hit,
    hit_id: int,
    story_id: int,
    channels: Iterable[str],
    now: str,
    backfill_hours: float = AlertSettings.backfill_hours,
) -> int:
    """Queue one alert per channel for a new hit; return how many rows were new.

    The cycle hands this to the ingest with the run's ``[alerts] backfill_hours``.

    Called by ``crawler.storage.store.save_article`` inside its transaction. A second
    hit on the same story (another outlet's copy) finds the key taken and
    queues nothing; a backfill item (see ``is_backfill``) queues nothing.
    """
    wanted = list(dict.fromkeys(channels))
    if not wanted:
        return 0
    if is_backfill(db, hit.watch_id, hit_id, now, backfill_hours):
        log.info("alerts: hit %d (%s) is backfill: stored, not sent", hit_id, hit.watch_id)
        return 0
    queued = 0
    for channel in wanted:
        cursor = db.execute(
            "INSERT OR IGNORE INTO alerts (idempotency_key, watch_id, story_id, hit_id, channel, "
            "status, attempts, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
            [
                idempotency_key(hit.watch_id, story_id, channel),
                hit.watch_id,
                story_id,
                hit_id,
                channel,
                now,
                now,
            ],
        )
        queued += max(cursor.rowcount, 0)
    return queued


def _when(text: str | None) -> datetime | None:
    """A stored or scraped date as an aware datetime (naive means UTC); None if unreadable."""
    if not text:
        return None
    try:
        moment = parse_iso(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def is_backfill(
    db: sqlite_utils.Database,
    watch_id: str,
    hit_id: int,
    now: str,
    backfill_hours: float = AlertSettings.backfill_hours,
) -> bool:
    """True if the hit's article was published over ``backfill_hours`` before a first run.

    A hit found only in a changed text counts from the change
    (``hits.article_updated_at``), not from the publication. The first run that
    counts is the later of the source's
    (``sources.first_run_at``; a source not yet recorded is in its first run
    now) and the watch's (``alert_watches``). An article without a date is
    never backfill. ``backfill_hours = 0`` turns this off.
    """
    hours = backfill_hours
    if hours <= 0:
        return False
    row = db.execute(
        # A hit found in a changed text is news from when the text changed.
        "SELECT COALESCE(hits.article_updated_at, articles.published_at), "
        "sources.first_run_at FROM hits "
        "JOIN articles ON articles.id = hits.article_id "
        "LEFT JOIN sources ON sources.name = articles.source WHERE hits.id = ?",
        [hit_id],
    ).fetchone()
    published = _when(row[0]) if row is not None else None
    current = _when(now)
    if published is None or current is None:
        return False
    source_first = _when(row[1]) or current
    watch_first = _when(watch_first_run(db, watch_id, now)) or current
    return published < max(source_first, watch_first) - timedelta(hours=hours)


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next try after ``attempts`` failed ones (jittered; >= Retry-After)."""
    base = BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]
    delay = base * random.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return max(delay, 1.0)


def undelivered(db: sqlite_utils.Database) -> int:
    """How many alerts the outbox still has to deliver (pending, failed or sending)."""
    return int(
        db.execute(
            "SELECT COUNT(*) FROM alerts WHERE status IN ('pending', 'failed', 'sending')"
        ).fetchone()[0]
    )


def _moment(now: datetime | str | None) -> datetime:
    if now is None:
        return clock.now()
    if isinstance(now, str):
        return parse_iso(now)
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def status(db: sqlite_utils.Database, *, now: datetime | str | None = None) -> dict[str, Any]:
    """Counts per status, the oldest undelivered alert and its age, channels stopped or resting."""
    moment = _moment(now)
    result: dict[str, Any] = dict.fromkeys(STATUSES, 0)
    for name, count in db.execute("SELECT status, COUNT(*) FROM alerts GROUP BY status"):
        result[name] = count
    oldest, next_at = db.execute(
        "SELECT MIN(created_at), "
        "MIN(CASE WHEN status IN ('pending', 'failed') THEN next_attempt_at END) "
        "FROM alerts WHERE status IN ('pending', 'failed', 'sending')"
    ).fetchone()
    result["oldest_pending_at"] = oldest
    result["oldest_pending_age_seconds"] = (
        None if oldest is None else max(0, int((moment - parse_iso(oldest)).total_seconds()))
    )
    result["next_attempt_at"] = next_at
    states = channel_states(db).values()
    result["disabled_channels"] = [
        {"channel": s.channel, "since": s.disabled_at, "reason": s.disabled_reason}
        for s in states
        if s.disabled_at
    ]
    result["resting_channels"] = [
        {"channel": s.channel, "until": s.rest_until}
        for s in states
        if (s.rest_until or "") > iso(moment)
    ]
    return result


def retry_dead(db: sqlite_utils.Database, *, now: datetime | str | None = None) -> int:
    """Put every dead alert back in the queue, due now with a fresh attempt count."""
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = ?, "
            "lease_until = NULL WHERE status = 'dead'",
            [iso(_moment(now))],
        )
    return cursor.rowcount


def status_text(data: Mapping[str, Any]) -> str:
    """``status(...)`` as a few lines for a person."""
    counts = ", ".join(f"{data[name]} {name}" for name in STATUSES)
    lines = [f"alerts: {counts}"]
    age = data.get("oldest_pending_age_seconds")
    if age is not None:
        lines.append(
            f"oldest undelivered: {data['oldest_pending_at']} ({_age(int(age))} old); "
            f"next attempt at {data.get('next_attempt_at') or 'once its lease runs out'}"
        )
    for item in data.get("disabled_channels", []):
        lines.append(
            f"channel {item['channel']} disabled since {item['since']}: {item['reason']} "
            "(fix it, then `newswatch alerts retry`)"
        )
    for item in data.get("resting_channels", []):
        lines.append(f"channel {item['channel']} rests until {item['until']} (it answered 429)")
    return "\n".join(lines)


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
