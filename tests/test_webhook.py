"""Webhook channel: the contract payload, Standard Webhooks signatures, failure mapping."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts import (
    ChannelSetupError,
    ChannelUnreachable,
    PermanentError,
    RateLimited,
    RetryableError,
    WebhookChannel,
    deliver,
    enqueue,
    make_channel,
    sign,
    signed_headers,
    verify,
)
from alerts.webhook import parse_retry_after
from crawler.config import Channel, Config, Watch
from crawler.models import Article, Hit
from crawler.storage.store import open_database, save_article
from tests.conftest import SECRET, alert_message

# Stored articles are an hour old: news, not backfill.
PUBLISHED = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

MESSAGE = alert_message(
    watch_id="rusafa-women",
    watch_name="Rusafa women",
    story_id=7,
    url="https://orda.kz/rusafa",
    title="Six Kazakhstani women in Rusafa prison",
    language="en",
    matched="Rusafa … Kazakhstani … women",
    snippet="six Kazakhstani women in Rusafa prison, activist Zhanna Umirova said",
    confidence=0.8,
    also_reported_by=("https://kaztag.kz/rusafa",),
)


def hook(web: Any, *, secret: str | None = SECRET, **options: Any) -> tuple[str, Channel]:
    name = "webhook-" + uuid.uuid4().hex[:12]
    secrets = {"url": web.hook_url(name)} | ({"secret": secret} if secret else {})
    return name, Channel(id="hook", type="webhook", options=options, secrets=secrets)


def test_standard_webhooks_reference_signature() -> None:
    # The example from the Standard Webhooks specification's test suite.
    signature = sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_verify_accepts_only_the_right_secret_body_and_a_fresh_timestamp() -> None:
    body = b'{"type":"hit.created"}'
    headers = signed_headers(SECRET, "nw_abc", body, timestamp=1_800_000_000)
    assert verify(SECRET, headers, body, now=1_800_000_010)
    upper = {name.upper(): value for name, value in headers.items()}
    assert verify(SECRET, upper, body.decode(), now=1_800_000_010)
    assert not verify(SECRET, headers, body + b" ", now=1_800_000_010)
    assert not verify("whsec_" + "QUFB" * 8, headers, body, now=1_800_000_010)
    assert not verify(SECRET, headers, body, now=1_800_000_000 + 3600)
    assert verify(SECRET, headers, body, tolerance=None, now=1_800_000_000 + 3600)
    rotated = dict(headers, **{"webhook-signature": "v1,bm90LWl0 " + headers["webhook-signature"]})
    assert verify(SECRET, rotated, body, now=1_800_000_010)
    unsigned = signed_headers(None, "nw_abc", body)
    assert "webhook-signature" not in unsigned
    assert not verify(SECRET, unsigned, body)


def test_a_bad_secret_is_a_setup_error_that_does_not_show_it() -> None:
    channel = Channel(
        id="hook",
        type="webhook",
        secrets={"url": "https://example.org/hook", "secret": "whsec_not*base64!"},
    )
    with pytest.raises(ChannelSetupError) as caught:
        make_channel(channel)
    assert "not*base64" not in str(caught.value)
    with pytest.raises(ChannelSetupError, match="no URL"):
        make_channel(Channel(id="hook", type="webhook"))
    with pytest.raises(ChannelSetupError, match="'pager'"):
        make_channel(Channel(id="pager", type="pager"))


def test_payload_and_headers_match_the_contract(tmp_path: Path, web: Any) -> None:
    name, channel = hook(web)
    watch = Watch(id="aiman-umarova", kind="person", name="Aiman Umarova", channels=("hook",))
    config = Config(
        path=tmp_path / "newswatch.toml",
        database=tmp_path / "newswatch.db",
        sources=(),
        watches=(watch,),
        channels=(channel,),
    )
    db = open_database(config.database)
    text = "Human-rights lawyer Aiman Umarova represented Sayragul Sauytbay."
    for url, source in (("https://orda.kz/a1", "orda"), ("https://kaztag.kz/a1-copy", "kaztag")):
        article = Article(
            url=url,
            canonical_url=url,
            source=source,
            title="Айман Умарова & <friends>",
            text=text,
            published_at=PUBLISHED,
            language="en",
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
        )
        hit = Hit("aiman-umarova", "Aiman Umarova", 20, 33, text, 0.97, "name")
        save_article(db, article, [hit], lambda _: ("hook",), enqueue)

    report = deliver(db, config)
    assert report.sent == 1
    (request,) = web.hook_requests(name)
    row = next(iter(db.query("SELECT * FROM alerts")))
    story_id = row["story_id"]

    headers = request["headers"]
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "newswatch/0.1"
    assert headers["webhook-id"] == row["idempotency_key"]
    assert abs(int(headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 300
    assert headers["webhook-signature"].startswith("v1,")
    assert verify(SECRET, headers, request["body"])

    payload = json.loads(request["body"])
    timestamp = payload.pop("timestamp")
    assert datetime.fromisoformat(timestamp.replace("Z", "+00:00")).tzinfo is not None
    assert payload == {
        "type": "hit.created",
        "data": {
            "watch_id": "aiman-umarova",
            "watch_name": "Aiman Umarova",
            "story_id": story_id,
            "article": {
                "url": "https://orda.kz/a1",
                "title": "Айман Умарова & <friends>",
                "source": "orda",
                "published_at": PUBLISHED,
                "language": "en",
            },
            "matched": "Aiman Umarova",
            "snippet": text,
            "confidence": 0.97,
            "also_reported_by": ["https://kaztag.kz/a1-copy"],
        },
    }


@pytest.mark.parametrize(
    ("name", "shown"),
    [("", "Rusafa women"), ("Six women in Rusafa prison", "Six women in Rusafa prison")],
)
def test_a_case_reaches_the_webhook_under_its_name_or_its_id_in_words(
    tmp_path: Path, web: Any, name: str, shown: str
) -> None:
    hook_name, channel = hook(web)
    watch = Watch(id="rusafa-women", kind="case", name=name, query="Rusafa", channels=("hook",))
    config = Config(
        path=tmp_path / "newswatch.toml",
        database=tmp_path / "newswatch.db",
        sources=(),
        watches=(watch,),
        channels=(channel,),
    )
    db = open_database(config.database)
    text = "Six Kazakhstani women are held in Rusafa prison, activist Zhanna Umirova said."
    article = Article(
        url="https://orda.kz/rusafa",
        canonical_url="https://orda.kz/rusafa",
        source="orda",
        title="Women in Rusafa prison",
        text=text,
        published_at=PUBLISHED,
        language="en",
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )
    hit = Hit("rusafa-women", "Rusafa", 34, 40, text, 0.8, "query")
    save_article(db, article, [hit], lambda _: ("hook",), enqueue)
    assert deliver(db, config).sent == 1
    (request,) = web.hook_requests(hook_name)
    data = json.loads(request["body"])["data"]
    assert (data["watch_id"], data["watch_name"]) == ("rusafa-women", shown)


def test_without_a_secret_the_request_is_unsigned_but_identified(web: Any) -> None:
    name, channel = hook(web, secret=None)
    sender = WebhookChannel(channel)
    sender.send(MESSAGE)
    sender.close()
    (request,) = web.hook_requests(name)
    assert request["headers"]["webhook-id"] == MESSAGE.id
    assert request["headers"]["webhook-timestamp"].isdigit()
    assert "webhook-signature" not in request["headers"]
    assert json.loads(request["body"]) == MESSAGE.payload()


@pytest.mark.parametrize(
    ("response", "error", "retry_after"),
    [
        ({"status": 500}, RetryableError, None),
        ({"status": 503, "headers": {"Retry-After": "120"}}, RetryableError, 120.0),
        ({"status": 408}, RetryableError, None),
        ({"status": 429, "headers": {"Retry-After": "30"}}, RateLimited, 30.0),
        ({"status": 400}, PermanentError, None),
        ({"status": 404}, PermanentError, None),
        ({"status": 410}, PermanentError, None),
        ({"status": 301, "headers": {"Location": "https://example.org/"}}, PermanentError, None),
    ],
)
def test_status_codes_map_to_retryable_or_permanent(
    web: Any, response: dict[str, Any], error: type[Exception], retry_after: float | None
) -> None:
    name, channel = hook(web)
    web.script(name, [response])
    sender = WebhookChannel(channel)
    with pytest.raises(error) as caught:
        sender.send(MESSAGE)
    sender.close()
    assert getattr(caught.value, "retry_after", None) == retry_after
    assert channel.secrets["url"] not in str(caught.value)
    assert len(web.hook_requests(name)) == 1  # redirects are not followed


def test_a_timeout_makes_the_channel_unreachable(web: Any) -> None:
    name, channel = hook(web, timeout=0.2)
    web.script(name, [{"status": 200, "delay": 1}])
    sender = WebhookChannel(channel)
    with pytest.raises(ChannelUnreachable, match="timed out"):
        sender.send(MESSAGE)
    sender.close()


def test_retry_after_parsing() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("99999999") == 24 * 3600.0
    now = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    later = now + timedelta(minutes=2)
    http_date = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(http_date, now=now.timestamp()) == 120.0


HOOK_CONFIG = (
    '[[channel]]\nid = "hook"\ntype = "webhook"\nurl_env = "NW_URL"\nsecret_env = "NW_SECRET"\n'
)


def test_check_refuses_keys_under_24_bytes(tmp_path: Path) -> None:
    from crawler.config import ConfigError, load_config

    path = tmp_path / "newswatch.toml"
    path.write_text(HOOK_CONFIG, encoding="utf-8")
    env = {"NW_URL": "https://example.org/hook"}
    short = "whsec_" + base64.b64encode(b"s" * 16).decode()
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={**env, "NW_SECRET": short})
    assert caught.value.problems == [
        f"{path}: channel[0].secret_env: the key is 16 bytes; Standard Webhooks keys are at "
        "least 24 (make one with `newswatch secret`)"
    ]
    assert short.removeprefix("whsec_") not in str(caught.value)
    enough = "whsec_" + base64.b64encode(b"k" * 24).decode()
    assert load_config(path, env={**env, "NW_SECRET": enough}).channels[0].secrets


UNPADDED = "whsec_" + base64.b64encode(b"k" * 26).decode().rstrip("=")


@pytest.mark.parametrize(
    "spelling",
    [
        UNPADDED,  # 26 key bytes, base64 without its "=="
        SECRET + "\n",  # a trailing newline in the variable
        UNPADDED + "\r\n",
    ],
)
def test_secrets_are_read_as_the_reference_library_reads_them(
    tmp_path: Path, spelling: str
) -> None:
    from crawler.config import load_config

    key = base64.b64decode(spelling.strip()[6:] + "=" * (-len(spelling.strip()[6:]) % 4))
    path = tmp_path / "newswatch.toml"
    path.write_text(HOOK_CONFIG, encoding="utf-8")
    load_config(path, env={"NW_URL": "https://example.org/hook", "NW_SECRET": spelling})
    signature = sign(spelling, "msg_1", 1_800_000_000, b"{}")
    digest = hmac.new(key, b"msg_1.1800000000.{}", hashlib.sha256).digest()
    assert signature == "v1," + base64.b64encode(digest).decode()
