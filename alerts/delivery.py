"""Delivering what the outbox holds: claim due rows, send them channel by channel, record.

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

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from alerts import digest as digests
from alerts.channels import ChannelSetupError, make_channel
from alerts.outbox import _moment, backoff, undelivered
from alerts.payload import (
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
from alerts.redaction import redact
from alerts.state import (
    channel_states,
    disable_channel,
    enable_channels,
    fingerprint,
    rest_channel,
)
from crawler import clock
from crawler.clock import iso
from crawler.config import Config, EmailOptions
from crawler.db import write_transaction

log = logging.getLogger(__name__)

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


