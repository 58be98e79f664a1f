"""Apprise channel: a real Apprise ``json://`` service posting to the local receiver."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts import (
    AppriseChannel,
    ChannelSetupError,
    Notice,
    RetryableError,
    deliver,
    make_channel,
)
from crawler.config import Channel, Watch
from crawler.storage.store import open_database
from tests.conftest import WebServer, alert_message, config_for, save_hit

MESSAGE = alert_message(
    title="Bilash freed *bold* <b>x</b>",
    snippet="Activist Serikzhan Bilash said " + "word " * 400,
)


def apprise_channel(web: WebServer, query: str = "") -> tuple[str, Channel]:
    name = "apprise-" + uuid.uuid4().hex[:12]
    url = web.hook_url(name).replace("http://", "json://") + query
    return name, Channel(id="phones", type="apprise", secrets={"url": url})


def test_an_alert_arrives_as_plain_text(web: WebServer) -> None:
    name, channel = apprise_channel(web)
    sender = make_channel(channel)
    assert isinstance(sender, AppriseChannel)
    sender.send(MESSAGE)
    sender.close()
    (request,) = web.hook_requests(name)
    body = json.loads(request["body"])
    assert body["title"] == "newswatch: Serikzhan Bilash"
    assert body["message"].startswith("Bilash freed *bold* <b>x</b>\nhttps://orda.kz/bilash\n")
    assert "also reported by 1 other article" in body["message"]
    assert len(body["message"]) < 1000  # the long snippet is clipped


def test_a_notice_arrives(web: WebServer) -> None:
    name, channel = apprise_channel(web)
    sender = make_channel(channel)
    sender.notify(
        Notice(
            id="nw_summary_x",
            type="alerts.summary",
            timestamp="2026-11-16T08:05:00Z",
            title="480 more alerts not sent one by one",
            text="see the review desk",
            link="http://127.0.0.1:8001/",
        )
    )
    (request,) = web.hook_requests(name)
    body = json.loads(request["body"])
    assert body["title"] == "480 more alerts not sent one by one"
    assert "http://127.0.0.1:8001/" in body["message"]


def test_apprise_does_not_retry_by_itself_even_if_the_url_asks(
    web: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    name, channel = apprise_channel(web, "?retry=3&token=s3cr3t-t0ken")
    web.script(name, [{"status": 500}] * 4)
    sender = make_channel(channel)
    with caplog.at_level(logging.DEBUG), pytest.raises(RetryableError) as caught:
        sender.send(MESSAGE)
    assert len(web.hook_requests(name)) == 1  # the outbox, not Apprise, decides on retries
    assert "s3cr3t-t0ken" not in str(caught.value)
    assert "s3cr3t-t0ken" not in caplog.text


def test_redirects_are_not_followed(web: WebServer) -> None:
    name, channel = apprise_channel(web)
    web.script(name, [{"status": 302, "headers": {"Location": web.hook_url(name + "-other")}}])
    sender = make_channel(channel)
    with pytest.raises(RetryableError):
        sender.send(MESSAGE)
    assert web.hook_requests(name + "-other") == []


def test_a_url_apprise_does_not_know_is_a_setup_error_that_hides_the_url() -> None:
    channel = Channel(id="phones", type="apprise", secrets={"url": "nosuch://s3cr3t@host"})
    with pytest.raises(ChannelSetupError) as caught:
        make_channel(channel)
    assert "s3cr3t" not in str(caught.value)


def test_the_outbox_retries_an_apprise_failure_with_backoff(tmp_path: Path, web: WebServer) -> None:
    name, channel = apprise_channel(web)
    web.script(name, [{"status": 503}])
    watch = Watch(
        id="serikzhan-bilash", kind="person", name="Serikzhan Bilash", channels=("phones",)
    )
    config = config_for(tmp_path, [channel], [watch])
    db = open_database(config.database)
    save_hit(
        db,
        watch_id="serikzhan-bilash",
        name="Serikzhan Bilash",
        url="https://orda.kz/bilash",
        text="Serikzhan Bilash, founder of Atajurt, spoke to reporters.",
        channels=("phones",),
    )
    report = deliver(db, config)
    assert (report.sent, report.failed) == (0, 1)
    rows: list[dict[str, Any]] = list(db.query("SELECT status, last_error FROM alerts"))
    assert rows[0]["status"] == "failed" and "Apprise could not deliver" in rows[0]["last_error"]
    report = deliver(db, config, now=datetime.now(UTC) + timedelta(hours=1))
    assert report.sent == 1
    assert len(web.hook_requests(name)) == 2


def test_a_case_without_a_name_is_titled_by_its_id_in_words(
    tmp_path: Path, web: WebServer
) -> None:
    name, channel = apprise_channel(web)
    watch = Watch(id="rusafa-women", kind="case", query="Rusafa", channels=("phones",))
    config = config_for(tmp_path, [channel], [watch])
    db = open_database(config.database)
    save_hit(
        db,
        watch_id="rusafa-women",
        name="Rusafa",
        url="https://orda.kz/rusafa",
        text="Six Kazakhstani women are held in Rusafa prison.",
        channels=("phones",),
    )
    assert deliver(db, config).sent == 1
    (request,) = web.hook_requests(name)
    assert json.loads(request["body"])["title"] == "newswatch: Rusafa women"
