"""The alert outbox: queue alerts with their hits, deliver them with retries, report on them.

A row's life::

    pending ──claim──► sending ──ok──► sent
       ▲                  │
       │                  ├─retryable─► failed ──(next_attempt_at passes)──► claimed again
       │                  └─permanent, or max_attempts used─► dead
       └──────────── retry_dead() ◄─────────────────────────────────────────────┘

``enqueue`` runs inside the transaction that stores the hit, so an alert
exists exactly when its hit does. ``deliver`` claims each due row with one
atomic UPDATE (status ``sending`` plus a lease) before sending, so two
overlapping processes never both send it; a sender that dies mid-send leaves
a ``sending`` row whose lease runs out, and the next ``deliver`` takes it
over. Delivery is at least once: the ``webhook-id`` header (the idempotency
key) lets a receiver drop the rare repeat.

What a channel raises (defined in ``alerts.payload``, exported by ``alerts``)::

    DeliveryError(detail, retryable, retry_after)
    ├── RetryableError         408, 5xx, an unexpected bug: back off, try again
    │   ├── RateLimited        429: also send nothing more to that channel this run
    │   └── ChannelUnreachable connection error, timeout: same, skip the channel this run
    └── PermanentError         other 4xx, a redirect, a bad setup: the row is dead

``detail`` becomes ``last_error``; it is scrubbed of the channel's URL and
secrets once more before it is stored or logged.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from crawler.config import Channel, Config
from crawler.models import Hit
from crawler.store import iso, parse_iso

from .channels import ChannelSetupError, make_channel
from .payload import (
    ChannelUnreachable,
    DeliveryError,
    MissingAlertData,
    PermanentError,
    RateLimited,
    RetryableError,
    Sender,
    load_message,
    redact,
)

log = logging.getLogger(__name__)

STATUSES = ("pending", "sending", "sent", "failed", "dead")
# Seconds to wait after the 1st, 2nd, ... failed attempt; the last value repeats.
BACKOFF = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 24 * 3600)
JITTER = 0.2  # each wait is scaled by a random factor in [1 - JITTER, 1 + JITTER]
LEASE = 10 * 60.0  # seconds a claim holds; far longer than one send (timeouts are ~20 s)
MAX_WAIT = 5 * 60.0  # seconds one deliver() call may spend before it leaves the rest
MAX_ERROR = 500  # characters of last_error kept

_DUE = (
    "((status IN ('pending', 'failed') AND COALESCE(next_attempt_at, '') <= :now)"
    " OR (status = 'sending' AND COALESCE(lease_until, '') <= :now))"
)


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
) -> int:
    """Queue one alert per channel for a new hit; return how many rows were new.

    Called by ``crawler.store.save_article`` inside its transaction. A second
    hit on the same story (another outlet's copy) finds the key taken and
    queues nothing.
    """
    queued = 0
    for channel in dict.fromkeys(channels):
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


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next try after ``attempts`` failed ones (jittered; >= Retry-After)."""
    base = BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]
    delay = base * random.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return max(delay, 1.0)


@dataclass
class DeliveryReport:
    """What one ``deliver`` call did, and what is left."""

    sent: int = 0
    failed: int = 0  # failed in this call; will be retried
    dead: int = 0  # given up in this call
    pending: int = 0  # rows still to send after this call (pending, failed, sending)
    skipped_channels: list[str] = field(default_factory=list)  # unreachable this call
    unusable_channels: list[str] = field(default_factory=list)  # not configured / not buildable
    out_of_time: bool = False  # stopped at max_wait with due rows left

    @property
    def ok(self) -> bool:
        """True if nothing failed or died and every channel could be used."""
        return not (self.failed or self.dead or self.skipped_channels or self.unusable_channels)

    def summary(self) -> str:
        """One line for the end of a run."""
        line = (
            f"alerts: {self.sent} sent, {self.failed} failed (will retry), "
            f"{self.dead} dead, {self.pending} pending"
        )
        if self.skipped_channels:
            line += f"; unreachable: {', '.join(self.skipped_channels)}"
        if self.unusable_channels:
            line += f"; waiting on channel setup: {', '.join(self.unusable_channels)}"
        return line

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able data."""
        return {
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "pending": self.pending,
            "skipped_channels": list(self.skipped_channels),
            "unusable_channels": list(self.unusable_channels),
            "out_of_time": self.out_of_time,
        }


def _moment(now: datetime | str | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if isinstance(now, str):
        return parse_iso(now)
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def deliver(
    db: sqlite_utils.Database,
    config: Config,
    *,
    now: datetime | str | None = None,
    max_wait: float = MAX_WAIT,
    lease: float = LEASE,
    senders: Mapping[str, Sender] | None = None,
) -> DeliveryReport:
    """Send every due alert once; schedule retries; return counts.

    ``now`` (default: the real time) is the moment the call starts; it moves
    forward with the real clock while the call runs. After ``max_wait``
    seconds no new row is started (the rest wait for the next call). A claim
    holds a row for ``lease`` seconds. ``senders`` maps channel ids to ready
    channel objects (e.g. a ``ConsoleChannel`` writing to a buffer); other
    channels are built from ``config``. A channel that is not in the config,
    or cannot be built, keeps its rows pending with one warning per call.
    ``attempts`` counts claims, so a sender that crashes mid-send still uses
    up an attempt.
    """
    start, started = _moment(now), time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - started)

    report = DeliveryReport()
    configured = {channel.id: channel for channel in config.channels}
    ready: dict[str, Sender] = dict(senders or {})
    built: list[Sender] = []
    skipped: set[str] = set()
    unusable: set[str] = set()
    due = db.execute(
        f"SELECT id, channel FROM alerts WHERE {_DUE} ORDER BY COALESCE(next_attempt_at, ''), id",
        {"now": iso(start)},
    ).fetchall()
    try:
        for alert_id, channel_id in due:
            if channel_id in skipped or channel_id in unusable:
                continue
            if time.monotonic() - started > max_wait:
                report.out_of_time = True
                log.warning(
                    "alerts: stopped after %.0f s; the rest wait for the next run", max_wait
                )
                break
            sender = ready.get(channel_id)
            if sender is None:
                sender = _build(channel_id, configured, config, due)
                if sender is None:
                    unusable.add(channel_id)
                    report.unusable_channels.append(channel_id)
                    continue
                ready[channel_id] = sender
                built.append(sender)
            channel = configured.get(channel_id)
            secrets = tuple(channel.secrets.values()) if channel is not None else ()
            outcome = _attempt(db, config, alert_id, sender, clock, lease, secrets)
            if outcome == "sent":
                report.sent += 1
            elif outcome == "failed":
                report.failed += 1
            elif outcome == "dead":
                report.dead += 1
            elif outcome == "skip":
                report.failed += 1
                skipped.add(channel_id)
                report.skipped_channels.append(channel_id)
    finally:
        for sender in built:
            sender.close()
    report.pending = int(
        db.execute(
            "SELECT COUNT(*) FROM alerts WHERE status IN ('pending', 'failed', 'sending')"
        ).fetchone()[0]
    )
    return report


def _build(
    channel_id: str,
    configured: Mapping[str, Channel],
    config: Config,
    due: list[Any],
) -> Sender | None:
    waiting = sum(1 for _, channel in due if channel == channel_id)
    if channel_id not in configured:
        log.warning(
            "alerts: %d alert(s) for channel %r wait: no such channel in %s",
            waiting,
            channel_id,
            config.path,
        )
        return None
    try:
        return make_channel(configured[channel_id])
    except ChannelSetupError as exc:
        log.warning("alerts: %d alert(s) for channel %r wait: %s", waiting, channel_id, exc)
        return None


def _claim(db: sqlite_utils.Database, alert_id: int, now: str, lease_until: str) -> bool:
    """Take a due row for this process; False if another process has it or it is not due."""
    with db.atomic():
        cursor = db.execute(
            "UPDATE alerts SET status = 'sending', lease_until = :lease, "
            f"attempts = attempts + 1 WHERE id = :id AND {_DUE}",
            {"id": alert_id, "now": now, "lease": lease_until},
        )
    return cursor.rowcount == 1


def _attempt(
    db: sqlite_utils.Database,
    config: Config,
    alert_id: int,
    sender: Sender,
    clock: Callable[[], datetime],
    lease: float,
    secrets: tuple[str, ...],
) -> str:
    """Claim, build, send and record one alert; return sent, failed, dead, skip or busy."""
    moment = clock()
    if not _claim(db, alert_id, iso(moment), iso(moment + timedelta(seconds=lease))):
        return "busy"
    row = dict(
        zip(
            (
                "id",
                "idempotency_key",
                "watch_id",
                "story_id",
                "hit_id",
                "channel",
                "attempts",
                "created_at",
            ),
            db.execute(
                "SELECT id, idempotency_key, watch_id, story_id, hit_id, channel, attempts, "
                "created_at FROM alerts WHERE id = ?",
                [alert_id],
            ).fetchone(),
            strict=True,
        )
    )
    error: DeliveryError | None = None
    try:
        message = load_message(db, row, config)
    except MissingAlertData as exc:
        return _record_failure(db, row, PermanentError(str(exc)), clock(), config, secrets)
    try:
        sender.send(message)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # a bug in one channel must not stop the others
        log.exception("alerts: channel %r raised unexpectedly", row["channel"])
        error = RetryableError(f"unexpected {type(exc).__name__}: {exc}")
    if error is None:
        with db.atomic():
            db.execute(
                "UPDATE alerts SET status = 'sent', sent_at = ?, lease_until = NULL, "
                "last_error = NULL WHERE id = ?",
                [iso(clock()), alert_id],
            )
        log.info(
            "alerts: sent %s (%s) to %s", row["idempotency_key"], row["watch_id"], row["channel"]
        )
        return "sent"
    outcome = _record_failure(db, row, error, clock(), config, secrets)
    if outcome == "failed" and isinstance(error, (ChannelUnreachable, RateLimited)):
        return "skip"
    return outcome


def _record_failure(
    db: sqlite_utils.Database,
    row: Mapping[str, Any],
    error: DeliveryError,
    moment: datetime,
    config: Config,
    secrets: tuple[str, ...],
) -> str:
    attempts = int(row["attempts"])
    detail = redact(error.detail, secrets)[:MAX_ERROR]
    last_error = f"attempt {attempts}: {detail}"
    if error.retryable and attempts < config.alerts.max_attempts:
        wait = backoff(attempts, error.retry_after)
        next_at = iso(moment + timedelta(seconds=wait))
        status = "failed"
        log.warning(
            "alerts: %s to %s failed (%s); retry at %s",
            row["watch_id"],
            row["channel"],
            last_error,
            next_at,
        )
    else:
        next_at = None
        status = "dead"
        log.warning("alerts: %s to %s is dead (%s)", row["watch_id"], row["channel"], last_error)
    with db.atomic():
        db.execute(
            "UPDATE alerts SET status = ?, next_attempt_at = COALESCE(?, next_attempt_at), "
            "lease_until = NULL, last_error = ? WHERE id = ?",
            [status, next_at, last_error, row["id"]],
        )
    return status


def status(db: sqlite_utils.Database, *, now: datetime | str | None = None) -> dict[str, Any]:
    """Counts per status, the oldest undelivered alert and its age, the next retry time."""
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
        None if oldest is None else max(0, int((_moment(now) - parse_iso(oldest)).total_seconds()))
    )
    result["next_attempt_at"] = next_at
    return result


def retry_dead(db: sqlite_utils.Database, *, now: datetime | str | None = None) -> int:
    """Put every dead alert back in the queue, due now with a fresh attempt count."""
    with db.atomic():
        cursor = db.execute(
            "UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = ?, "
            "lease_until = NULL WHERE status = 'dead'",
            [iso(_moment(now))],
        )
    return cursor.rowcount
