"""The alert outbox: one alert per (watch, story, channel), claims, retries, dead rows, status."""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import logging
import socket
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from alerts import (
    AlertMessage,
    ConsoleChannel,
    Notice,
    deliver,
    enable_channels,
    enqueue,
    idempotency_key,
    is_backfill,
    note_run,
    retry_dead,
    source_alerts,
    status,
    verify,
)
from alerts.outbox import status_text
from alerts.state import disable_channel, rest_channel
from crawler.cli import main
from crawler.clock import FakeClock, using
from crawler.config import AlertSettings, Channel, Config, Source, Watch
from crawler.models import Hit
from crawler.storage.store import (
    SaveResult,
    iso,
    open_database,
    parse_iso,
    record_source_failure,
    record_source_ok,
)
from tests.conftest import SECRET, config_for, save_hit, unique, webhook_channel

# Every test here runs on a fake clock: rows are queued a minute before START, and the
# tests deliver at START and later by passing ``now`` (or moving the clock).
START = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
# Articles published an hour before: news, not backfill.
PUBLISHED = iso(START - timedelta(hours=1))


@pytest.fixture(autouse=True)
def fake_clock() -> Iterable[FakeClock]:
    """The clock of every test in this file, a minute before START."""
    with using(FakeClock(START - timedelta(minutes=1))) as clock:
        yield clock


def hook_name() -> str:
    return unique("outbox")


webhook = webhook_channel


def make_config(
    tmp_path: Path, channels: Iterable[Channel], routes: Iterable[str], max_attempts: int = 8
) -> Config:
    watch = Watch(
        id="aiman-umarova",
        kind="person",
        name="Aiman Umarova",
        aliases=("Айман Умарова",),
        channels=tuple(routes),
    )
    return config_for(tmp_path, channels, [watch], alerts=AlertSettings(max_attempts=max_attempts))


def store(
    db: sqlite_utils.Database,
    config: Config,
    url: str,
    text: str = "",
    source: str = "orda",
    published: datetime | None = None,
) -> SaveResult:
    """Save one article with one hit on Aiman Umarova through the real store + enqueue."""
    watch = config.watches[0]
    return save_hit(
        db,
        watch_id=watch.id,
        name="Aiman Umarova",
        url=url,
        text=text or f"Human-rights lawyer Aiman Umarova spoke in court. ({url})",
        channels=watch.channels,
        title="Lawyer Aiman Umarova speaks in court",
        source=source,
        published=iso(published) if published else PUBLISHED,
        backfill_hours=config.alerts.backfill_hours,
    )


def alerts(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM alerts ORDER BY id"))


def closed_port_url() -> str:
    """A URL on which nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/T000/B000/down-token-xyz"


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    return open_database(tmp_path / "newswatch.db")


def test_enqueue_twice_for_the_same_watch_story_channel_keeps_one_row(
    tmp_path: Path, db: sqlite_utils.Database
) -> None:
    config = make_config(tmp_path, [], ["hook"])
    saved = store(db, config, "https://orda.kz/a1")
    assert saved.alerts_queued == 1
    hit = Hit("aiman-umarova", "Aiman Umarova", 0, 13, "", 0.9, "")
    assert saved.story_id is not None
    with db.atomic():
        again = enqueue(db, hit, saved.hit_ids[0], saved.story_id, ["hook", "hook"], iso(START))
    assert again == 0
    rows = alerts(db)
    assert len(rows) == 1
    row = rows[0]
    assert row["idempotency_key"] == idempotency_key("aiman-umarova", saved.story_id, "hook")
    assert row["idempotency_key"].startswith("nw_") and len(row["idempotency_key"]) == 35
    assert (row["status"], row["attempts"], row["channel"]) == ("pending", 0, "hook")
    assert row["next_attempt_at"] == row["created_at"]


def test_a_second_article_in_the_same_story_queues_no_second_alert(
    tmp_path: Path, db: sqlite_utils.Database
) -> None:
    config = make_config(tmp_path, [], ["hook", "staff-slack"])
    text = "Human-rights lawyer Aiman Umarova spoke in court on Monday."
    first = store(db, config, "https://orda.kz/a1", text)
    second = store(db, config, "https://kaztag.kz/copy-of-a1", text, source="kaztag")
    assert first.story_id == second.story_id and second.article_id != first.article_id
    assert (first.alerts_queued, second.alerts_queued) == (2, 0)
    assert len(second.hit_ids) == 1  # the hit is stored; only the alert is not repeated
    assert sorted(row["channel"] for row in alerts(db)) == ["hook", "staff-slack"]


def test_webhook_failing_three_times_then_succeeding_is_sent_on_the_fourth_attempt(
    tmp_path: Path, db: sqlite_utils.Database, web: Any
) -> None:
    name = hook_name()
    web.script(name, [{"status": 500}, {"status": 502}, {"status": 503}, {"status": 200}])
    config = make_config(tmp_path, [webhook("hook", web.hook_url(name))], ["hook"])
    store(db, config, "https://orda.kz/a1")

    now = START
    schedule = []
    for expected in ("failed", "failed", "failed", "sent"):
        report = deliver(db, config, now=now)
        row = alerts(db)[0]
        assert row["status"] == expected
        if expected == "failed":
            # The failed alert is counted once: failed (to retry), not also pending.
            assert (report.sent, report.failed, report.pending) == (0, 1, 0)
            assert row["last_error"].startswith(f"attempt {row['attempts']}: HTTP 50")
            due = parse_iso(row["next_attempt_at"])
            schedule.append((due - now).total_seconds())
            # Not due yet: a call just before next_attempt_at sends nothing.
            assert deliver(db, config, now=due - timedelta(seconds=2)).sent == 0
            now = due + timedelta(seconds=1)
        else:
            assert (report.sent, report.failed, report.pending) == (1, 0, 0)
    assert row["attempts"] == 4 and row["sent_at"] and row["last_error"] is None
    # 5 s, 5 min, 30 min, each +-20 % jitter (and whole seconds).
    for waited, base in zip(schedule, (5, 300, 1800), strict=True):
        assert base * 0.8 - 1 <= waited <= base * 1.2 + 1

    received = web.hook_requests(name)
    assert len(received) == 4
    assert {r["headers"]["webhook-id"] for r in received} == {row["idempotency_key"]}
    for request in received:
        assert verify(SECRET, request["headers"], request["body"])
        assert not verify("whsec_" + "A" * 44, request["headers"], request["body"])
    assert len({r["body"] for r in received}) == 1  # same payload, re-signed each time

    # Delivered means done: later calls send nothing more.
    assert deliver(db, config, now=now + timedelta(days=2)).sent == 0
    assert len(web.hook_requests(name)) == 4


def test_404_is_dead_after_one_attempt_and_retry_dead_requeues_it(
    tmp_path: Path, db: sqlite_utils.Database, web: Any
) -> None:
    name = hook_name()
    web.script(name, [{"status": 404, "body": "no such hook"}])
    config = make_config(tmp_path, [webhook("hook", web.hook_url(name))], ["hook"])
    store(db, config, "https://orda.kz/a1")

    report = deliver(db, config, now=START)
    assert (report.sent, report.failed, report.dead, report.pending) == (0, 0, 1, 0)
    assert not report.ok
    row = alerts(db)[0]
    assert (row["status"], row["attempts"]) == ("dead", 1)
    assert row["last_error"] == "attempt 1: HTTP 404: no such hook"
    assert deliver(db, config, now=START + timedelta(days=30)).dead == 0
    assert len(web.hook_requests(name)) == 1

    counts = status(db, now=START + timedelta(hours=1))
    assert counts["dead"] == 1 and counts["pending"] == counts["sent"] == 0
    assert counts["oldest_pending_at"] is None

    assert retry_dead(db, now=START + timedelta(hours=1)) == 1
    row = alerts(db)[0]
    assert (row["status"], row["attempts"]) == ("pending", 0)
    counts = status(db, now=START + timedelta(hours=1))
    assert (counts["pending"], counts["dead"]) == (1, 0)
    assert counts["oldest_pending_at"] == row["created_at"]
    assert counts["oldest_pending_age_seconds"] >= 0

    report = deliver(db, config, now=START + timedelta(hours=1))  # the receiver now says 200
    assert report.sent == 1 and report.ok
    assert status(db)["sent"] == 1
    assert retry_dead(db) == 0


def test_max_attempts_turns_a_failing_alert_dead(
    tmp_path: Path, db: sqlite_utils.Database, web: Any
) -> None:
    name = hook_name()
    web.script(name, [{"status": 500}] * 3)
    config = make_config(tmp_path, [webhook("hook", web.hook_url(name))], ["hook"], max_attempts=2)
    store(db, config, "https://orda.kz/a1")
    assert deliver(db, config, now=START).failed == 1
    report = deliver(db, config, now=START + timedelta(hours=1))
    assert (report.failed, report.dead) == (0, 1)
    row = alerts(db)[0]
    assert (row["status"], row["attempts"]) == ("dead", 2)
    assert len(web.hook_requests(name)) == 2


def test_a_row_with_a_live_lease_is_not_sent_but_an_expired_one_is(
    tmp_path: Path, db: sqlite_utils.Database, web: Any
) -> None:
    name = hook_name()
    config = make_config(tmp_path, [webhook("hook", web.hook_url(name))], ["hook"])
    store(db, config, "https://orda.kz/a1")
    lease_until = iso(START + timedelta(minutes=10))
    db.execute("UPDATE alerts SET status = 'sending', lease_until = ?", [lease_until])

    report = deliver(db, config, now=START)
    assert (report.sent, report.pending) == (0, 1)
    assert alerts(db)[0]["status"] == "sending"
    assert web.hook_requests(name) == []

    # The sender that held it died; once its lease runs out the row is taken over.
    report = deliver(db, config, now=START + timedelta(minutes=11))
    assert report.sent == 1
    assert alerts(db)[0]["status"] == "sent"
    assert len(web.hook_requests(name)) == 1


class Overlapping:
    """A channel that, while sending, lets a second process run deliver on the same rows."""

    def __init__(self, config: Config, path: Path) -> None:
        self.config = config
        self.path = path
        self.sent: list[str] = []
        self.inner_reports: list[Any] = []

    def send(self, message: AlertMessage) -> None:
        other = open_database(self.path)  # its own connection, as another process has
        recorder = Recorder()
        self.inner_reports.append(deliver(other, self.config, senders={"hook": recorder}))
        other.close()
        assert recorder.sent == []
        self.sent.append(message.id)

    def close(self) -> None:
        pass


class Recorder:
    """A channel that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.notices: list[Notice] = []

    def send(self, message: AlertMessage) -> None:
        self.sent.append(message.id)

    def notify(self, notice: Notice) -> None:
        self.notices.append(notice)

    def close(self) -> None:
        pass


def test_two_overlapping_deliveries_never_both_send_a_row(
    tmp_path: Path, db: sqlite_utils.Database
) -> None:
    config = make_config(tmp_path, [Channel(id="hook", type="console")], ["hook"])
    store(db, config, "https://orda.kz/a1")
    channel = Overlapping(config, tmp_path / "newswatch.db")
    report = deliver(db, config, senders={"hook": channel})
    assert report.sent == 1
    assert len(channel.sent) == 1
    assert channel.inner_reports[0].sent == 0 and channel.inner_reports[0].pending == 1


def test_an_unreachable_channel_is_skipped_for_the_run_and_others_keep_going(
    tmp_path: Path, db: sqlite_utils.Database, web: Any
) -> None:
    name = hook_name()
    down_url = closed_port_url()
    config = make_config(
        tmp_path,
        [webhook("hook", web.hook_url(name)), webhook("down", down_url)],
        ["down", "hook"],
    )
    store(db, config, "https://orda.kz/a1", "Aiman Umarova appealed the verdict.")
    store(db, config, "https://orda.kz/a2", "Aiman Umarova met the court again.")

    report = deliver(db, config, now=START)
    assert (report.sent, report.failed, report.skipped_channels) == (2, 1, ["down"])
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for row in alerts(db):
        by_channel.setdefault(row["channel"], []).append(row)
    assert [r["status"] for r in by_channel["hook"]] == ["sent", "sent"]
    down = sorted(by_channel["down"], key=lambda r: r["attempts"])
    assert [(r["status"], r["attempts"]) for r in down] == [("pending", 0), ("failed", 1)]
    error = down[1]["last_error"]
    assert "connection failed" in error
    assert "down-token-xyz" not in error and down_url not in error
    assert len(web.hook_requests(name)) == 2


def test_the_secret_url_and_signing_secret_never_reach_last_error(
    tmp_path: Path, db: sqlite_utils.Database, web: Any, caplog: pytest.LogCaptureFixture
) -> None:
    name = hook_name()
    url = web.hook_url(name) + "?token=s3cr3t-t0ken"
    echo = f"cannot post to {url} with {SECRET}, path /_hook/{name}"
    web.script(name, [{"status": 500, "body": echo}])
    config = make_config(tmp_path, [webhook("hook", url)], ["hook"])
    store(db, config, "https://orda.kz/a1")
    with caplog.at_level(logging.DEBUG):
        deliver(db, config, now=START)
    error = alerts(db)[0]["last_error"]
    assert error.startswith("attempt 1: HTTP 500: cannot post to [redacted]")
    for secret in (url, "s3cr3t-t0ken", SECRET, SECRET.removeprefix("whsec_")):
        assert secret not in error
        assert secret not in caplog.text
    assert f"/_hook/{name}" not in error


def test_retry_after_is_honoured_and_a_rate_limited_channel_rests(
    tmp_path: Path, db: sqlite_utils.Database, web: Any
) -> None:
    name = hook_name()
    web.script(name, [{"status": 429, "headers": {"Retry-After": "7200"}}])
    config = make_config(tmp_path, [webhook("hook", web.hook_url(name))], ["hook"])
    store(db, config, "https://orda.kz/a1", "Aiman Umarova appealed the verdict.")
    store(db, config, "https://orda.kz/a2", "Aiman Umarova met the court again.")
    report = deliver(db, config, now=START)
    assert (report.failed, report.skipped_channels) == (1, ["hook"])
    failed = next(row for row in alerts(db) if row["status"] == "failed")
    assert parse_iso(failed["next_attempt_at"]) >= START + timedelta(seconds=7200)
    assert len(web.hook_requests(name)) == 1  # the second row waits for the next run


def test_alerts_for_a_channel_gone_from_the_config_wait_with_one_warning(
    tmp_path: Path, db: sqlite_utils.Database, caplog: pytest.LogCaptureFixture
) -> None:
    queued = make_config(tmp_path, [], ["old-slack"])
    store(db, queued, "https://orda.kz/a1", "Aiman Umarova appealed the verdict.")
    store(db, queued, "https://orda.kz/a2", "Aiman Umarova met the court again.")
    config = make_config(tmp_path, [Channel(id="console", type="console")], [])
    with caplog.at_level(logging.WARNING, logger="alerts"):
        report = deliver(db, config, now=START)
    assert (report.sent, report.pending, report.unusable_channels) == (0, 2, ["old-slack"])
    assert [(r["status"], r["attempts"]) for r in alerts(db)] == [("pending", 0)] * 2
    warnings = [r.getMessage() for r in caplog.records if "old-slack" in r.getMessage()]
    assert len(warnings) == 1 and "2 alert(s)" in warnings[0]


def test_console_channel_prints_the_alert(
    tmp_path: Path, db: sqlite_utils.Database, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path, [Channel(id="console", type="console")], ["console"])
    store(db, config, "https://orda.kz/a1", "Aiman Umarova appealed \x1b[31mthe verdict.")
    assert deliver(db, config).sent == 1
    out = capsys.readouterr().out
    assert "alert: Aiman Umarova (aiman-umarova)" in out
    for expected in (
        "Lawyer Aiman Umarova speaks in court",
        "https://orda.kz/a1",
        "orda",
        PUBLISHED,
        "matched:",
    ):
        assert expected in out
    assert "\x1b" not in out


def test_console_channel_writes_to_a_given_stream(
    tmp_path: Path, db: sqlite_utils.Database
) -> None:
    config = make_config(tmp_path, [Channel(id="console", type="console")], ["console"])
    store(db, config, "https://orda.kz/a1")
    buffer = io.StringIO()
    deliver(db, config, senders={"console": ConsoleChannel(stream=buffer)})
    assert "https://orda.kz/a1" in buffer.getvalue()


def test_status_counts_every_state(tmp_path: Path, db: sqlite_utils.Database) -> None:
    config = make_config(tmp_path, [], ["hook"])
    store(db, config, "https://orda.kz/a1")
    counts = status(db, now=START)
    assert {k: counts[k] for k in ("pending", "sending", "sent", "failed", "dead")} == {
        "pending": 1,
        "sending": 0,
        "sent": 0,
        "failed": 0,
        "dead": 0,
    }
    assert counts["next_attempt_at"] == alerts(db)[0]["next_attempt_at"]
    json.dumps(counts)  # the CLI prints it with --json


# --- backfill, privacy, source alerts ----------------------------------------------------


def test_backfill_is_stored_but_not_queued(tmp_path: Path, db: sqlite_utils.Database) -> None:
    config = make_config(tmp_path, [], ["hook"])
    now = START
    note_run(db, config, iso(now))
    # A new source and a new watch: an article from three days ago is backfill.
    old = store(db, config, "https://orda.kz/old", published=now - timedelta(days=3))
    assert old.hit_ids and old.alerts_queued == 0
    # Published within backfill_hours of the first run: news.
    fresh = store(db, config, "https://orda.kz/fresh", published=now - timedelta(hours=20))
    assert fresh.alerts_queued == 1
    # A source and watch that have run for weeks: a late-found article is news, not backfill.
    db.execute(
        "INSERT INTO sources (name, url, first_run_at, consecutive_failures) VALUES (?, ?, ?, 0)",
        ["kaztag", "https://kaztag.kz/rss", iso(now - timedelta(days=30))],
    )
    db.execute("UPDATE alert_watches SET first_run_at = ?", [iso(now - timedelta(days=30))])
    late = store(
        db, config, "https://kaztag.kz/a", source="kaztag", published=now - timedelta(days=3)
    )
    assert late.alerts_queued == 1
    # A watch added today still does not alert on that source's old news.
    assert is_backfill(db, "new-watch", late.hit_ids[0], iso(now))
    assert len(list(db.query("SELECT id FROM hits"))) == 3


def test_backfill_hours_zero_turns_it_off(tmp_path: Path, db: sqlite_utils.Database) -> None:
    config = make_config(tmp_path, [], ["hook"])
    config = dataclasses.replace(config, alerts=AlertSettings(backfill_hours=0))
    note_run(db, config, iso(START))
    saved = store(db, config, "https://orda.kz/old", published=datetime(2020, 1, 1, tzinfo=UTC))
    assert saved.alerts_queued == 1


def test_a_redacted_watch_sends_its_id_and_no_snippet(
    tmp_path: Path, db: sqlite_utils.Database, web: Any
) -> None:
    name = hook_name()
    config = make_config(tmp_path, [webhook("hook", web.hook_url(name))], ["hook"])
    watch = dataclasses.replace(config.watches[0], id="client-17", redact=True)
    config = dataclasses.replace(config, watches=(watch,))
    text = "Адвокат Айман Умарова и Aiman Umarova: the court heard the appeal."
    save_hit(
        db,
        watch_id="client-17",
        name="Айман Умарова",
        url="https://orda.kz/r",
        text=text,
        channels=("hook",),
        title="Суд: Айман Умарова (Aiman UMAROVA) обжалует решение",
        language="ru",
    )
    assert deliver(db, config).sent == 1
    (request,) = web.hook_requests(name)
    data = json.loads(request["body"])["data"]
    assert data["watch_id"] == data["watch_name"] == data["matched"] == "client-17"
    assert data["snippet"] == ""
    assert data["article"]["title"] == "Суд: client-17 (client-17) обжалует решение"
    assert "Умаров" not in request["body"] and "marova" not in request["body"].lower()
    (stored,) = db.query("SELECT matched, snippet FROM hits")
    assert stored == {"matched": "Айман Умарова", "snippet": text}


def test_source_alerts_tell_the_operator_once_and_once_on_recovery(
    tmp_path: Path, db: sqlite_utils.Database
) -> None:
    config = dataclasses.replace(
        make_config(tmp_path, [Channel(id="ops", type="console")], []),
        sources=(Source(name="orda", feed="https://orda.kz/rss"),),
        alerts=AlertSettings(operator_channel="ops", source_failure_threshold=3),
    )
    ops = Recorder()
    for run in range(5):
        record_source_failure(db, "orda", "https://orda.kz/rss", f"HTTP 503 (run {run})")
        told = source_alerts(db, config, senders={"ops": ops})
        assert told == (["source orda has failed 3 runs in a row"] if run == 2 else [])
    assert [n.type for n in ops.notices] == ["source.failing"]
    assert "HTTP 503 (run 2)" in ops.notices[0].text
    record_source_ok(db, "orda", "https://orda.kz/rss")
    assert source_alerts(db, config, senders={"ops": ops}) == ["source orda works again"]
    assert source_alerts(db, config, senders={"ops": ops}) == []
    assert [n.type for n in ops.notices] == ["source.failing", "source.recovered"]


def test_status_text_names_disabled_and_resting_channels(
    tmp_path: Path, db: sqlite_utils.Database
) -> None:
    config = make_config(tmp_path, [webhook("hook", "https://example.org/h")], ["hook"])
    store(db, config, "https://orda.kz/a1")
    disable_channel(db, config.channels[0], "HTTP 410: gone", iso(START))
    rest_channel(db, "slack", iso(START + timedelta(hours=1)))
    text = status_text(status(db, now=START))
    assert text.startswith("alerts: 1 pending, 0 sending, 0 sent, 0 failed, 0 dead\n")
    assert "channel hook disabled since" in text and "HTTP 410: gone" in text
    assert "channel slack rests until" in text
    assert enable_channels(db) == ["hook"] and status(db)["disabled_channels"] == []


def test_cli_status_and_retry_show_and_reenable_a_disabled_channel(
    tmp_path: Path, web: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = hook_name()
    web.script(name, [{"status": 410, "body": "gone"}])
    (tmp_path / "newswatch.toml").write_text(
        'database = "nw.db"\n\n[[channel]]\nid = "hook"\ntype = "webhook"\n'
        'url_env = "NW_TEST_HOOK"\n\n[[watch]]\nid = "aiman-umarova"\nname = "Aiman Umarova"\n'
        'channels = ["hook"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("NW_TEST_HOOK", web.hook_url(name))
    config_path = str(tmp_path / "newswatch.toml")
    db = open_database(tmp_path / "nw.db")
    store(db, make_config(tmp_path, [], ["hook"]), "https://orda.kz/a1")

    assert main(["alerts", "deliver", "-c", config_path]) == 1
    assert "disabled (see `newswatch alerts status`): hook" in capsys.readouterr().out
    assert main(["alerts", "status", "-c", config_path]) == 0
    out = capsys.readouterr().out
    assert out.startswith("alerts: 1 pending, 0 sending, 0 sent, 0 failed, 0 dead\n")
    assert "channel hook disabled since" in out and "HTTP 410: gone" in out
    assert main(["alerts", "retry", "--json", "-c", config_path]) == 0
    assert json.loads(capsys.readouterr().out) == {"requeued": 0, "enabled_channels": ["hook"]}
    assert main(["alerts", "deliver", "--json", "-c", config_path]) == 0
    assert json.loads(capsys.readouterr().out)["sent"] == 1


def test_cli_deliver_counts_each_alert_once(
    tmp_path: Path, web: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, bad = hook_name(), hook_name()
    web.script(bad, [{"status": 500}])
    (tmp_path / "newswatch.toml").write_text(
        'database = "nw.db"\n\n'
        '[[channel]]\nid = "ok"\ntype = "webhook"\nurl_env = "NW_TEST_OK"\n\n'
        '[[channel]]\nid = "bad"\ntype = "webhook"\nurl_env = "NW_TEST_BAD"\n\n'
        '[[watch]]\nid = "aiman-umarova"\nname = "Aiman Umarova"\nchannels = ["ok", "bad"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("NW_TEST_OK", web.hook_url(ok))
    monkeypatch.setenv("NW_TEST_BAD", web.hook_url(bad))
    config_path = str(tmp_path / "newswatch.toml")
    db = open_database(tmp_path / "nw.db")
    store(db, make_config(tmp_path, [], ["ok", "bad"]), "https://orda.kz/a1")
    store(db, make_config(tmp_path, [], ["ok"]), "https://kaztag.kz/other",
          text="Aiman Umarova filed an appeal for Sayragul Sauytbay on Monday morning.")

    assert main(["alerts", "deliver", "-c", config_path]) == 1
    # Three alerts: two reach "ok", the one to "bad" fails once and is not also "pending".
    assert capsys.readouterr().out == "alerts: 2 sent, 1 failed (1 will retry, 0 dead), 0 waiting\n"

    # The next call finds the failed one not yet due: it waits, and nothing failed.
    assert main(["alerts", "deliver", "--json", "-c", config_path]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["undelivered"], data["sent"], data["failed"], data["pending"]) == (1, 0, 0, 1)
    counted = ("sent", "summarized", "failed", "dead", "withdrawn", "pending")
    assert sum(data[key] for key in counted) == data["undelivered"]


def test_an_alert_queued_before_its_story_was_marked_irrelevant_is_withdrawn(
    tmp_path: Path, db: sqlite_utils.Database, web: Any
) -> None:
    name = hook_name()
    config = make_config(tmp_path, [webhook("hook", web.hook_url(name))], ["hook"])
    store(db, config, "https://orda.kz/withdrawn")
    db.execute("UPDATE hits SET status = 'irrelevant'")
    db.conn.commit()

    report = deliver(db, config, now=START)
    assert report.sent == 0
    assert (report.undelivered, report.withdrawn, report.dead, report.pending) == (1, 1, 0, 0)
    assert report.summary() == (
        "alerts: 0 sent, 0 failed, 1 withdrawn (story marked irrelevant), 0 waiting"
    )
    assert web.hook_requests(name) == []
    row = alerts(db)[0]
    assert row["status"] == "dead"
    assert row["last_error"].startswith("withdrawn: an editor marked this story irrelevant")
    retry_dead(db, now=START)  # a re-queued withdrawn alert is withdrawn again, never sent
    deliver(db, config, now=START + timedelta(hours=1))
    assert web.hook_requests(name) == [] and alerts(db)[0]["status"] == "dead"



@pytest.mark.parametrize(
    ("url", "names_it"),
    [
        ("https://orda.kz/news/serikzhan-bilash-detained-in-almaty", True),
        ("https://orda.kz/news/serikjan-bilash-freed", True),  # another transliteration
        # «Серикжана Билаша задержали»: inflected Russian, percent-encoded
        (
            "https://orda.kz/ru/news/%D0%A1%D0%B5%D1%80%D0%B8%D0%BA%D0%B6%D0%B0%D0%BD%D0%B0-"
            "%D0%91%D0%B8%D0%BB%D0%B0%D1%88%D0%B0-%D0%B7%D0%B0%D0%B4%D0%B5%D1%80%D0%B6%D0%B0%D0%BB%D0%B8",
            True,
        ),
        ("https://orda.kz/search?q=Serikzhan+Bilash", True),
        ("https://orda.kz/news/2024/05/almaty-court-ruling", False),
    ],
)
def test_the_matcher_finds_a_watch_named_in_a_url(url: str, names_it: bool) -> None:
    from crawler.matching.matcher import url_names

    watch = Watch(id="witness-7", kind="person", name="Serikzhan Bilash",
                  aliases=("Серікжан Біләш",), redact=True)
    assert url_names(url, watch) is names_it


@pytest.mark.parametrize("found_at_ingest", [False, True])
def test_a_redacted_watch_named_in_the_url_gets_the_desks_link(
    tmp_path: Path, db: sqlite_utils.Database, web: Any, found_at_ingest: bool
) -> None:
    from crawler.models import Article
    from crawler.storage.store import save_article

    name = hook_name()
    config = make_config(tmp_path, [webhook("hook", web.hook_url(name))], ["hook"])
    watch = dataclasses.replace(config.watches[0], id="client-17", redact=True)
    config = dataclasses.replace(config, watches=(watch,))
    # A slug the name appears in as written, or one only the matcher knows (inflected).
    url = "https://orda.kz/news/umarovoy-aiman-sud" if found_at_ingest else (
        "https://orda.kz/news/aiman-umarova-appeals-the-verdict"
    )
    text = "Адвокат Айман Умарова: the court heard the appeal."
    article = Article(url=url, canonical_url=url, source="orda", title="Court hears appeal",
                      text=text, published_at=iso(datetime.now(UTC)), language="ru",
                      content_hash=uuid.uuid4().hex)
    hit = Hit("client-17", "Айман Умарова", 9, 22, text, 0.95, "name",
              url_names_watch=found_at_ingest)
    saved = save_article(db, article, [hit], lambda _: ("hook",),
                         functools.partial(enqueue, backfill_hours=24))
    assert deliver(db, config).sent == 1
    (request,) = web.hook_requests(name)
    data = json.loads(request["body"])["data"]
    desk = f"http://127.0.0.1:8001/-/newswatch/hit/{saved.hit_ids[0]}"
    assert data["article"]["url"] == desk
    assert "umarov" not in request["body"].lower()
    assert db.execute("SELECT url FROM articles").fetchone()[0] == url  # the database keeps it
