"""The ten failure-injection scenarios of issue 5, against real local receivers.

Webhooks and Slack go to the test server's scriptable ``/_hook/<name>``
receiver, email to a local aiosmtpd server with STARTTLS; crashes are real
SIGKILLs of ``newswatch`` subprocesses, timed by a receiver that holds its
answer. Each scenario asserts what arrived.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from alerts import deliver, status, verify
from alerts.slack import SECTION_LIMIT
from crawler.clock import FakeClock, using
from crawler.config import Channel, Config, Watch
from crawler.storage.store import open_database
from tests.conftest import (
    SECRET,
    MailServers,
    TlsFiles,
    WebServer,
    config_for,
    free_port,
    save_hit,
    slack_channel,
    unique,
    webhook_channel,
)

REPO = Path(__file__).resolve().parents[1]
WATCH = Watch(id="aiman-umarova", kind="person", name="Aiman Umarova")


webhook, slack = webhook_channel, slack_channel


def make_config(tmp_path: Path, channels: Iterable[Channel], watch: Watch = WATCH) -> Config:
    channels = tuple(channels)
    routed = Watch(**{**watch.__dict__, "channels": tuple(c.id for c in channels)})
    return config_for(tmp_path, channels, [routed])


def store_hits(
    db: sqlite_utils.Database,
    config: Config,
    count: int,
    *,
    title: str = "Lawyer Aiman Umarova speaks in court ({n})",
    snippet: str = "",
) -> None:
    """``count`` articles, each its own story, each with one hit on the watch."""
    watch = config.watches[0]
    for n in range(count):
        save_hit(
            db,
            watch_id=watch.id,
            name="Aiman Umarova",
            url=f"https://orda.kz/news/{n}",
            text=f"Story {n}: human-rights lawyer Aiman Umarova spoke in court, {uuid.uuid4()}.",
            channels=watch.channels,
            title=title.format(n=n),
            snippet=snippet or None,
        )


def processed(requests: list[dict[str, Any]]) -> list[str]:
    """The webhook-ids a deduplicating receiver would process: each id once."""
    return list(dict.fromkeys(r["headers"]["webhook-id"] for r in requests))


def alert_rows(db_path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM alerts ORDER BY id")]


# --- 1 -----------------------------------------------------------------------------------


def test_1_webhook_500_500_500_200_is_one_event_in_four_signed_attempts(
    tmp_path: Path, web: WebServer
) -> None:
    name = unique("f1")
    web.script(name, [{"status": 500}] * 3 + [{"status": 200}])
    config = make_config(tmp_path, [webhook("hook", web.hook_url(name))])
    db = open_database(config.database)
    store_hits(db, config, 1)
    now = datetime.now(UTC)
    for _ in range(4):
        deliver(db, config, now=now)
        now += timedelta(days=1)  # later cron runs, past any backoff
    received = web.hook_requests(name)
    assert len(received) == 4
    assert len({r["headers"]["webhook-id"] for r in received}) == 1
    assert len({r["headers"]["webhook-timestamp"] for r in received}) >= 1
    assert all(verify(SECRET, r["headers"], r["body"]) for r in received)
    assert len(processed(received)) == 1
    (row,) = alert_rows(config.database)
    assert (row["status"], row["attempts"]) == ("sent", 4)


# --- 2 -----------------------------------------------------------------------------------


def test_2_retry_after_is_honoured_and_other_channels_are_unaffected(
    tmp_path: Path, web: WebServer
) -> None:
    limited, other = unique("f2-limited"), unique("f2-other")
    web.script(limited, [{"status": 429, "headers": {"Retry-After": "120"}, "body": "slow down"}])
    config = make_config(
        tmp_path, [webhook("limited", web.hook_url(limited)), webhook("other", web.hook_url(other))]
    )
    db = open_database(config.database)
    store_hits(db, config, 2)
    start = datetime.now(UTC)

    report = deliver(db, config, now=start)
    assert len(web.hook_requests(limited)) == 1
    assert len(web.hook_requests(other)) == 2  # the other channel got everything
    assert report.skipped_channels == ["limited"]
    (resting,) = status(db, now=start)["resting_channels"]
    assert resting["channel"] == "limited"

    # Runs before Retry-After has passed send nothing to that endpoint, not even new rows.
    for seconds in (30, 90, 115):
        report = deliver(db, config, now=start + timedelta(seconds=seconds))
        assert report.resting_channels == ["limited"] and report.sent == 0
    assert len(web.hook_requests(limited)) == 1

    report = deliver(db, config, now=start + timedelta(seconds=130))
    assert report.sent == 2
    assert len(processed(web.hook_requests(limited))) == 2


# --- 3, 4, 5, 9: real processes, really killed ---------------------------------------------


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "newswatch.toml"
    path.write_text(
        """
database = "nw.db"

[[channel]]
id = "hook"
type = "webhook"
url_env = "NW_HOOK_URL"
secret_env = "NW_HOOK_SECRET"
cap = 100

[[watch]]
id = "aiman-umarova"
name = "Aiman Umarova"
channels = ["hook"]
""",
        encoding="utf-8",
    )
    return path


def cli_env(web: WebServer, name: str) -> dict[str, str]:
    return {**os.environ, "NW_HOOK_URL": web.hook_url(name), "NW_HOOK_SECRET": SECRET}


def deliver_process(config: Path, web: WebServer, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "alerts", "deliver", "-c", str(config)],
        env=cli_env(web, name),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_requests(web: WebServer, name: str, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(web.hook_requests(name)) < count:
        assert time.monotonic() < deadline, f"receiver {name} never got {count} requests"
        time.sleep(0.05)


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def load(config_path: Path, web: WebServer, name: str) -> tuple[Config, sqlite_utils.Database]:
    from crawler.config import load_config

    config = load_config(config_path, env=cli_env(web, name))
    return config, open_database(config.database)


def kill_mid_send(
    tmp_path: Path, web: WebServer, name: str, *, alerts: int, answered: int
) -> tuple[Config, sqlite_utils.Database]:
    """Queue ``alerts``; run ``alerts deliver``; SIGKILL it while the receiver, having
    answered ``answered`` requests at once, holds its 2xx to the next one."""
    config_path = write_config(tmp_path)
    config, db = load(config_path, web, name)
    store_hits(db, config, alerts)
    web.script(name, [{"status": 200}] * answered + [{"status": 200, "delay": 10}])
    process = deliver_process(config_path, web, name)
    wait_for_requests(web, name, answered + 1)
    kill(process)  # the receiver has the event; the sender never marked it sent
    return config, db


STORE_THEN_DIE = """
import os, signal, sys
from crawler.config import load_config
from tests.test_delivery_failures import store_hits
from crawler.storage.store import open_database
config = load_config(sys.argv[1])
db = open_database(config.database)
store_hits(db, config, int(sys.argv[2]))
os.kill(os.getpid(), signal.SIGKILL)  # the hits and their alerts are committed; nothing sent
"""


def test_3_killed_after_the_hits_commit_the_next_run_delivers_each_alert_once(
    tmp_path: Path, web: WebServer
) -> None:
    name = unique("f3")
    config_path = write_config(tmp_path)
    died = subprocess.run(
        [sys.executable, "-c", STORE_THEN_DIE, str(config_path), "5"],
        env=cli_env(web, name),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert web.hook_requests(name) == []
    assert [r["status"] for r in alert_rows(tmp_path / "nw.db")] == ["pending"] * 5

    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "alerts", "deliver", "-c", str(config_path)],
        env=cli_env(web, name),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    received = web.hook_requests(name)
    assert len(received) == 5 and len(processed(received)) == 5
    assert {r["status"] for r in alert_rows(tmp_path / "nw.db")} == {"sent"}


def test_4_killed_after_the_receiver_took_it_the_next_run_resends_once_with_the_same_key(
    tmp_path: Path, web: WebServer
) -> None:
    name = unique("f4")
    config, db = kill_mid_send(tmp_path, web, name, alerts=1, answered=0)
    (row,) = alert_rows(config.database)
    assert row["status"] == "sending"

    # Before the lease runs out nobody sends it; after, the next run does, once.
    assert deliver(db, config).sent == 0
    report = deliver(db, config, now=datetime.now(UTC) + timedelta(minutes=11))
    assert report.sent == 1
    received = web.hook_requests(name)
    assert len(received) == 2
    assert received[0]["headers"]["webhook-id"] == received[1]["headers"]["webhook-id"]
    assert len(processed(received)) == 1  # the receiver drops the repeat
    assert all(verify(SECRET, r["headers"], r["body"]) for r in received)
    assert alert_rows(config.database)[0]["status"] == "sent"


def test_5_killed_in_a_batch_of_20_all_arrive_and_only_the_one_in_flight_repeats(
    tmp_path: Path, web: WebServer
) -> None:
    name = unique("f5")
    config, db = kill_mid_send(tmp_path, web, name, alerts=20, answered=7)
    in_flight = web.hook_requests(name)[7]["headers"]["webhook-id"]
    statuses = Counter(r["status"] for r in alert_rows(config.database))
    assert statuses == {"sent": 7, "sending": 1, "pending": 12}

    report = deliver(db, config, now=datetime.now(UTC) + timedelta(minutes=11))
    assert report.sent == 13
    received = web.hook_requests(name)
    ids = Counter(r["headers"]["webhook-id"] for r in received)
    assert len(ids) == 20 and len(received) == 21
    assert [key for key, count in ids.items() if count > 1] == [in_flight]
    assert {r["status"] for r in alert_rows(config.database)} == {"sent"}


def test_9_two_deliver_processes_at_once_send_every_alert_exactly_once(
    tmp_path: Path, web: WebServer
) -> None:
    name = unique("f9")
    config_path = write_config(tmp_path)
    config, db = load(config_path, web, name)
    store_hits(db, config, 40)
    db.close()
    web.script(name, [{"status": 200, "delay": 0.03}] * 40)
    first, second = deliver_process(config_path, web, name), deliver_process(config_path, web, name)
    outputs = [first.communicate(timeout=120), second.communicate(timeout=120)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    sent = [int(out.split(" sent")[0].removeprefix("alerts: ")) for out, _ in outputs]
    assert sum(sent) == 40 and all(sent), (
        outputs
    )  # both worked, neither sent another's row, neither sent another's row
    ids = Counter(r["headers"]["webhook-id"] for r in web.hook_requests(name))
    assert len(ids) == 40 and set(ids.values()) == {1}
    assert {r["status"] for r in alert_rows(config.database)} == {"sent"}


# --- 6 -----------------------------------------------------------------------------------


def mail(port: int, tls: TlsFiles, security: str = "starttls") -> Channel:
    return Channel(
        id="editors-mail",
        type="email",
        options={
            "host": "127.0.0.1",
            "port": port,
            "security": security,
            "from": "alerts@example.org",
            "to": ["editors@example.org"],
            "ca_file": str(tls.ca),
            "timeout": 5,
        },
    )


def test_6_smtp_refusing_connections_backs_off_then_delivers_and_never_falls_back_to_plaintext(
    tmp_path: Path, smtp: MailServers, tls_files: TlsFiles
) -> None:
    port = free_port()
    config = make_config(tmp_path, [mail(port, tls_files)])
    db = open_database(config.database)
    store_hits(db, config, 3)
    start = datetime.now(UTC)
    report = deliver(db, config, now=start)  # nothing listens: connection refused
    assert (report.sent, report.failed, report.skipped_channels) == (0, 1, ["editors-mail"])
    failed = [r for r in alert_rows(config.database) if r["status"] == "failed"]
    assert len(failed) == 1 and "cannot connect" in failed[0]["last_error"]
    due = datetime.fromisoformat(failed[0]["next_attempt_at"].replace("Z", "+00:00"))
    assert due > start  # backed off

    server = smtp.start("starttls", port=port)
    report = deliver(db, config, now=due + timedelta(seconds=1))
    assert report.sent == 3
    assert len(server.messages) == 3 and all(m["tls"] for m in server.messages)

    # A server without STARTTLS: a configuration error, and not one byte of mail in plaintext.
    plain = smtp.start("plain")
    other = make_config(tmp_path / "other", [mail(plain.port, tls_files)])
    (tmp_path / "other").mkdir()
    db2 = open_database(other.database)
    store_hits(db2, other, 2)
    report = deliver(db2, other)
    assert report.sent == 0 and report.disabled_channels == ["editors-mail"]
    assert plain.messages == []
    (disabled,) = status(db2)["disabled_channels"]
    assert "offers no STARTTLS" in disabled["reason"]
    assert {r["status"] for r in alert_rows(other.database)} == {"pending"}


# --- 7 -----------------------------------------------------------------------------------


def test_7_permanent_errors_disable_their_channel_without_retries_and_others_continue(
    tmp_path: Path, web: WebServer
) -> None:
    names = {key: unique(f"f7-{key}") for key in ("nosvc", "archived", "gone", "ok")}
    web.script(names["nosvc"], [{"status": 404, "body": "no_service"}])
    web.script(names["archived"], [{"status": 410, "body": "channel_is_archived"}])
    web.script(names["gone"], [{"status": 410, "body": "gone"}])
    config = make_config(
        tmp_path,
        [
            slack("slack-nosvc", web.hook_url(names["nosvc"])),
            slack("slack-archived", web.hook_url(names["archived"])),
            webhook("hook-gone", web.hook_url(names["gone"])),
            webhook("hook-ok", web.hook_url(names["ok"])),
        ],
    )
    db = open_database(config.database)
    store_hits(db, config, 3)
    report = deliver(db, config)
    assert sorted(report.disabled_channels) == ["hook-gone", "slack-archived", "slack-nosvc"]
    assert report.sent == 3 and len(web.hook_requests(names["ok"])) == 3
    for later in (1, 24, 72):  # later runs: still no retry to a disabled channel
        deliver(db, config, now=datetime.now(UTC) + timedelta(hours=later))
    for key in ("nosvc", "archived", "gone"):
        assert len(web.hook_requests(names[key])) == 1, key
    reasons = {d["channel"]: d["reason"] for d in status(db)["disabled_channels"]}
    assert "no_service" in reasons["slack-nosvc"]
    assert "channel_is_archived" in reasons["slack-archived"]
    assert "HTTP 410" in reasons["hook-gone"]
    # Their alerts wait (none lost), and a channel whose URL is fixed is used again.
    waiting = [r for r in alert_rows(config.database) if r["channel"] != "hook-ok"]
    assert {r["status"] for r in waiting} == {"pending"} and len(waiting) == 9
    fixed_name = unique("f7-fixed")
    fixed = Config(
        **{
            **config.__dict__,
            "channels": (*config.channels[:2], webhook("hook-gone", web.hook_url(fixed_name))),
        }
    )
    assert deliver(db, fixed).sent == 3
    assert len(web.hook_requests(fixed_name)) == 3


# --- 8 -----------------------------------------------------------------------------------


def test_8_a_flood_of_500_hits_is_the_cap_plus_one_summary_and_slack_is_paced(
    tmp_path: Path, web: WebServer
) -> None:
    hook_name, slack_name = unique("f8-hook"), unique("f8-slack")
    config = make_config(
        tmp_path,
        [webhook("hook", web.hook_url(hook_name)), slack("slack", web.hook_url(slack_name), cap=4)],
    )
    db = open_database(config.database)
    with using(FakeClock(datetime.now(UTC))) as clock:  # pacing moves this clock, not the test
        store_hits(db, config, 500)
        report = deliver(db, config)
    assert report.sent == 20 + 4 and report.summarized == 480 + 496 and report.pending == 0

    hook = [json.loads(r["body"]) for r in web.hook_requests(hook_name)]
    assert [b["type"] for b in hook] == ["hit.created"] * 20 + ["alerts.summary"]
    summary = hook[-1]["data"]
    assert summary["count"] == 480 and summary["link"] == config.review_url
    assert "480 more alerts" in summary["title"]

    slack_requests = web.hook_requests(slack_name)
    assert len(slack_requests) == 5
    assert "496 more alerts" in json.loads(slack_requests[-1]["body"])["text"]
    # At most one message a second to one Slack webhook: four waits between five posts
    # (the webhook's twenty sends need none).
    assert len(clock.slept) == 4 and all(0.9 <= wait <= 1.0 for wait in clock.slept)
    assert {r["status"] for r in alert_rows(config.database)} == {"sent"}
    batches = list(db.query("SELECT channel, kind, items FROM alert_batches ORDER BY channel"))
    assert batches == [
        {"channel": "hook", "kind": "summary", "items": 480},
        {"channel": "slack", "kind": "summary", "items": 496},
    ]


# --- 10 ----------------------------------------------------------------------------------


def test_10_hostile_content_is_escaped_truncated_and_injects_no_header(
    tmp_path: Path, web: WebServer, smtp: MailServers, tls_files: TlsFiles
) -> None:
    slack_name = unique("f10-slack")
    server = smtp.start("starttls")
    config = make_config(
        tmp_path, [slack("slack", web.hook_url(slack_name)), mail(server.port, tls_files)]
    )
    db = open_database(config.database)
    hostile = "<!channel> & <b>Umarova</b>\r\nBcc: victim@example.org\r\n\r\n<script>x</script>"
    store_hits(db, config, 1, title=hostile, snippet="<!here> " + "&" * 5000)
    assert deliver(db, config).sent == 2

    body = json.loads(web.hook_requests(slack_name)[0]["body"])
    rendered = (
        [body["text"]]
        + [block.get("text", {}).get("text", "") for block in body["blocks"]]
        + [e["text"] for block in body["blocks"] for e in block.get("elements", [])]
    )
    for text in rendered:
        assert len(text) <= SECTION_LIMIT
        for raw in ("<!channel>", "<!here>", "<b>", "<script>"):
            assert raw not in text
    assert "&lt;!channel&gt; &amp; &lt;b&gt;Umarova&lt;/b&gt;" in body["blocks"][0]["text"]["text"]
    assert body["blocks"][1]["text"]["text"].endswith("…")

    (got,) = server.messages
    message = email.message_from_bytes(got["raw"], policy=email.policy.default)
    assert got["to"] == ["editors@example.org"]  # no recipient smuggled in
    assert message["Bcc"] is None
    subject = message["Subject"]
    assert "\r" not in subject and "\n" not in subject
    assert subject.startswith("newswatch: Aiman Umarova - <!channel> & <b>Umarova</b> Bcc:")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;!here&gt;" in html and html.count("&amp;") <= 1000  # snippet clipped
