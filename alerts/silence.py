"""Tell a watch's channels when it has had no new hit for ``silence_days``, once per silent period.

Called at the end of a cycle. A watch's silent period starts at its last hit
(``hits.created_at``), or at its first run (``alert_watches.first_run_at``)
while it has none; when ``silence_days`` have passed since then, each of the
watch's channels gets one ``watch.silent`` notice. ``alert_silences`` keeps,
per (watch, channel), the start of the period it was told about, written only
after the channel accepted the notice: a channel that failed is tried again
at the next run, and a new hit starts a new period. Disabled and resting
channels are left until they work again. A redacted watch is named by its id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlite_utils

from alerts.channels import ChannelSetupError, make_channel
from alerts.digest import batch_id
from alerts.payload import DeliveryError, Notice, Sender
from alerts.state import channel_states
from crawler import clock
from crawler.clock import iso
from crawler.config import Config, Watch
from crawler.db import write_transaction

log = logging.getLogger(__name__)

DAY = 86_400.0


def silent_since(db: sqlite_utils.Database, watch_id: str) -> tuple[str | None, str | None]:
    """(last hit time or None, start of the current silent period or None if never run)."""
    last_hit = db.execute(
        "SELECT MAX(created_at) FROM hits WHERE watch_id = ?", [watch_id]
    ).fetchone()[0]
    first_run = db.execute(
        "SELECT first_run_at FROM alert_watches WHERE watch_id = ?", [watch_id]
    ).fetchone()
    starts = [value for value in (last_hit, first_run[0] if first_run else None) if value]
    return last_hit, (max(starts) if starts else None)


def watch_silence(
    db: sqlite_utils.Database,
    config: Config,
    *,
    now: datetime | None = None,
    senders: Mapping[str, Sender] | None = None,
) -> list[str]:
    """Send the ``watch.silent`` notices that are due; return ``watch_id -> channel`` of each
    one sent."""
    moment = now or clock.now()
    states = channel_states(db)
    stamp = iso(moment)
    built: dict[str, Sender] = {}
    told: list[str] = []
    try:
        for watch in config.watches:
            if watch.silence_days <= 0 or not watch.channels:
                continue
            last_hit, since = silent_since(db, watch.id)
            if since is None:
                continue
            quiet = (moment - clock.parse(since)).total_seconds()
            if quiet < watch.silence_days * DAY:
                continue
            for channel_id in watch.channels:
                if _told(db, watch.id, channel_id) == since:
                    continue
                state = states.get(channel_id)
                if state is not None and (state.disabled_at or (state.rest_until or "") > stamp):
                    continue
                sender = _sender(channel_id, config, senders or {}, built)
                if sender is None:
                    continue
                notice = _notice(watch, config, since, last_hit, quiet, stamp)
                try:
                    sender.notify(notice)
                except DeliveryError as exc:
                    log.warning(
                        "alerts: could not tell %r that %s is silent: %s",
                        channel_id, watch.id, exc.detail,
                    )
                    continue
                with write_transaction(db):
                    db.execute(
                        "INSERT INTO alert_silences (watch_id, channel, since, notified_at) "
                        "VALUES (:watch, :channel, :since, :now) ON CONFLICT (watch_id, channel) "
                        "DO UPDATE SET since = :since, notified_at = :now",
                        {"watch": watch.id, "channel": channel_id, "since": since, "now": stamp},
                    )
                log.info("alerts: told %s that %s is silent", channel_id, watch.id)
                told.append(f"{watch.id} -> {channel_id}")
    finally:
        for sender in built.values():
            sender.close()
    return told


def _told(db: sqlite_utils.Database, watch_id: str, channel_id: str) -> str | None:
    row = db.execute(
        "SELECT since FROM alert_silences WHERE watch_id = ? AND channel = ?",
        [watch_id, channel_id],
    ).fetchone()
    return str(row[0]) if row else None


def _sender(
    channel_id: str, config: Config, given: Mapping[str, Sender], built: dict[str, Sender]
) -> Sender | None:
    if channel_id in given:
        return given[channel_id]
    if channel_id not in built:
        try:
            built[channel_id] = make_channel(config.channel(channel_id))
        except (ChannelSetupError, KeyError) as exc:
            log.warning("alerts: cannot tell channel %r about a silent watch: %s", channel_id, exc)
            return None
    return built[channel_id]


def _notice(
    watch: Watch, config: Config, since: str, last_hit: str | None, quiet: float, stamp: str
) -> Notice:
    name = watch.id if watch.redact else watch.label
    days_silent = int(quiet // DAY)
    if last_hit:
        text = (
            f"No article has mentioned {name} in {days_silent} days: the last hit was at "
            f"{last_hit}. The sources may have changed, or the name may be written "
            "another way: check the watch's aliases and the sources' health in the review desk."
        )
    else:
        text = (
            f"{name} has had no hit since it was first watched, {days_silent} days ago "
            f"({since}). Check the watch's aliases, and the sources' health in the review desk."
        )
    return Notice(
        id=batch_id("nw_silent_", [watch.id, since]),
        type="watch.silent",
        timestamp=stamp,
        title=f"no new hit for {name} in {days_silent} days",
        text=text,
        link=config.review_url,
        data={
            "watch_id": watch.id,
            "watch_name": name,
            "days": watch.silence_days,
            "days_silent": days_silent,
            "last_hit_at": last_hit,
            "since": since,
        },
    )


def silent_watches(
    db: sqlite_utils.Database, config: Config, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Watches with ``silence_days`` that have gone that long without a hit (for ``alerts
    status``): id, name, last hit, days silent."""
    moment = now or clock.now()
    found = []
    for watch in config.watches:
        if watch.silence_days <= 0:
            continue
        last_hit, since = silent_since(db, watch.id)
        if since is None:
            continue
        days = int((moment - clock.parse(since)).total_seconds() // DAY)
        if days >= watch.silence_days:
            found.append(
                {
                    "watch_id": watch.id,
                    "watch_name": watch.id if watch.redact else watch.label,
                    "last_hit_at": last_hit,
                    "since": since,
                    "days_silent": days,
                    "silence_days": watch.silence_days,
                }
            )
    return found
