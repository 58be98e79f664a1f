"""Tell a watch's channels when an article with its hit is taken down, or edited to drop it.

For watches with ``notify_removals = true``: an article marked removed by a
revisit (404, 410, a redirect to a page that is not an article;
``articles.removed_at``) gives each of the watch's channels one
``article.removed`` notice per hit; a hit whose mention a changed text dropped
(``hits.removed_at``, the article itself still there) gives one
``mention.removed``. Hits an editor marked irrelevant give none.

Notices go through the channels' ``notify``, like source alerts: the webhook
gets the same envelope and Standard Webhooks headers as ``hit.created``
(``{"type": "article.removed", "timestamp": ..., "data": {...}}``), Slack,
email, Apprise and the console their own rendering. Each notice has its own
idempotency key (its ``webhook-id`` and email ``Message-ID``), from its kind,
hit, removal time and channel; ``removal_notices`` keeps what was sent, so
each goes once. One that could not be sent is tried again by the next run,
until ``[alerts] max_attempts`` runs have failed (then it is dead). A channel
gets at most its ``cap`` of them per run (the rest wait for the next run), and
removals noticed more than ``WINDOW`` ago are not announced late (turning
``notify_removals`` on does not replay old takedowns). Disabled or resting
channels are skipped.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from alerts.channels import ChannelSetupError, make_channel
from alerts.payload import (
    ChannelDisabled,
    ChannelUnreachable,
    DeliveryError,
    Notice,
    RateLimited,
    Sender,
)
from alerts.redaction import redact
from alerts.state import channel_states, disable_channel
from crawler import clock
from crawler.clock import iso
from crawler.config import Config, Watch
from crawler.db import write_transaction

log = logging.getLogger(__name__)

KINDS = ("article.removed", "mention.removed")
WINDOW = timedelta(days=7)  # a removal older than this (and never tried) is not announced

_DUE_SQL = """
SELECT 'article.removed' AS kind, h.id, h.watch_id, h.story_id, h.matched, h.hidden_title,
  a.id, a.url, a.canonical_url, a.title, a.source, a.published_at, a.language, a.updated_at,
  a.removed_at, a.removed_reason
FROM hits h JOIN articles a ON a.id = h.article_id
WHERE a.removed_at IS NOT NULL AND h.status != 'irrelevant' AND h.watch_id IN ({marks})
UNION ALL
SELECT 'mention.removed', h.id, h.watch_id, h.story_id, h.matched, h.hidden_title,
  a.id, a.url, a.canonical_url, a.title, a.source, a.published_at, a.language, a.updated_at,
  h.removed_at, 'no longer in the text'
FROM hits h JOIN articles a ON a.id = h.article_id
WHERE h.removed_at IS NOT NULL AND a.removed_at IS NULL AND h.status != 'irrelevant'
  AND h.watch_id IN ({marks})
ORDER BY 15, 2
"""


@dataclass
class RemovalReport:
    """What one ``removal_notices`` call did."""

    sent: int = 0
    failed: int = 0  # to be tried again by a later run
    dead: int = 0  # given up (max_attempts runs failed, or a permanent error)


@dataclass(frozen=True)
class _Due:
    key: str
    kind: str
    hit_id: int
    article_id: int
    watch: Watch
    channel: str
    notice: Notice


def notice_key(kind: str, hit_id: int, removed_at: str, channel: str) -> str:
    """A removal notice's idempotency key (its webhook-id): one per removal, per channel."""
    raw = f"{kind}\x1f{hit_id}\x1f{removed_at}\x1f{channel}"
    return "nw_rm_" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def removal_notices(
    db: sqlite_utils.Database,
    config: Config,
    *,
    now: datetime | None = None,
    senders: Mapping[str, Sender] | None = None,
) -> RemovalReport:
    """Send the removal notices not sent yet; return the counts."""
    report = RemovalReport()
    watches = {w.id: w for w in config.watches if w.notify_removals and w.channels}
    if not watches:
        return report
    moment = now or clock.now()
    due = _due(db, config, watches, moment)
    if not due:
        return report
    states = channel_states(db)
    stopped = {
        name
        for name, state in states.items()
        if state.disabled_at or (state.rest_until or "") > iso(moment)
    }
    ready: dict[str, Sender] = dict(senders or {})
    built: list[Sender] = []
    sent = Counter[str]()
    try:
        for item in due:
            channel_id = item.channel
            if channel_id in stopped:
                continue
            cap = _cap(config, channel_id)
            if sent[channel_id] >= cap:
                continue  # the rest wait for the next run
            sender = ready.get(channel_id)
            if sender is None:
                try:
                    sender = make_channel(config.channel(channel_id))
                except (ChannelSetupError, KeyError) as exc:
                    log.warning("alerts: removal notices cannot use channel %r: %s",
                                channel_id, exc)
                    stopped.add(channel_id)
                    continue
                ready[channel_id] = sender
                built.append(sender)
            try:
                sender.notify(item.notice)
            except DeliveryError as exc:
                outcome = _failed(db, config, item, exc, moment)
                if outcome == "dead":
                    report.dead += 1
                else:
                    report.failed += 1
                if isinstance(exc, ChannelUnreachable | RateLimited | ChannelDisabled):
                    stopped.add(channel_id)
                continue
            except Exception as exc:  # a bug in one channel must not stop the run
                log.exception("alerts: channel %r raised on a removal notice", channel_id)
                _failed(db, config, item, DeliveryError(f"unexpected {type(exc).__name__}",
                                                        retryable=True), moment)
                report.failed += 1
                continue
            _record(db, item, "sent", None, moment)
            sent[channel_id] += 1
            report.sent += 1
            log.info("alerts: %s for %s sent to %s", item.kind, item.watch.id, channel_id)
    finally:
        for sender in built:
            sender.close()
    return report


def _cap(config: Config, channel_id: str) -> int:
    try:
        return config.channel(channel_id).options.cap or config.alerts.cap
    except KeyError:
        return config.alerts.cap


def _due(
    db: sqlite_utils.Database, config: Config, watches: Mapping[str, Watch], moment: datetime
) -> list[_Due]:
    """Every (removal, channel) not sent, not dead, and recent enough or already tried."""
    done: dict[str, str] = dict(db.execute("SELECT key, status FROM removal_notices").fetchall())
    names = list(watches)
    marks = ", ".join("?" * len(names))
    rows = db.execute(_DUE_SQL.format(marks=marks), [*names, *names]).fetchall()
    oldest = iso(moment - WINDOW)
    found: list[_Due] = []
    for row in rows:
        (kind, hit_id, watch_id, story_id, matched, hidden_title, article_id, url, canonical,
         title, source, published_at, language, updated_at, removed_at, reason) = row
        watch = watches[watch_id]
        for channel in watch.channels:
            key = notice_key(kind, hit_id, removed_at, channel)
            status = done.get(key, "")
            if status in ("sent", "dead"):
                continue
            if not status and (removed_at or "") < oldest:
                continue
            notice = _notice(
                config,
                key=key,
                kind=kind,
                watch=watch,
                hit_id=int(hit_id),
                story_id=story_id,
                matched=matched or "",
                hidden_title=hidden_title or "",
                article={
                    "url": canonical or url,
                    "title": title or "",
                    "source": source or "",
                    "published_at": published_at,
                    "language": language,
                    "updated_at": updated_at,
                    "removed_at": removed_at if kind == "article.removed" else None,
                },
                removed_at=removed_at,
                reason=reason or "",
                moment=moment,
            )
            found.append(_Due(key, kind, int(hit_id), int(article_id), watch, channel, notice))
    return found


def _notice(
    config: Config,
    *,
    key: str,
    kind: str,
    watch: Watch,
    hit_id: int,
    story_id: int | None,
    matched: str,
    hidden_title: str,
    article: dict[str, Any],
    removed_at: str,
    reason: str,
    moment: datetime,
) -> Notice:
    """The notice a channel gets; a redacted watch's shows its id, never the name."""
    name = watch.id if watch.redact else watch.label
    headline = (hidden_title or watch.id) if watch.redact else article["title"]
    headline = headline or article["url"]
    shown_article = dict(article, title=hidden_title or watch.id) if watch.redact else article
    when = removed_at[:16].replace("T", " ")
    if kind == "article.removed":
        title = f"Taken down: {headline}"
        text = (
            f"An article where newswatch found {name} is gone ({reason}); noticed {when} UTC. "
            f"Its text and the evidence of every fetch stay in the review desk.\n{article['url']}"
        )
    else:
        title = f"{name} no longer mentioned: {headline}"
        said = "" if watch.redact else f" (it said “{matched}”)"
        text = (
            f"The article was edited and no longer mentions {name}{said}; noticed {when} UTC. "
            f"The earlier text stays in the review desk.\n{article['url']}"
        )
    data: dict[str, Any] = {
        "watch_id": watch.id,
        "watch_name": name,
        "story_id": story_id,
        "hit_id": hit_id,
        "article": shown_article,
        "removed_at": removed_at,
        "reason": reason,
    }
    if not watch.redact:
        data["matched"] = matched
    return Notice(
        id=key,
        type=kind,
        timestamp=iso(moment),
        title=title,
        text=text,
        link=config.review_url,
        data=data,
    )


def _failed(
    db: sqlite_utils.Database, config: Config, item: _Due, error: DeliveryError, moment: datetime
) -> str:
    """Record a failed attempt; return "failed" (tried again next run) or "dead"."""
    try:
        channel = config.channel(item.channel)
        secrets: tuple[str, ...] = tuple(channel.secrets.values())
    except KeyError:
        channel, secrets = None, ()
    detail = redact(error.detail, secrets)[:500]
    attempts = _attempts(db, item.key) + 1
    if isinstance(error, ChannelDisabled):
        if channel is not None:
            disable_channel(db, channel, detail, iso(moment))
        status = "failed"  # the channel is at fault: the notice waits for it
    elif error.retryable and attempts < config.alerts.max_attempts:
        status = "failed"
    else:
        status = "dead"
    log.warning(
        "alerts: %s for %s to %s %s: %s",
        item.kind,
        item.watch.id,
        item.channel,
        "failed (next run tries again)" if status == "failed" else "is dead",
        detail,
    )
    _record(db, item, status, f"attempt {attempts}: {detail}", moment)
    return status


def _attempts(db: sqlite_utils.Database, key: str) -> int:
    row = db.execute("SELECT attempts FROM removal_notices WHERE key = ?", [key]).fetchone()
    return int(row[0] or 0) if row is not None else 0


def _record(
    db: sqlite_utils.Database, item: _Due, status: str, error: str | None, moment: datetime
) -> None:
    now = iso(moment)
    with write_transaction(db):
        db.execute(
            "INSERT INTO removal_notices (key, kind, article_id, hit_id, watch_id, channel, "
            "status, attempts, last_error, created_at, sent_at) "
            "VALUES (:key, :kind, :article, :hit, :watch, :channel, :status, 1, :error, :now, "
            ":sent) ON CONFLICT (key) DO UPDATE SET status = :status, "
            "attempts = attempts + 1, last_error = :error, sent_at = :sent",
            {
                "key": item.key,
                "kind": item.kind,
                "article": item.article_id,
                "hit": item.hit_id,
                "watch": item.watch.id,
                "channel": item.channel,
                "status": status,
                "error": error,
                "now": now,
                "sent": now if status == "sent" else None,
            },
        )
