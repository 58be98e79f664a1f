"""Delivery state kept beside the outbox: channel health, first runs, digests, source alerts.

Tables (created by ``crawler.storage.store``'s schema steps)::

    alert_batches   one row per digest or flood summary that went out;
                    alerts.batch_id points at the batch that carried a row
    alert_channels  per channel: disabled (HTTP 410, a Slack channel gone, a
                    mail server without STARTTLS) and resting (429 Retry-After)
    alert_watches   when each watch first ran (backfill is judged from it)
    alert_sources   whether the operator was told that a source is failing
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from crawler.config import Channel, Config
from crawler.db import write_transaction


def note_run(db: sqlite_utils.Database, config: Config, now: str) -> None:
    """At the start of a run: remember each watch's first run (backfill is judged from it)."""
    with write_transaction(db):
        for watch in config.watches:
            db.execute(
                "INSERT OR IGNORE INTO alert_watches (watch_id, first_run_at) VALUES (?, ?)",
                [watch.id, now],
            )


def watch_first_run(db: sqlite_utils.Database, watch_id: str, now: str) -> str:
    """When this watch first ran; a watch never seen before first runs ``now``."""
    db.execute(
        "INSERT OR IGNORE INTO alert_watches (watch_id, first_run_at) VALUES (?, ?)",
        [watch_id, now],
    )
    row = db.execute(
        "SELECT first_run_at FROM alert_watches WHERE watch_id = ?", [watch_id]
    ).fetchone()
    return str(row[0])


def fingerprint(channel: Channel) -> str:
    """A short hash of a channel's settings and secrets: it changes when the channel is fixed."""
    data = json.dumps(
        [channel.type, dataclasses.asdict(channel.options), dict(channel.secrets)],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(data.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ChannelState:
    """What the database remembers about one channel between runs."""

    channel: str
    disabled_at: str | None = None
    disabled_reason: str | None = None
    config_hash: str | None = None
    rest_until: str | None = None


def channel_states(db: sqlite_utils.Database) -> dict[str, ChannelState]:
    """Every channel with remembered state, by id."""
    rows = db.execute(
        "SELECT channel, disabled_at, disabled_reason, config_hash, rest_until FROM alert_channels"
    ).fetchall()
    return {row[0]: ChannelState(*row) for row in rows}


def disable_channel(db: sqlite_utils.Database, channel: Channel, reason: str, now: str) -> None:
    """Stop sending to a channel until it is re-enabled or its settings change."""
    with write_transaction(db):
        db.execute(
            "INSERT INTO alert_channels (channel, disabled_at, disabled_reason, config_hash) "
            "VALUES (:channel, :now, :reason, :hash) ON CONFLICT (channel) DO UPDATE SET "
            "disabled_at = :now, disabled_reason = :reason, config_hash = :hash",
            {"channel": channel.id, "now": now, "reason": reason, "hash": fingerprint(channel)},
        )


def rest_channel(db: sqlite_utils.Database, channel_id: str, until: str) -> None:
    """Send nothing to a channel before ``until`` (it answered 429 with Retry-After)."""
    with write_transaction(db):
        db.execute(
            "INSERT INTO alert_channels (channel, rest_until) VALUES (?, ?) "
            "ON CONFLICT (channel) DO UPDATE SET rest_until = MAX(COALESCE(rest_until, ''), "
            "excluded.rest_until)",
            [channel_id, until],
        )


def enable_channels(
    db: sqlite_utils.Database, channel_ids: Iterable[str] | None = None
) -> list[str]:
    """Re-enable disabled channels (all, or the ones named); return the ids re-enabled."""
    wanted = None if channel_ids is None else set(channel_ids)
    names = [
        row[0]
        for row in db.execute(
            "SELECT channel FROM alert_channels WHERE disabled_at IS NOT NULL ORDER BY channel"
        ).fetchall()
        if wanted is None or row[0] in wanted
    ]
    with write_transaction(db):
        for name in names:
            db.execute(
                "UPDATE alert_channels SET disabled_at = NULL, disabled_reason = NULL, "
                "config_hash = NULL WHERE channel = ?",
                [name],
            )
    return names
