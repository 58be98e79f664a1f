"""Removal notices (alerts/removals.py) and how every channel says "updated article"."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

from alerts import ConsoleChannel, RetryableError, removal_notices
from alerts.apprise_channel import render as apprise_render
from alerts.mail import EmailChannel
from alerts.payload import AlertMessage, Notice
from alerts.slack import render as slack_render
from alerts.templates import Templates, message_context
from crawler import clock
from crawler.config import Channel, Watch
from crawler.models import Article, Hit
from crawler.run.revisit import record_removed
from crawler.storage.store import open_database, save_article
from tests.conftest import alert_message, config_for

UPDATED = alert_message(updated_at="2026-11-17T10:00:00Z")


def test_every_channel_says_an_alert_comes_from_an_updated_article() -> None:
    payload = UPDATED.payload()
    assert payload["data"]["article"]["updated_at"] == "2026-11-17T10:00:00Z"
    assert "updated_at" not in alert_message().payload()["data"]["article"]
    assert "in an updated article" in slack_render(UPDATED)["blocks"][0]["text"]["text"]
    assert "updated article" in slack_render(UPDATED)["text"]
    assert "updated article" not in slack_render(alert_message())["text"]
    text, html = Templates().render("alert", message_context(UPDATED))
    assert "was mentioned in an updated article from orda" in text
    assert "It changed at 2026-11-17T10:00:00Z" in text and "updated article" in html
    channel = Channel(
        id="mail",
        type="email",
        options={"host": "127.0.0.1", "sender": "nw@example.org", "to": ("e@example.org",)},
    )
    subjects = []
    mail = EmailChannel(channel)
    mail._deliver = lambda message: subjects.append(message["Subject"])  # type: ignore[method-assign]
    mail.send(UPDATED)
    assert subjects == ["newswatch: Serikzhan Bilash - updated article: Activist Serikzhan "
                        "Bilash freed"]
    assert apprise_render(UPDATED)[0] == "newswatch: Serikzhan Bilash (updated article)"
    out = io.StringIO()
    ConsoleChannel(stream=out).send(UPDATED)
    assert "updated article, changed 2026-11-17T10:00:00Z" in out.getvalue()


class Recorder:
    """A channel that records notices, failing the first ``fail`` of them."""

    def __init__(self, fail: int = 0) -> None:
        self.notices: list[Notice] = []
        self.fail = fail

    def send(self, message: AlertMessage) -> None:
        raise AssertionError("removal notices never go through send()")

    def notify(self, notice: Notice) -> None:
        if self.fail:
            self.fail -= 1
            raise RetryableError("HTTP 503")
        self.notices.append(notice)

    def close(self) -> None:
        pass


def store(db: Any, url: str, text: str, watches: tuple[str, ...]) -> int:
    article = Article(url=url, canonical_url=url, source="orda", title="Court hears Bilash",
                      text=text, published_at="2026-11-16T08:00:00Z", content_hash=text)
    hits = [Hit(watch, name, 0, len(name), text, 0.9, "name") for watch, name in
            zip(watches, ("Serikzhan Bilash", "Aiman Umarova"), strict=False)]
    result = save_article(db, article, hits, lambda _: (), lambda *args: 0)
    return int(result.article_id or 0)


def test_removal_notices_go_once_each_retry_and_hide_a_redacted_name(tmp_path: Path) -> None:
    watches = [
        Watch(id="serikzhan-bilash", name="Serikzhan Bilash", channels=("a", "b"),
              notify_removals=True),
        Watch(id="aiman-umarova", name="Aiman Umarova", channels=("a",), notify_removals=True,
              redact=True),
        Watch(id="quiet", name="Quiet", channels=("a",)),  # notify_removals off
    ]
    config = config_for(tmp_path, [Channel(id="a", type="console"),
                                   Channel(id="b", type="console")], watches)
    with clock.using(clock.FakeClock("2026-11-16T09:00:00Z")) as fake:
        db = open_database(config.database)
        first = store(db, "https://orda.kz/1", "Serikzhan Bilash and Aiman Umarova in court.",
                      ("serikzhan-bilash", "aiman-umarova"))
        # A second article loses Bilash's name in a changed text; the first is taken down.
        second = store(db, "https://orda.kz/2", "Serikzhan Bilash spoke.", ("serikzhan-bilash",))
        store(db, "https://orda.kz/2", "Nobody is named here any more.", ())
        assert record_removed(db, first, "HTTP 404", config.revisit)
        a, b = Recorder(fail=1), Recorder()
        report = removal_notices(db, config, senders={"a": a, "b": b})
        # Per channel of each watch: Bilash's takedown (a, b), Umarova's (a), Bilash's
        # mention gone from the second article (a, b); a's first notice failed.
        assert (report.sent, report.failed) == (4, 1)
        # The next run sends what failed, and nothing twice.
        fake.advance(hours=1)
        again = removal_notices(db, config, senders={"a": a, "b": b})
        assert (again.sent, again.failed) == (1, 0)
        assert removal_notices(db, config, senders={"a": a, "b": b}).sent == 0
        notices = a.notices + b.notices
        assert len(notices) == 5 and len({n.id for n in notices}) == 5
        assert sorted(n.type for n in a.notices) == [
            "article.removed", "article.removed", "mention.removed"
        ]
        redacted = next(n for n in a.notices if n.data["watch_id"] == "aiman-umarova")
        body = json.dumps(redacted.payload(), ensure_ascii=False)
        assert "Umarova" not in body and redacted.data["watch_name"] == "aiman-umarova"
        mention = next(n for n in b.notices if n.type == "mention.removed")
        assert mention.data["article"]["url"] == "https://orda.kz/2"
        assert mention.data["hit_id"] == db.execute(
            "SELECT id FROM hits WHERE article_id = ?", [second]
        ).fetchone()[0]
        rows = db.execute("SELECT status, COUNT(*) FROM removal_notices GROUP BY status")
        assert dict(rows.fetchall()) == {"sent": 5}
        # Turning notify_removals on later does not replay old takedowns.
        fake.advance(days=8)
        late = dataclasses.replace(watches[2], notify_removals=True)
        db.execute("INSERT INTO hits (article_id, watch_id, status) VALUES (?, 'quiet', 'new')",
                   [first])
        later = config_for(tmp_path, config.channels, [*watches[:2], late])
        assert removal_notices(db, later, senders={"a": a, "b": b}).sent == 0
