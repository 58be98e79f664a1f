"""Alert delivery benchmark: 10,000 pending alerts through the outbox, to a webhook and by email.

Measures, side by side in one run:
  (a) webhook: ``alerts.deliver`` sending 10,000 pending alerts (claim with a
      lease, load the message, sign, POST, mark sent, each commit with
      synchronous=FULL) to the local test receiver (tests/server.py, in a
      subprocess), against a bare httpx client POSTing the same 10,000 bodies
      to the same receiver with no database: alerts/s, the ratio, and the
      outbox's overhead per alert in milliseconds. Goal >= 300 alerts/s.
  (b) email, digest mode: the same 10,000 alerts as digests to a local
      aiosmtpd relay, against a bare smtplib sending one mail of the same size.

The flood cap is raised out of the way (it would otherwise summarise all but 20).
Run: .venv/bin/python bench/alerts_bench.py [--alerts 10000]
Prints a small table and writes bench/out/alerts.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import smtplib
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts import deliver, enqueue, load_message  # noqa: E402
from alerts.digest import latest_slot  # noqa: E402
from crawler.config import AlertSettings, Channel, Config, Watch  # noqa: E402
from crawler.models import Article, Hit  # noqa: E402
from crawler.storage.store import iso, open_database, save_article  # noqa: E402

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def fill(directory: Path, channel: Channel, count: int) -> Config:
    """A state file with ``count`` pending alerts for ``channel`` (one story each)."""
    watch = Watch(id="aiman-umarova", kind="person", name="Aiman Umarova", channels=(channel.id,))
    config = Config(
        path=directory / "newswatch.toml",
        database=directory / "newswatch.db",
        sources=(),
        watches=(watch,),
        channels=(channel,),
        alerts=AlertSettings(cap=count + 1, backfill_hours=0),
    )
    db = open_database(config.database)
    published = iso(datetime.now(UTC) - timedelta(hours=1))
    with db.atomic():
        for n in range(count):
            text = (
                f"Report {n}: human-rights lawyer Aiman Umarova told the court in Almaty that "
                "the appeal of her client would be filed this week, despite the pressure."
            )
            article = Article(
                url=f"https://orda.kz/news/{n}",
                canonical_url=f"https://orda.kz/news/{n}",
                source="orda",
                title=f"Lawyer Aiman Umarova files appeal ({n})",
                text=text,
                published_at=published,
                language="en",
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
            )
            hit = Hit("aiman-umarova", "Aiman Umarova", 36, 49, text, 0.95, "name")
            save_article(db, article, [hit], lambda _: (channel.id,), enqueue)
    db.close()
    return config


def start_receiver() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "server.py"), "--root", str(ROOT / "tests/data/web")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    return process, line.removeprefix("listening on ")


def bench_webhook(count: int) -> dict[str, Any]:
    process, base = start_receiver()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            channel = Channel(
                id="hook",
                type="webhook",
                secrets={"url": f"{base}/_hook/bench-outbox", "secret": SECRET},
            )
            config = fill(Path(tmp), channel, count)
            db = open_database(config.database)
            rows = list(db.query("SELECT * FROM alerts ORDER BY id"))
            bodies = [
                json.dumps(load_message(db, row, config).payload(), ensure_ascii=False).encode()
                for row in rows
            ]
            # Baseline: the same bodies, the same receiver, one client, no outbox.
            with httpx.Client(timeout=30) as client:
                began = time.perf_counter()
                for body in bodies:
                    client.post(
                        f"{base}/_hook/bench-bare",
                        content=body,
                        headers={"Content-Type": "application/json"},
                    ).raise_for_status()
                bare = time.perf_counter() - began
            began = time.perf_counter()
            report = deliver(db, config)
            outbox = time.perf_counter() - began
            assert report.sent == count, report
            db.close()
    finally:
        process.terminate()
        process.wait()
    return {
        "alerts": count,
        "outbox_seconds": round(outbox, 2),
        "outbox_alerts_per_s": round(count / outbox, 1),
        "bare_seconds": round(bare, 2),
        "bare_posts_per_s": round(count / bare, 1),
        "ratio": round(bare / outbox, 2),
        "overhead_ms_per_alert": round((outbox - bare) / count * 1000, 2),
    }


class _Sink:
    def __init__(self) -> None:
        self.sizes: list[int] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sizes.append(len(envelope.content))
        return "250 OK"


def bench_digest(count: int) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    sink = _Sink()
    with tempfile.TemporaryDirectory() as tmp:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            channel = Channel(
                id="mail",
                type="email",
                options={
                    "host": "127.0.0.1",
                    "port": port,
                    "security": "plain-local-relay",
                    "from": "alerts@example.org",
                    "to": ["editors@example.org"],
                    "mode": "digest",
                    "every": "1h",
                    "at": "00:00",
                },
            )
            config = fill(Path(tmp), channel, count)
            config = replace(config, alerts=replace(config.alerts, cap=20))
            db = open_database(config.database)
            after = latest_slot(datetime.now(UTC), "1h") + timedelta(hours=1, minutes=1)
            began = time.perf_counter()
            report = deliver(db, config, now=after)
            outbox = time.perf_counter() - began
            assert report.sent == count and report.digests == 1, report
            size = sink.sizes[-1]
            # Baseline: one mail of the same size, sent with smtplib alone.
            mail = EmailMessage()
            mail["From"], mail["To"], mail["Subject"] = "a@example.org", "b@example.org", "x"
            mail.set_content("x" * size)
            began = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                smtp.send_message(mail)
            bare = time.perf_counter() - began
            db.close()
        finally:
            controller.stop()
    return {
        "alerts": count,
        "digests": report.digests,
        "digest_bytes": size,
        "outbox_seconds": round(outbox, 3),
        "outbox_alerts_per_s": round(count / outbox, 1),
        "bare_one_mail_seconds": round(bare, 3),
        "ratio": round(bare / outbox, 3),
    }


def main() -> int:
    """Run both benchmarks; print a table; write bench/out/alerts.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    args = parser.parse_args()
    results = {"webhook": bench_webhook(args.alerts), "email_digest": bench_digest(args.alerts)}
    hook, mail = results["webhook"], results["email_digest"]
    print(f"{'':34} {'seconds':>8} {'alerts/s':>10} {'vs baseline':>12}")
    print(
        f"{'webhook via outbox':34} {hook['outbox_seconds']:>8} {hook['outbox_alerts_per_s']:>10} "
        f"{hook['ratio']:>11}x"
    )
    bare = f"{hook['bare_seconds']:>8} {hook['bare_posts_per_s']:>10}"
    print(f"{'baseline: bare httpx POSTs':34} {bare}")
    print(f"outbox overhead per alert: {hook['overhead_ms_per_alert']} ms")
    print(
        f"{'email digest via outbox':34} {mail['outbox_seconds']:>8} "
        f"{mail['outbox_alerts_per_s']:>10} {mail['ratio']:>11}x"
    )
    print(f"{'baseline: one smtplib mail':34} {mail['bare_one_mail_seconds']:>8}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "alerts.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
