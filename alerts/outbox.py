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

Within one ``deliver`` call the channels take turns, so one slow or failing
channel never holds up another; Slack is paced to one message a second; each
channel sends at most ``cap`` alerts (default 20) and then one summary for the
rest. Email channels in digest mode gather non-urgent alerts into one mail
per period. What a channel raises (``alerts.payload``)::

    DeliveryError(detail, retryable, retry_after)
    ├── RetryableError         408, 5xx, an unexpected bug: back off, try again
    │   ├── RateLimited        429: the channel rests until Retry-After has passed
    │   └── ChannelUnreachable connection error, timeout: skip the channel this run
    └── PermanentError         other 4xx, a redirect: the row is dead
        └── ChannelDisabled    410, a Slack channel gone, no STARTTLS: the channel stops

``detail`` becomes ``last_error``; it is scrubbed of the channel's URL and
secrets once more before it is stored or logged.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from crawler import clock
from crawler.clock import iso
from crawler.clock import parse as parse_iso
from crawler.config import Config, EmailOptions
from crawler.db import write_transaction
from crawler.models import Hit

from . import digest as digests
from .channels import ChannelSetupError, make_channel
from .payload import (
    AlertMessage,
    ChannelDisabled,
    ChannelUnreachable,
    DeliveryError,
    Digest,
    MissingAlertData,
    Notice,
    PermanentError,
    RateLimited,
    RetryableError,
    Sender,
    load_message,
)
from .redaction import redact
from .state import (
    backfill_hours,
    channel_states,
    disable_channel,
    enable_channels,
    fingerprint,
    rest_channel,
    watch_first_run,
)

log = logging.getLogger(__name__)

STATUSES = ("pending", "sending", "sent", "failed", "dead")
# Seconds to wait after the 1st, 2nd, ... failed attempt; the last value repeats.
BACKOFF = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 24 * 3600)
JITTER = 0.2  # each wait is scaled by a random factor in [1 - JITTER, 1 + JITTER]
LEASE = 10 * 60.0  # seconds a claim holds; far longer than one send (timeouts are ~20 s)
MAX_WAIT = 5 * 60.0  # seconds one deliver() call may spend before it leaves the rest
MAX_ERROR = 500  # characters of last_error kept
FAILURES_BEFORE_SKIP = 3  # retryable failures in a row before a channel is left for this run

_DUE = (
    "((status IN ('pending', 'failed') AND COALESCE(next_attempt_at, '') <= :now)"
    " OR (status = 'sending' AND COALESCE(lease_until, '') <= :now))"
)
WITHDRAWN = "withdrawn: an editor marked this story irrelevant for the watch"
_ROW = (
    "id",
    "idempotency_key",
    "watch_id",
    "story_id",
    "hit_id",
    "channel",
    "attempts",
    "created_at",
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
    queues nothing; a backfill item (see ``is_backfill``) queues nothing.
    """
    wanted = list(dict.fromkeys(channels))
    if not wanted:
        return 0
    if is_backfill(db, hit.watch_id, hit_id, now):
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


def is_backfill(db: sqlite_utils.Database, watch_id: str, hit_id: int, now: str) -> bool:
    """True if the hit's article was published over ``backfill_hours`` before a first run.

    A hit found only in a changed text counts from the change
    (``hits.article_updated_at``), not from the publication. The first run that
    counts is the later of the source's
    (``sources.first_run_at``; a source not yet recorded is in its first run
    now) and the watch's (``alert_watches``). An article without a date is
    never backfill. ``backfill_hours = 0`` turns this off.
    """
    hours = backfill_hours(db)
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


@dataclass
class DeliveryReport:
    """What one ``deliver`` call did, and what is left.

    Every alert undelivered when the call began is counted once, in the state
    this call left it: ``sent + summarized + failed + dead + withdrawn + pending
    == undelivered`` (unless another process delivers from the same outbox at
    the same time).
    """

    undelivered: int = 0  # alerts not yet delivered when the call began (the total)
    sent: int = 0  # delivered in this call, one by one or in a digest
    summarized: int = 0  # beyond a channel's cap: told as a count in one summary message
    failed: int = 0  # failed in this call; will be retried after a backoff
    dead: int = 0  # failed in this call and given up (permanent error or max_attempts)
    withdrawn: int = 0  # given up unsent: an editor marked the story irrelevant
    pending: int = 0  # not tried in this call: not yet due, waiting for a digest or a channel
    digests: int = 0  # digest emails sent
    skipped_channels: list[str] = field(default_factory=list)  # unreachable this call
    unusable_channels: list[str] = field(default_factory=list)  # not configured / not buildable
    disabled_channels: list[str] = field(default_factory=list)  # gone until fixed (410, ...)
    resting_channels: list[str] = field(default_factory=list)  # asked us to wait (429)
    out_of_time: bool = False  # stopped at max_wait with due rows left

    @property
    def ok(self) -> bool:
        """True if nothing failed or died and every channel could be used."""
        return not (
            self.failed
            or self.dead
            or self.skipped_channels
            or self.unusable_channels
            or self.disabled_channels
        )

    def summary(self) -> str:
        """One line for the end of ``newswatch alerts deliver``."""
        line = "alerts: " + counts_text(
            sent=self.sent,
            summarized=self.summarized,
            retrying=self.failed,
            dead=self.dead,
            withdrawn=self.withdrawn,
            waiting=self.pending,
        )
        for label, names in (
            ("unreachable", self.skipped_channels),
            ("disabled (see `newswatch alerts status`)", self.disabled_channels),
            ("resting after 429", self.resting_channels),
            ("waiting on channel setup", self.unusable_channels),
        ):
            if names:
                line += f"; {label}: {', '.join(names)}"
        return line

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able data."""
        return {
            "undelivered": self.undelivered,
            "sent": self.sent,
            "summarized": self.summarized,
            "failed": self.failed,
            "dead": self.dead,
            "withdrawn": self.withdrawn,
            "pending": self.pending,
            "digests": self.digests,
            "skipped_channels": list(self.skipped_channels),
            "unusable_channels": list(self.unusable_channels),
            "disabled_channels": list(self.disabled_channels),
            "resting_channels": list(self.resting_channels),
            "out_of_time": self.out_of_time,
        }


def counts_text(
    *, sent: int, summarized: int, retrying: int, dead: int, withdrawn: int, waiting: int
) -> str:
    """Where the alerts went, each counted once, in words.

    ``3 sent, 1 failed (1 will retry, 0 dead), 2 waiting``; summaries and
    withdrawn alerts are named only when there are some.
    """
    parts = [f"{sent} sent"]
    if summarized:
        parts.append(f"{summarized} in a summary (over the cap)")
    failed = retrying + dead
    parts.append(f"{failed} failed" + (f" ({retrying} will retry, {dead} dead)" if failed else ""))
    if withdrawn:
        parts.append(f"{withdrawn} withdrawn (story marked irrelevant)")
    parts.append(f"{waiting} waiting")
    return ", ".join(parts)


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
    run = _Delivery(db, config, _moment(now), max_wait, lease, senders or {})
    run.report.undelivered = undelivered(db)
    try:
        run.plan()
        run.send_one_by_one()
        run.send_digests()
    finally:
        run.close()
    # What failed in this call is still undelivered (status 'failed'); count it once, as failed.
    run.report.pending = max(0, undelivered(db) - run.report.failed)
    return run.report


class _Delivery:
    """One ``deliver`` call: which rows go where, and the bookkeeping of each attempt."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: Config,
        start: datetime,
        max_wait: float,
        lease: float,
        senders: Mapping[str, Sender],
    ) -> None:
        self.db = db
        self.config = config
        self.start = start
        self.started = clock.monotonic()
        self.max_wait = max_wait
        self.lease = lease
        self.configured = {channel.id: channel for channel in config.channels}
        self.watches = {watch.id: watch for watch in config.watches}
        self.ready: dict[str, Sender] = dict(senders)
        self.built: list[Sender] = []
        self.report = DeliveryReport()
        self.one_by_one: dict[str, list[int]] = {}
        self.digest_rows: dict[str, list[tuple[int, str]]] = {}
        self.sent = Counter[str]()
        self.failures = Counter[str]()  # retryable failures in a row, per channel
        self.next_send: dict[str, float] = {}  # monotonic time a paced channel may send again

    def clock(self) -> datetime:
        return self.start + timedelta(seconds=clock.monotonic() - self.started)

    def close(self) -> None:
        for sender in self.built:
            sender.close()

    def out_of_time(self) -> bool:
        if clock.monotonic() - self.started <= self.max_wait:
            return False
        if not self.report.out_of_time:
            self.report.out_of_time = True
            log.warning(
                "alerts: stopped after %.0f s; the rest wait for the next run", self.max_wait
            )
        return True

    # --- planning --------------------------------------------------------------------------

    def plan(self) -> None:
        """Group the due rows by channel; leave out channels that cannot or may not send."""
        self.withdraw_irrelevant()
        due = self.db.execute(
            "SELECT id, channel, watch_id, created_at FROM alerts "
            f"WHERE {_DUE} ORDER BY COALESCE(next_attempt_at, ''), id",
            {"now": iso(self.start)},
        ).fetchall()
        by_channel: dict[str, list[tuple[int, str, str]]] = {}
        for alert_id, channel_id, watch_id, created_at in due:
            by_channel.setdefault(channel_id, []).append((alert_id, watch_id, created_at or ""))
        states = channel_states(self.db)
        for channel_id, rows in by_channel.items():
            if self._sender(channel_id, len(rows)) is None:
                continue
            channel = self.configured.get(channel_id)
            state = states.get(channel_id)
            if state is not None and state.disabled_at:
                if channel is not None and state.config_hash not in (None, fingerprint(channel)):
                    enable_channels(self.db, [channel_id])
                    log.warning(
                        "alerts: channel %r changed since it was disabled; trying it again",
                        channel_id,
                    )
                else:
                    self.report.disabled_channels.append(channel_id)
                    log.warning(
                        "alerts: channel %r is disabled since %s (%s); %d alert(s) wait. Fix it, "
                        "then run `newswatch alerts retry`",
                        channel_id,
                        state.disabled_at,
                        state.disabled_reason,
                        len(rows),
                    )
                    continue
            if state is not None and (state.rest_until or "") > iso(self.start):
                self.report.resting_channels.append(channel_id)
                continue
            digest_mode = (
                channel is not None
                and isinstance(channel.options, EmailOptions)
                and channel.options.mode == "digest"
            )
            for alert_id, watch_id, created_at in rows:
                watch = self.watches.get(watch_id)
                if digest_mode and (watch is None or watch.priority != "urgent"):
                    self.digest_rows.setdefault(channel_id, []).append((alert_id, created_at))
                else:
                    self.one_by_one.setdefault(channel_id, []).append(alert_id)

    def withdraw_irrelevant(self) -> None:
        """Due alerts whose story an editor has since marked irrelevant for the watch: dead.

        Queueing already skips such stories; this catches alerts queued before
        the verdict. They end dead (not sent) with the reason in ``last_error``,
        so ``alerts retry`` cannot send them either.
        """
        with write_transaction(self.db):
            cursor = self.db.execute(
                "UPDATE alerts SET status = 'dead', lease_until = NULL, last_error = "
                f"'{WITHDRAWN}' WHERE {_DUE} AND story_id IS NOT NULL AND EXISTS ("
                "SELECT 1 FROM hits WHERE hits.watch_id = alerts.watch_id "
                "AND hits.story_id = alerts.story_id AND hits.status = 'irrelevant')",
                {"now": iso(self.start)},
            )
        self.report.withdrawn += max(cursor.rowcount, 0)
        if cursor.rowcount:
            log.info("alerts: %d alert(s) withdrawn: story marked irrelevant", cursor.rowcount)

    def _sender(self, channel_id: str, waiting: int) -> Sender | None:
        if channel_id in self.ready:
            return self.ready[channel_id]
        problem = ""
        if channel_id not in self.configured:
            problem = f"no such channel in {self.config.path}"
        else:
            try:
                sender = make_channel(self.configured[channel_id])
            except ChannelSetupError as exc:
                problem = str(exc)
        if problem:
            log.warning("alerts: %d alert(s) for channel %r wait: %s", waiting, channel_id, problem)
            self.report.unusable_channels.append(channel_id)
            return None
        self.ready[channel_id] = sender
        self.built.append(sender)
        return sender

    def cap(self, channel_id: str) -> int:
        channel = self.configured.get(channel_id)
        option = channel.options.cap if channel is not None else 0
        return option or self.config.alerts.cap

    # --- one alert at a time, channels taking turns ----------------------------------------

    def send_one_by_one(self) -> None:
        """Send due alerts, one channel after another in turn, until each queue is empty."""
        queues = {channel: list(ids) for channel, ids in self.one_by_one.items() if ids}
        while queues and not self.out_of_time():
            now = clock.monotonic()
            channel_id = next((c for c in queues if self.next_send.get(c, 0.0) <= now), None)
            if channel_id is None:
                clock.sleep(min(self.next_send[c] for c in queues) - now)
                continue
            queue = queues.pop(channel_id)
            if self.sent[channel_id] >= self.cap(channel_id):
                self.summarise(channel_id, queue)
                continue
            outcome = self.attempt(channel_id, queue.pop(0))
            if outcome != "busy":
                interval = float(getattr(self.ready[channel_id], "min_interval", 0.0) or 0.0)
                self.next_send[channel_id] = clock.monotonic() + interval
            if queue and outcome not in ("skip", "disabled"):
                queues[channel_id] = queue  # back of the line: the others take their turn

    def attempt(self, channel_id: str, alert_id: int) -> str:
        """Claim, build, send and record one alert: sent, failed, dead, skip, disabled or busy."""
        rows = self.claim([alert_id])
        if not rows:
            return "busy"
        row = rows[0]
        try:
            message = load_message(self.db, row, self.config)
        except MissingAlertData as exc:
            return self.fail([row], PermanentError(str(exc)))
        error = _call(channel_id, self.ready[channel_id].send, message)
        if error is None:
            with write_transaction(self.db):
                self.db.execute(
                    "UPDATE alerts SET status = 'sent', sent_at = ?, lease_until = NULL, "
                    "last_error = NULL WHERE id = ?",
                    [iso(self.clock()), alert_id],
                )
            log.info(
                "alerts: sent %s (%s) to %s", row["idempotency_key"], row["watch_id"], channel_id
            )
            self.report.sent += 1
            self.sent[channel_id] += 1
            self.failures[channel_id] = 0
            return "sent"
        return self.fail([row], error)

    def summarise(self, channel_id: str, alert_ids: list[int]) -> None:
        """Tell the channel, in one message, how many alerts beyond its cap it did not get."""
        rows = self.claim(alert_ids)
        if not rows:
            return
        counts = Counter(self._label(row["watch_id"]) for row in rows)
        listed = ", ".join(f"{name} ({count})" for name, count in counts.most_common(10))
        if len(counts) > 10:
            listed += f" and {len(counts) - 10} more"
        total = len(rows)
        notice = Notice(
            id=digests.batch_id("nw_summary_", (row["idempotency_key"] for row in rows)),
            type="alerts.summary",
            timestamp=iso(self.clock()),
            title=f"{total} more alert{'s' if total != 1 else ''} not sent one by one",
            text=(
                f"{self.sent[channel_id]} alerts went to this channel in this run, its limit; "
                f"{total} more are waiting in the review desk: {listed}."
            ),
            link=self.config.review_url,
            data={"count": total, "channel": channel_id, "watches": dict(counts)},
        )
        error = _call(channel_id, self.ready[channel_id].notify, notice)
        if error is not None:
            self.fail(rows, error)
            return
        self._mark_batch(channel_id, "summary", notice.id, rows)
        self.report.summarized += total
        log.warning(
            "alerts: %d alert(s) for %s beyond its cap of %d went as one summary",
            total,
            channel_id,
            self.cap(channel_id),
        )

    def _label(self, watch_id: str) -> str:
        watch = self.watches.get(watch_id)
        return watch_id if watch is None or watch.redact else watch.label

    # --- digests -----------------------------------------------------------------------------

    def send_digests(self) -> None:
        """For each digest channel whose slot has come: one mail of the alerts queued before it."""
        stopped = set(self.report.skipped_channels) | set(self.report.disabled_channels)
        for channel_id, candidates in self.digest_rows.items():
            if self.out_of_time():
                return
            if channel_id in stopped:
                continue
            options = self.configured[channel_id].options_as(EmailOptions)
            slot = iso(digests.latest_slot(self.clock(), options.every, options.at))
            rows = self.claim([alert_id for alert_id, created in candidates if created < slot])
            messages: list[AlertMessage] = []
            listed: list[dict[str, Any]] = []
            for row in rows:
                try:
                    if len(messages) < digests.LIMIT:
                        messages.append(load_message(self.db, row, self.config))
                    listed.append(row)
                except MissingAlertData as exc:
                    self.fail([row], PermanentError(str(exc)))
            if not listed:
                continue  # a digest is never empty
            digest = Digest(
                id=digests.batch_id("nw_digest_", (row["idempotency_key"] for row in listed)),
                channel=channel_id,
                timestamp=iso(self.clock()),
                items=tuple(messages),
                more=len(listed) - len(messages),
                review_url=self.config.review_url,
            )
            sender = self.ready[channel_id]
            send_digest = getattr(sender, "send_digest", None)
            if send_digest is None:
                self.fail(listed, PermanentError(f"channel {channel_id!r} cannot send digests"))
                continue
            error = _call(channel_id, send_digest, digest)
            if error is not None:
                self.fail(listed, error)
                continue
            self._mark_batch(channel_id, "digest", digest.id, listed)
            self.report.sent += len(listed)
            self.report.digests += 1
            log.info("alerts: digest of %d alert(s) sent to %s", len(listed), channel_id)

    # --- bookkeeping -------------------------------------------------------------------------

    def claim(self, alert_ids: list[int]) -> list[dict[str, Any]]:
        """Take due rows for this process (those another process holds are left out)."""
        moment = self.clock()
        params = {"now": iso(moment), "lease": iso(moment + timedelta(seconds=self.lease))}
        taken: list[int] = []
        with write_transaction(self.db):
            for alert_id in alert_ids:
                cursor = self.db.execute(
                    "UPDATE alerts SET status = 'sending', lease_until = :lease, "
                    f"attempts = attempts + 1 WHERE id = :id AND {_DUE}",
                    {**params, "id": alert_id},
                )
                if cursor.rowcount == 1:
                    taken.append(alert_id)
        rows: list[dict[str, Any]] = []
        for start in range(0, len(taken), 500):
            chunk = taken[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found = self.db.execute(
                f"SELECT {', '.join(_ROW)} FROM alerts WHERE id IN ({marks})", chunk
            ).fetchall()
            rows.extend(dict(zip(_ROW, values, strict=True)) for values in found)
        order = {alert_id: index for index, alert_id in enumerate(taken)}
        return sorted(rows, key=lambda row: order[row["id"]])

    def _mark_batch(
        self, channel_id: str, kind: str, message_id: str, rows: list[dict[str, Any]]
    ) -> None:
        """Record a digest or summary and mark its rows sent, in one transaction."""
        moment = iso(self.clock())
        with write_transaction(self.db):
            cursor = self.db.execute(
                "INSERT INTO alert_batches (channel, kind, message_id, items, created_at, sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [channel_id, kind, message_id, len(rows), moment, moment],
            )
            batch_id = cursor.lastrowid
            for row in rows:
                self.db.execute(
                    "UPDATE alerts SET status = 'sent', sent_at = ?, lease_until = NULL, "
                    "last_error = NULL, batch_id = ? WHERE id = ? AND status = 'sending'",
                    [moment, batch_id, row["id"]],
                )
        self.sent[channel_id] += 1

    def fail(self, rows: list[dict[str, Any]], error: DeliveryError) -> str:
        """Record a failed attempt for rows that went (or would have gone) in one message."""
        channel_id = rows[0]["channel"]
        channel = self.configured.get(channel_id)
        secrets = tuple(channel.secrets.values()) if channel is not None else ()
        detail = redact(error.detail, secrets)[:MAX_ERROR]
        moment = self.clock()
        outcome, rest_until = "dead", ""
        with write_transaction(self.db):
            for row in rows:
                outcome, next_at = _record_failure(self.db, row, error, detail, moment, self.config)
                rest_until = max(rest_until, next_at or "")
        count = len(rows)
        if isinstance(error, ChannelDisabled):
            if channel is not None:
                disable_channel(self.db, channel, detail, iso(moment))
            self.report.disabled_channels.append(channel_id)
            log.warning(
                "alerts: channel %r disabled: %s; its alerts wait until it is fixed "
                "(then `newswatch alerts retry`)",
                channel_id,
                detail,
            )
            return "disabled"
        if outcome == "dead":
            self.report.dead += count
            return "dead"
        self.report.failed += count
        self.failures[channel_id] += 1
        if isinstance(error, RateLimited):
            rest_channel(self.db, channel_id, rest_until)
            self.report.skipped_channels.append(channel_id)
            return "skip"
        unreachable = isinstance(error, ChannelUnreachable)
        if unreachable or self.failures[channel_id] >= FAILURES_BEFORE_SKIP:
            self.report.skipped_channels.append(channel_id)
            return "skip"
        return "failed"


def _call(channel_id: str, send: Callable[[Any], None], item: object) -> DeliveryError | None:
    """Run one send; what it raised as a ``DeliveryError`` (a bug becomes a retryable one)."""
    try:
        send(item)
    except DeliveryError as exc:
        return exc
    except Exception as exc:  # a bug in one channel must not stop the others
        log.exception("alerts: channel %r raised unexpectedly", channel_id)
        return RetryableError(f"unexpected {type(exc).__name__}: {exc}")
    return None


def _record_failure(
    db: sqlite_utils.Database,
    row: Mapping[str, Any],
    error: DeliveryError,
    detail: str,
    moment: datetime,
    config: Config,
) -> tuple[str, str | None]:
    """Write one failed attempt; return the row's new status and its next attempt time."""
    attempts = int(row["attempts"])
    last_error = f"attempt {attempts}: {detail}"
    if isinstance(error, ChannelDisabled):
        # The channel is at fault, not the alert: it waits with the others.
        status, next_at = "pending", None
    elif error.retryable and attempts < config.alerts.max_attempts:
        status = "failed"
        next_at = iso(moment + timedelta(seconds=backoff(attempts, error.retry_after)))
        log.warning(
            "alerts: %s to %s failed (%s); retry at %s",
            row["watch_id"],
            row["channel"],
            last_error,
            next_at,
        )
    else:
        status, next_at = "dead", None
        log.warning("alerts: %s to %s is dead (%s)", row["watch_id"], row["channel"], last_error)
    db.execute(
        "UPDATE alerts SET status = ?, next_attempt_at = COALESCE(?, next_attempt_at), "
        "lease_until = NULL, last_error = ? WHERE id = ?",
        [status, next_at, last_error, row["id"]],
    )
    return status, next_at


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
