"""Tell the operator channel when a source keeps failing or goes quiet, once, and when it recovers.

Called at the end of a cycle, after the sources' verdicts are written. A
source whose ``consecutive_failures`` reached ``[alerts]
source_failure_threshold`` (default 5) gets one ``source.failing`` notice; the
first run after it works again gets one ``source.recovered``. A source whose
``sources.status`` became ``stale`` (it answers but has given no new article
for longer than its rhythm allows, or offers no article link at all:
``crawler.run.staleness``) gets one ``source.stale`` notice, and one
``source.recovered`` when it gives a new article again. What was said is kept
in ``alert_sources``, and only after the channel accepted the notice, so a
notice that could not be sent is tried again at the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from alerts.channels import ChannelSetupError, make_channel
from alerts.digest import batch_id
from alerts.payload import DeliveryError, Notice, Sender
from crawler import clock
from crawler.clock import iso
from crawler.config import Config
from crawler.db import write_transaction

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
    due = []
    for change in _due(db, config):
        if change.kind == "reset":
            with write_transaction(db):
                _remember(db, change, moment)
        else:
            due.append(change)
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
        for change in due:
            notice = _notice(change, config, moment)
            try:
                sender.notify(notice)
            except DeliveryError as exc:
                log.warning(
                    "alerts: could not tell %r about %s: %s", operator, change.name, exc.detail
                )
                continue
            with write_transaction(db):
                _remember(db, change, moment)
            told.append(notice.title)
    finally:
        if own:
            sender.close()
    return told


@dataclass(frozen=True)
class _Change:
    """One thing to tell the operator about one source."""

    kind: str  # failing | recovered | stale | fresh (recovered from stale) | reset (say nothing)
    name: str
    url: str
    failures: int = 0
    since: str | None = None  # failing since (last ok), or stale since
    error: str | None = None
    last_new_article_at: str | None = None
    stale_after: float | None = None
    reason: str | None = None


def _notice(change: _Change, config: Config, moment: str) -> Notice:
    name, url = change.name, change.url
    data: dict[str, Any] = {
        "source": name,
        "url": url,
        "consecutive_failures": change.failures,
    }
    if change.kind == "failing":
        kind = "source.failing"
        title = f"source {name} has failed {change.failures} runs in a row"
        text = f"{url}\nlast error: {change.error or 'unknown'}"
    elif change.kind == "recovered":
        kind = "source.recovered"
        title = f"source {name} works again"
        text = f"{url} answered normally after failing since {change.since}."
        data["was"] = "failing"
    elif change.kind == "stale":
        kind = "source.stale"
        last = change.last_new_article_at
        title = f"source {name} has gone quiet"
        text = (
            f"{url}\n{change.reason or 'no new article for longer than usual'}\n"
            f"last new article: {last or 'none yet'}. See what it offers now with "
            f"`newswatch sources test {name}`."
        )
        data |= {
            "last_new_article_at": last,
            "stale_after_seconds": change.stale_after,
            "reason": change.reason,
            "stale_since": change.since,
        }
    else:
        kind = "source.recovered"
        title = f"source {name} gives new articles again"
        text = (
            f"{url} gave a new article at {change.last_new_article_at}, "
            f"quiet since {change.since}."
        )
        data |= {"was": "stale", "last_new_article_at": change.last_new_article_at}
    key = "source.stale.recovered" if change.kind == "fresh" else kind
    return Notice(
        id=batch_id("nw_source_", [name, key, change.since or moment]),
        type=kind,
        timestamp=moment,
        title=title,
        text=text,
        link=config.review_url,
        data=data,
    )


def _remember(db: sqlite_utils.Database, change: _Change, moment: str) -> None:
    """Record in ``alert_sources`` what the operator was just told."""
    if change.kind in ("failing", "recovered"):
        failing = change.kind == "failing"
        db.execute(
            "INSERT INTO alert_sources (source, failing, since, notified_at) "
            "VALUES (:source, :failing, :since, :now) ON CONFLICT (source) DO UPDATE SET "
            "failing = :failing, since = :since, notified_at = :now",
            {
                "source": change.name,
                "failing": int(failing),
                "since": (change.since or moment) if failing else None,
                "now": moment,
            },
        )
        return
    stale = change.kind == "stale"
    db.execute(
        "INSERT INTO alert_sources (source, failing, stale, stale_since, notified_at) "
        "VALUES (:source, 0, :stale, :since, :now) ON CONFLICT (source) DO UPDATE SET "
        "stale = :stale, stale_since = :since, notified_at = :now",
        {
            "source": change.name,
            "stale": int(stale),
            "since": (change.since or moment) if stale else None,
            "now": moment,
        },
    )


def _due(db: sqlite_utils.Database, config: Config) -> list[_Change]:
    """Each change to tell: failing / working again, stale / giving articles again."""
    threshold = config.alerts.source_failure_threshold
    names = [source.name for source in config.sources]
    if not names:
        return []
    marks = ", ".join("?" * len(names))
    rows = db.execute(
        "SELECT sources.name, sources.consecutive_failures, sources.url, sources.last_error, "
        "sources.last_ok_at, COALESCE(alert_sources.failing, 0), alert_sources.since, "
        "sources.status, sources.stale_since, sources.stale_reason, sources.last_new_article_at, "
        "sources.stale_after_seconds, COALESCE(alert_sources.stale, 0), alert_sources.stale_since "
        "FROM sources LEFT JOIN alert_sources ON alert_sources.source = sources.name "
        f"WHERE sources.name IN ({marks}) ORDER BY sources.name",
        names,
    ).fetchall()
    due = []
    for (
        name, failures, url, error, last_ok, told_failing, since,
        status, stale_since, reason, last_new, stale_after, told_stale, told_stale_since,
    ) in rows:
        failures = int(failures or 0)
        url = url or ""
        if failures >= threshold and not told_failing:
            due.append(_Change("failing", name, url, failures, last_ok, error))
        elif failures == 0 and told_failing:
            due.append(_Change("recovered", name, url, 0, since))
        if status == "stale" and not told_stale:
            due.append(
                _Change("stale", name, url, failures, stale_since, None, last_new, stale_after,
                        reason)
            )
        elif told_stale and status == "ok":
            if (last_new or "") > (told_stale_since or ""):
                due.append(_Change("fresh", name, url, failures, told_stale_since, None, last_new))
            else:  # no longer stale without a new article (stale_after raised): nothing to tell
                due.append(_Change("reset", name, url))
    return due


def source_status(db: sqlite_utils.Database, config: Config) -> dict[str, Any]:
    """The configured sources by status, for ``newswatch alerts status``: how many are ok, and
    the failing and stale ones with why."""
    names = [source.name for source in config.sources]
    result: dict[str, Any] = {"ok": 0, "failing": [], "stale": [], "never_run": []}
    rows = {
        row[0]: row
        for row in db.execute(
            "SELECT name, status, consecutive_failures, last_ok_at, last_error, "
            "last_new_article_at, stale_since, stale_reason, stale_after_seconds FROM sources"
        ).fetchall()
    }
    for name in names:
        row = rows.get(name)
        if row is None:
            result["never_run"].append(name)
            continue
        _, status, failures, last_ok, error, last_new, stale_since, reason, stale_after = row
        if failures:
            result["failing"].append(
                {"source": name, "consecutive_failures": failures, "last_ok_at": last_ok,
                 "last_error": error}
            )
        elif status == "stale":
            result["stale"].append(
                {"source": name, "since": stale_since, "last_new_article_at": last_new,
                 "reason": reason, "stale_after_seconds": stale_after}
            )
        else:
            result["ok"] += 1
    return result


def source_status_lines(data: Mapping[str, Any]) -> list[str]:
    """``source_status`` as lines for a person."""
    lines = [
        f"sources: {data['ok']} ok, {len(data['stale'])} stale, {len(data['failing'])} failing"
        + (f", {len(data['never_run'])} not run yet" if data["never_run"] else "")
    ]
    for item in data["stale"]:
        lines.append(f"source {item['source']} stale since {item['since']}: {item['reason']}")
    for item in data["failing"]:
        lines.append(
            f"source {item['source']} failing ({item['consecutive_failures']} runs in a row): "
            f"{item['last_error'] or 'unknown error'}"
        )
    return lines
