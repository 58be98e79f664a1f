"""Slack channel: Block Kit rendering, escaping of scraped text, and Slack's error answers."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts import (
    PermanentError,
    RateLimited,
    RetryableError,
    SlackChannel,
    deliver,
    status,
)
from alerts.slack import SECTION_LIMIT, escape, render
from alerts.state import enable_channels
from crawler.config import Channel, Watch
from crawler.storage.store import open_database
from tests.conftest import alert_message, config_for, save_hit

MESSAGE = alert_message(
    url="https://orda.kz/bilash?id=1&lang=ru",
    title="<!channel> & <b>Bilash</b> freed",
    source="orda <kz>",
    snippet="Activist <@U123> Serikzhan Bilash <!here> said & left",
    also_reported_by=("https://a.kz/1", "https://b.kz/2"),
)


def slack(web: Any) -> tuple[str, Channel]:
    name = "slack-" + uuid.uuid4().hex[:12]
    return name, Channel(id="staff-slack", type="slack", secrets={"url": web.hook_url(name)})


def texts(body: dict[str, Any]) -> list[str]:
    """Every piece of text Slack would render from a message body."""
    out = [body["text"]]
    for block in body["blocks"]:
        if "text" in block:
            out.append(block["text"]["text"])
        out.extend(element["text"] for element in block.get("elements", []))
    return out


def test_escape() -> None:
    assert escape("<!channel> & <b>") == "&lt;!channel&gt; &amp; &lt;b&gt;"


def test_scraped_text_cannot_mention_or_format(web: Any) -> None:
    name, channel = slack(web)
    sender = SlackChannel(channel)
    sender.send(MESSAGE)
    sender.close()
    (request,) = web.hook_requests(name)
    assert request["headers"]["content-type"] == "application/json"
    body = json.loads(request["body"])
    rendered = "\n".join(texts(body))
    for raw in ("<!channel>", "<b>", "<@U123>", "<!here>", "<kz>"):
        assert raw not in rendered
    assert "&lt;!channel&gt; &amp; &lt;b&gt;Bilash&lt;/b&gt; freed" in rendered
    headline = body["blocks"][0]["text"]["text"]
    assert headline.startswith("*Serikzhan Bilash*\n")
    assert (
        "<https://orda.kz/bilash?id=1&amp;lang=ru|&lt;!channel&gt; &amp; "
        "&lt;b&gt;Bilash&lt;/b&gt; freed>"
    ) in headline
    assert "orda &lt;kz&gt; · 2026-11-16" in headline
    assert "Serikzhan Bilash &lt;!here&gt; said &amp; left" in body["blocks"][1]["text"]["text"]
    context = body["blocks"][2]["elements"][0]["text"]
    assert "also reported by 2 other articles" in context
    assert [block["type"] for block in body["blocks"]] == ["section", "section", "context"]


def test_sections_stay_within_slacks_limit_without_splitting_an_entity() -> None:
    message = dataclasses.replace(MESSAGE, snippet="&" * 5000, title="<" * 5000)
    for text in texts(render(message)):
        assert len(text) <= SECTION_LIMIT
    snippet = render(message)["blocks"][1]["text"]["text"]
    assert snippet.endswith("&amp;…")


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, "invalid_payload", PermanentError),
        (403, "action_prohibited", PermanentError),
        (404, "channel_not_found", PermanentError),
        (404, "no_service", PermanentError),
        (410, "channel_is_archived", PermanentError),
        (500, "rollup_error", RetryableError),
        (503, "service unavailable", RetryableError),
        (429, "rate_limited", RateLimited),
    ],
)
def test_slack_error_answers(web: Any, status: int, body: str, error: type[Exception]) -> None:
    name, channel = slack(web)
    web.script(name, [{"status": status, "body": body}])
    sender = SlackChannel(channel)
    with pytest.raises(error) as caught:
        sender.send(MESSAGE)
    sender.close()
    assert body in str(caught.value)
    assert channel.secrets["url"] not in str(caught.value)


def test_a_case_without_a_name_is_shown_by_its_id_in_words(tmp_path: Path, web: Any) -> None:
    name, channel = slack(web)
    watch = Watch(id="rusafa-women", kind="case", query="Rusafa", channels=("staff-slack",))
    config = config_for(tmp_path, [channel], [watch])
    db = open_database(config.database)
    save_hit(
        db,
        watch_id="rusafa-women",
        name="Rusafa",
        url="https://orda.kz/rusafa",
        text="Six Kazakhstani women are held in Rusafa prison.",
        channels=("staff-slack",),
        title="Women in Rusafa prison",
    )
    assert deliver(db, config).sent == 1
    (request,) = web.hook_requests(name)
    body = json.loads(request["body"])
    assert body["text"] == "newswatch: Rusafa women in Women in Rusafa prison"
    assert body["blocks"][0]["text"]["text"].startswith("*Rusafa women*\n")


def test_an_archived_channel_is_disabled_and_its_alert_waits(tmp_path: Path, web: Any) -> None:
    name, channel = slack(web)
    web.script(name, [{"status": 410, "body": "channel_is_archived"}])
    watch = Watch(
        id="serikzhan-bilash", kind="person", name="Serikzhan Bilash", channels=("staff-slack",)
    )
    config = config_for(tmp_path, [channel], [watch])
    db = open_database(config.database)
    save_hit(
        db,
        watch_id="serikzhan-bilash",
        name="Serikzhan Bilash",
        url="https://orda.kz/bilash",
        text="Serikzhan Bilash, founder of Atajurt, spoke to reporters.",
        channels=("staff-slack",),
        title="Bilash speaks",
    )
    report = deliver(db, config)
    assert (report.sent, report.dead, report.disabled_channels) == (0, 0, ["staff-slack"])
    row = next(iter(db.query("SELECT status, attempts, last_error FROM alerts")))
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"].startswith("attempt 1: HTTP 410: channel_is_archived")
    (disabled,) = status(db)["disabled_channels"]
    assert disabled["channel"] == "staff-slack" and "channel_is_archived" in disabled["reason"]

    # No retries while disabled, however much later.
    assert deliver(db, config, now=datetime.now(UTC) + timedelta(days=3)).sent == 0
    assert len(web.hook_requests(name)) == 1

    # Someone un-archives the channel and re-enables it: the alert goes out.
    assert enable_channels(db) == ["staff-slack"]
    assert deliver(db, config).sent == 1
    assert status(db)["disabled_channels"] == []


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>",
     "file:///etc/passwd", "vbscript:msgbox", "http:no-host"],
)
def test_only_web_links_are_rendered_as_links(url: str) -> None:
    from alerts.apprise_channel import render as apprise_render
    from alerts.templates import message_context

    message = alert_message(url=url, title="Activist freed")
    body = json.dumps(render(message))
    assert url.split(":")[0] not in body.lower().replace("newswatch", "")
    assert "Activist freed" in body
    _title, text = apprise_render(message)
    assert url not in text and "Activist freed" in text
    assert message_context(message)["url"] == ""  # the email templates get no link
    # A web link still is one.
    web = json.dumps(render(alert_message(url="https://orda.kz/a?b=1&c=2", title="T")))
    assert "<https://orda.kz/a?b=1&amp;c=2|T>" in web


def links_are_whole(text: str) -> bool:
    """Every '<' opens a link that a '>' closes, with no '<' inside it."""
    depth = 0
    for ch in text:
        if ch == "<":
            if depth:
                return False
            depth = 1
        elif ch == ">":
            depth = 0
    return depth == 0


@pytest.mark.parametrize("length", [2900, 3100, 10_000])
def test_a_very_long_url_is_never_cut_inside_its_link(length: int) -> None:
    url = "https://orda.kz/" + "a" * length
    body = render(dataclasses.replace(MESSAGE, url=url, title="Bilash " * 40))
    for text in texts(body):
        assert len(text) <= SECTION_LIMIT
        assert links_are_whole(text), text[-200:]
    headline = body["blocks"][0]["text"]["text"]
    assert url not in headline or f"<{url}|" in headline


def test_spaces_and_quotes_in_link_urls_are_encoded() -> None:
    body = render(
        dataclasses.replace(MESSAGE, url='https://orda.kz/a b"c\'d|e>f<g`h\ti?x=1&y=2')
    )
    headline = body["blocks"][0]["text"]["text"]
    assert "<https://orda.kz/a%20b%22c%27d%7Ce%3Ef%3Cg%60h%09i?x=1&amp;y=2|" in headline
