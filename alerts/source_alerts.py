"""Tell the operator channel when a source keeps failing, once, and once more when it recovers.

Called at the end of a cycle, after the sources' verdicts are written. A
source whose ``consecutive_failures`` reached ``[alerts]
source_failure_threshold`` (default 5) gets one ``source.failing`` notice; the
first run after it works again gets one ``source.recovered``. What was said
is kept in ``alert_sources``, and only after the channel accepted the notice,
so a notice that could not be sent is tried again at the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

import sqlite_utils

from crawler import clock
from crawler.clock import iso
from crawler.config import Config
from crawler.db import write_transaction

from .channels import ChannelSetupError, make_channel
from .digest import batch_id
from .payload import DeliveryError, Notice, Sender

log = logging.getLogger(__name__)


def source_alerts(
    db: sqlite_utils.Database,
    config: Config,
    *,
    now: datetime | None = None,
    senders: Mapping[str, Sender] | None = None,
) -> list[str]:
    """Send the source notices that are due; return their titles (sent ones only)."""
    operator = config.alerts.operator_channel
    if not operator:
        return []
    moment = iso(now or clock.now())
    due = _due(db, config)
    if not due:
        return []
    sender = (senders or {}).get(operator)
    own = sender is None
    if sender is None:
        try:
            sender = make_channel(config.channel(operator))
        except (ChannelSetupError, KeyError) as exc:
            log.warning("alerts: cannot tell the operator channel %r: %s", operator, exc)
            return []
    told: list[str] = []
    try:
        for name, failing, failures, since, url, error in due:
            kind = "source.failing" if failing else "source.recovered"
            if failing:
                title = f"source {name} has failed {failures} runs in a row"
                text = f"{url}\nlast error: {error or 'unknown'}"
            else:
                title = f"source {name} works again"
                text = f"{url} answered normally after failing since {since}."
            notice = Notice(
                id=batch_id("nw_source_", [name, kind, since or moment]),
                type=kind,
                timestamp=moment,
                title=title,
                text=text,
                link=config.review_url,
                data={"source": name, "url": url, "consecutive_failures": failures},
            )
            try:
                sender.notify(notice)
            except DeliveryError as exc:
                log.warning("alerts: could not tell %r about %s: %s", operator, name, exc.detail)
                continue
            with write_transaction(db):
                db.execute(
                    "INSERT INTO alert_sources (source, failing, since, notified_at) "
                    "VALUES (:source, :failing, :since, :now) ON CONFLICT (source) DO UPDATE SET "
                    "failing = :failing, since = :since, notified_at = :now",
                    {
                        "source": name,
                        "failing": int(failing),
                        "since": (since or moment) if failing else None,
                        "now": moment,
                    },
                )
            told.append(title)
    finally:
        if own:
            sender.close()
    return told


def _due(
    db: sqlite_utils.Database, config: Config
) -> list[tuple[str, bool, int, str | None, str, str | None]]:
    """(name, now failing?, failures, failing since, url, last error) for each change to tell."""
    threshold = config.alerts.source_failure_threshold
    names = [source.name for source in config.sources]
    if not names:
        return []
    marks = ", ".join("?" * len(names))
    rows = db.execute(
        "SELECT sources.name, sources.consecutive_failures, sources.url, sources.last_error, "
        "sources.last_ok_at, COALESCE(alert_sources.failing, 0), alert_sources.since "
        "FROM sources LEFT JOIN alert_sources ON alert_sources.source = sources.name "
        f"WHERE sources.name IN ({marks}) ORDER BY sources.name",
        names,
    ).fetchall()
    due = []
    for name, failures, url, error, last_ok, told_failing, since in rows:
        failures = int(failures or 0)
        if failures >= threshold and not told_failing:
            due.append((name, True, failures, last_ok, url or "", error))
        elif failures == 0 and told_failing:
            due.append((name, False, 0, since, url or "", None))
    return due
