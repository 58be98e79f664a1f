"""Email channel: STARTTLS / implicit TLS against a real SMTP server, digests, templates."""

from __future__ import annotations

import dataclasses
import smtplib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from alerts import (
    AlertMessage,
    ChannelDisabled,
    ChannelUnreachable,
    EmailChannel,
    deliver,
    status,
)
from alerts.digest import latest_slot
from alerts.mail import header
from crawler import clock
from crawler.config import Channel, Config, ConfigError, EmailOptions, Watch, load_config
from crawler.storage.store import iso, open_database
from tests.conftest import (
    MailServer,
    MailServers,
    TlsFiles,
    alert_message,
    config_for,
    free_port,
    save_hit,
)

NOW = datetime.now(UTC).replace(microsecond=0)
PUBLISHED = iso(NOW - timedelta(hours=1))

MESSAGE = alert_message(
    watch_id="aiman-umarova",
    watch_name="Aiman Umarova",
    url="https://orda.kz/umarova?id=1&lang=ru",
    title="Lawyer Aiman Umarova appeals",
    language="en",
    matched="Aiman Umarova",
    snippet="Human-rights lawyer Aiman Umarova said the appeal is filed.",
    confidence=0.95,
    also_reported_by=("https://kaztag.kz/1",),
    review_url="http://127.0.0.1:8001/",
)


def mail_channel(
    server: MailServer | None,
    tls: TlsFiles,
    *,
    port: int | None = None,
    security: str | None = None,
    secrets: dict[str, str] | None = None,
    **options: Any,
) -> Channel:
    return Channel(
        id="editors-mail",
        type="email",
        options={
            "host": "127.0.0.1",
            "port": port or (server.port if server else free_port()),
            "security": security or (server.security if server else "starttls"),
            "from": "newswatch <alerts@example.org>",
            "to": ["editors@example.org", "duty@example.org"],
            "ca_file": str(tls.ca),
            "timeout": 5,
            **options,
        },
        secrets=secrets or {},
    )


def parts(message: Any) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_starttls_send_verifies_the_certificate_and_logs_in(
    smtp: MailServers, tls_files: TlsFiles
) -> None:
    server = smtp.start("starttls", login=("alerts", "s3cret-pw"))
    channel = mail_channel(
        server, tls_files, secrets={"username": "alerts", "password": "s3cret-pw"}
    )
    sender = EmailChannel(channel)
    sender.send(MESSAGE)
    sender.close()
    (got,) = server.messages
    assert got["tls"] and got["authenticated"]
    assert got["from"] == "alerts@example.org"
    assert got["to"] == ["editors@example.org", "duty@example.org"]
    message = got["message"]
    assert message["Message-ID"] == f"<{MESSAGE.id}@example.org>"
    assert message["List-Id"] == "newswatch alerts <editors-mail.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == "newswatch: Aiman Umarova - Lawyer Aiman Umarova appeals"
    text, html = parts(message)
    assert "https://orda.kz/umarova?id=1&lang=ru" in text
    assert '<a href="https://orda.kz/umarova?id=1&amp;lang=ru">' in html
    assert "Human-rights lawyer Aiman Umarova said" in html
    assert "Review desk: http://127.0.0.1:8001/" in text


def test_implicit_tls_on_its_own_port(smtp: MailServers, tls_files: TlsFiles) -> None:
    server = smtp.start("tls")
    sender = EmailChannel(mail_channel(server, tls_files))
    sender.send(MESSAGE)
    sender.send(MESSAGE)  # the connection is reused
    sender.close()
    assert [m["tls"] for m in server.messages] == [True, True]


def test_an_untrusted_certificate_sends_nothing(smtp: MailServers, tls_files: TlsFiles) -> None:
    server = smtp.start("starttls")
    channel = mail_channel(server, tls_files)
    untrusted = Channel(
        id=channel.id,
        type="email",
        options=dataclasses.replace(channel.options_as(EmailOptions), ca_file=""),
    )
    sender = EmailChannel(untrusted)
    with pytest.raises(ChannelUnreachable, match="certificate not trusted"):
        sender.send(MESSAGE)
    sender.close()
    assert server.messages == []


def test_a_wrong_password_disables_the_channel(smtp: MailServers, tls_files: TlsFiles) -> None:
    server = smtp.start("starttls", login=("alerts", "right"))
    channel = mail_channel(
        server, tls_files, secrets={"username": "alerts", "password": "wrong-pw"}
    )
    sender = EmailChannel(channel)
    with pytest.raises(ChannelDisabled, match="login refused") as caught:
        sender.send(MESSAGE)
    assert "wrong-pw" not in str(caught.value)
    sender.close()
    assert server.messages == []


def test_a_plain_local_relay_is_allowed_only_when_configured(
    smtp: MailServers, tls_files: TlsFiles
) -> None:
    server = smtp.start("plain")
    sender = EmailChannel(mail_channel(server, tls_files, security="plain-local-relay"))
    sender.send(MESSAGE)
    sender.close()
    assert len(server.messages) == 1 and not server.messages[0]["tls"]


def test_header_values_lose_cr_and_lf() -> None:
    assert header("Hello\r\nBcc: victim@example.org") == "Hello Bcc: victim@example.org"
    assert header("a\u2028b\x00c") == "a b c"
    assert len(header("x" * 5000, 200)) == 200


def test_a_broken_custom_template_falls_back_to_the_built_in_one(
    smtp: MailServers, tls_files: TlsFiles, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "alert.txt").write_text("CUSTOM {{ watch_name }} {{ title }}\n", encoding="utf-8")
    (tmp_path / "alert.html").write_text("<p>{{ watch_name.__class__ }}{% if %}</p>", "utf-8")
    server = smtp.start("starttls")
    message = AlertMessage(**{**MESSAGE.__dict__, "title": "<script>alert(1)</script> & co"})
    sender = EmailChannel(mail_channel(server, tls_files, template_dir=str(tmp_path)))
    sender.send(message)
    sender.close()
    text, html = parts(server.messages[0]["message"])
    assert text.startswith("CUSTOM Aiman Umarova <script>alert(1)</script> & co")
    # The custom HTML template does not compile; the built-in one, autoescaped, is used.
    assert "template alert.html failed" in caplog.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "<script>" not in html and "class" not in html


# --- through the outbox ------------------------------------------------------------------


def make_config(tmp_path: Path, channel: Channel, watches: Iterable[Watch] | None = None) -> Config:
    default = (
        Watch(id="aiman-umarova", kind="person", name="Aiman Umarova", channels=(channel.id,)),
    )
    return config_for(tmp_path, [channel], watches or default)


def store(db: sqlite_utils.Database, config: Config, watch_id: str, n: int) -> None:
    """A hit stored at NOW (the digests' slots are counted from it, not from the wall
    clock, which may have passed an hour's or a day's boundary since NOW was taken)."""
    watch = next(w for w in config.watches if w.id == watch_id)
    with clock.using(clock.FakeClock(NOW)):
        save_hit(
            db,
            watch_id=watch_id,
            name=watch.name,
            url=f"https://orda.kz/{watch_id}/{n}",
            text=f"Report {n}: {watch.name} spoke in court today about the appeal.",
            channels=watch.channels,
            title=f"{watch.name} in court ({n})",
        )


def test_digest_mode_gathers_alerts_until_the_slot_then_sends_one_mail(
    smtp: MailServers, tls_files: TlsFiles, tmp_path: Path
) -> None:
    server = smtp.start("starttls")
    channel = mail_channel(server, tls_files, mode="digest", every="1h", at="00:00")
    urgent = Watch(
        id="serikzhan-bilash",
        kind="person",
        name="Serikzhan Bilash",
        channels=(channel.id,),
        priority="urgent",
    )
    normal = Watch(id="aiman-umarova", kind="person", name="Aiman Umarova", channels=(channel.id,))
    config = make_config(tmp_path, channel, [normal, urgent])
    db = open_database(config.database)
    for n in range(3):
        store(db, config, "aiman-umarova", n)
    store(db, config, "serikzhan-bilash", 9)

    # Before the next slot: only the urgent alert goes, at once.
    now = NOW
    report = deliver(db, config, now=now)
    assert (report.sent, report.digests, report.pending) == (1, 0, 3)
    (urgent_mail,) = server.messages
    assert urgent_mail["message"]["Subject"].startswith("[urgent] newswatch: Serikzhan Bilash")

    # After the slot: one digest with the three others, marked sent with the batch.
    after = latest_slot(now, "1h") + timedelta(hours=1, minutes=1)
    report = deliver(db, config, now=after)
    assert (report.sent, report.digests, report.pending) == (3, 1, 0)
    digest = server.messages[1]["message"]
    assert digest["Subject"] == "newswatch digest: 3 alerts (Aiman Umarova)"
    assert digest["Message-ID"].startswith("<nw_digest_")
    text, html = parts(digest)
    for n in range(3):
        assert (
            f"Aiman Umarova in court ({n})" in text and f"https://orda.kz/aiman-umarova/{n}" in html
        )
    batches = list(db.query("SELECT * FROM alert_batches"))
    assert [(b["kind"], b["items"]) for b in batches] == [("digest", 3)]
    rows = list(db.query("SELECT status, batch_id FROM alerts WHERE watch_id = 'aiman-umarova'"))
    assert rows == [{"status": "sent", "batch_id": batches[0]["id"]}] * 3

    # Nothing left: no empty digest at the next slot.
    assert deliver(db, config, now=after + timedelta(hours=1)).digests == 0
    assert len(server.messages) == 2


def test_a_failed_digest_leaves_its_alerts_to_retry(
    smtp: MailServers, tls_files: TlsFiles, tmp_path: Path
) -> None:
    port = free_port()
    channel = mail_channel(None, tls_files, port=port, mode="digest", every="1d", at="06:00")
    config = make_config(tmp_path, channel)
    db = open_database(config.database)
    store(db, config, "aiman-umarova", 1)
    store(db, config, "aiman-umarova", 2)
    after = latest_slot(NOW, "1d", "06:00") + timedelta(days=1, minutes=5)
    report = deliver(db, config, now=after)  # nothing listens yet
    assert (report.sent, report.failed, report.skipped_channels) == (0, 2, ["editors-mail"])
    assert status(db)["failed"] == 2 and list(db.query("SELECT * FROM alert_batches")) == []

    server = smtp.start("starttls", port=port)
    report = deliver(db, config, now=after + timedelta(minutes=10))
    assert (report.sent, report.digests) == (2, 1)
    assert len(server.messages) == 1


def test_redacted_watch_mail_has_no_name_and_no_snippet(
    smtp: MailServers, tls_files: TlsFiles, tmp_path: Path
) -> None:
    server = smtp.start("starttls")
    channel = mail_channel(server, tls_files)
    watch = Watch(
        id="witness-7",
        kind="person",
        name="Aiman Umarova",
        aliases=("Айман Умарова",),
        channels=(channel.id,),
        redact=True,
    )
    config = make_config(tmp_path, channel, [watch])
    db = open_database(config.database)
    store(db, config, "witness-7", 1)
    assert deliver(db, config).sent == 1
    raw = server.messages[0]["raw"].decode()
    message = server.messages[0]["message"]
    assert message["Subject"] == "newswatch: witness-7 - witness-7 in court (1)"
    text, html = parts(message)
    for body in (raw, text, html):
        assert "Umarova" not in body and "spoke in court" not in body
    # The database keeps everything.
    (hit,) = db.query("SELECT matched, snippet FROM hits")
    assert hit["matched"] == "Aiman Umarova" and "spoke in court" in hit["snippet"]


def store_case(db: sqlite_utils.Database, watch: Watch, n: int) -> None:
    text = f"Report {n}: six Kazakhstani women are held in Rusafa prison."
    with clock.using(clock.FakeClock(NOW)):  # as in store()
        save_hit(
            db,
            watch_id=watch.id,
            name="Rusafa",
            url=f"https://orda.kz/{watch.id}/{n}",
            text=text,
            channels=watch.channels,
            title=f"Women in Rusafa prison ({n})",
        )


def test_a_case_mail_names_it_by_its_id_in_words_or_by_its_name(
    smtp: MailServers, tls_files: TlsFiles, tmp_path: Path
) -> None:
    server = smtp.start("starttls")
    immediate = mail_channel(server, tls_files)
    unnamed = Watch(id="rusafa-women", kind="case", query="Rusafa", channels=(immediate.id,))
    named = Watch(
        id="rusafa_2024",
        kind="case",
        name="Women held in Rusafa",
        query="Rusafa",
        channels=(immediate.id,),
    )
    config = make_config(tmp_path, immediate, [unnamed, named])
    db = open_database(config.database)
    store_case(db, unnamed, 1)
    store_case(db, named, 2)
    assert deliver(db, config).sent == 2
    subjects = sorted(m["message"]["Subject"] for m in server.messages)
    assert subjects == [
        "newswatch: Rusafa women - Women in Rusafa prison (1)",
        "newswatch: Women held in Rusafa - Women in Rusafa prison (2)",
    ]
    text, html = parts(server.messages[0]["message"])
    assert "rusafa-women" not in text.replace("orda.kz/rusafa-women", "")

    # A digest lists them under the same names.
    digest = mail_channel(server, tls_files, mode="digest", every="1h", at="00:00")
    config = make_config(tmp_path / "digest", digest, [unnamed, named])
    db = open_database(config.database)
    store_case(db, unnamed, 3)
    store_case(db, named, 4)
    after = latest_slot(NOW, "1h") + timedelta(hours=1, minutes=1)
    assert deliver(db, config, now=after).digests == 1
    message = server.messages[-1]["message"]
    assert message["Subject"] == "newswatch digest: 2 alerts (Rusafa women, Women held in Rusafa)"
    text, html = parts(message)
    assert "Rusafa women: Women in Rusafa prison (3)" in text
    assert "<strong>Rusafa women</strong>" in html


# --- config ------------------------------------------------------------------------------


def write_config(tmp_path: Path, channel: str) -> Path:
    path = tmp_path / "newswatch.toml"
    path.write_text(
        f"""
[[channel]]
id = "mail"
type = "email"
{channel}

[[watch]]
id = "aiman-umarova"
name = "Aiman Umarova"
channels = ["mail"]
""",
        encoding="utf-8",
    )
    return path


def test_email_config_defaults_and_checks(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x", encoding="utf-8")
    good = write_config(
        tmp_path,
        'host = "smtp.example.org"\nfrom = "alerts@example.org"\nto = "ed@example.org"\n'
        'username_env = "NW_USER"\npassword_env = "NW_PASS"\nca_file = "ca.pem"\n'
        'mode = "digest"\nevery = "1d"\nat = "08:00"\ncap = 5',
    )
    config = load_config(good, env={"NW_USER": "u", "NW_PASS": "p"})
    channel = config.channel("mail")
    options = channel.options_as(EmailOptions)
    assert options.effective_port == 587 and options.security == "starttls"
    assert options.to == ("ed@example.org",)
    assert options.ca_file == str(tmp_path / "ca.pem")
    assert channel.secrets == {"username": "u", "password": "p"}

    bad = write_config(
        tmp_path,
        'host = "smtp.example.org"\nfrom = "nobody"\nto = ["ed@example.org", "x"]\n'
        'security = "plain-local-relay"\npassword_env = "NW_PASS"\nmode = "weekly"\n'
        'every = "1w"\nat = "25:00"\nca_file = "missing.pem"',
    )
    with pytest.raises(ConfigError) as caught:
        load_config(bad, env={"NW_PASS": "p"})
    found = "\n".join(caught.value.problems)
    for expected in (
        "channel[0].from: expected an email address",
        "channel[0].to[1]: expected an email address",
        "channel[0].security: expected starttls or tls when logging in",
        "channel[0].mode: expected immediate | digest",
        'channel[0].every: expected a period such as "1h" or "1d"',
        'channel[0].at: expected a time of day "HH:MM" (UTC)',
        "channel[0].ca_file: expected an existing path",
    ):
        assert expected in found
    assert "'p'" not in found


def test_no_smtp_server_at_all_is_unreachable(tls_files: TlsFiles) -> None:
    sender = EmailChannel(mail_channel(None, tls_files))
    with pytest.raises(ChannelUnreachable, match="cannot connect"):
        sender.send(MESSAGE)
    sender.close()
    assert isinstance(smtplib.SMTP, type)


def test_a_server_without_8bitmime_gets_7bit_mail_with_short_encoded_words(
    smtp: MailServers, tls_files: TlsFiles
) -> None:
    import email
    import email.policy
    import re

    server = smtp.start("starttls", eight_bit=False)
    cyrillic = dataclasses.replace(
        MESSAGE,
        watch_name="Айман Умарова",
        title="Суд над Айгерим Тулегеновой отложен до декабря, сообщил адвокат «Атажұрт» " * 2,
        snippet="Правозащитник Айман Умарова заявила, что апелляция подана. " * 5,
    )
    sender = EmailChannel(mail_channel(server, tls_files, **{"from": "Оповещения <a@example.org>"}))
    sender.send(cyrillic)
    sender.close()
    (got,) = server.messages
    raw: bytes = got["raw"]
    assert max(raw) < 0x80  # nothing 8-bit on the wire
    assert not any("8BITMIME" in option.upper() for option in got["mail_options"])
    message = email.message_from_bytes(raw, policy=email.policy.strict)
    encodings = {part.get("content-transfer-encoding") for part in message.walk()}
    assert encodings <= {None, "quoted-printable", "base64", "7bit"}, encodings
    words = re.findall(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=", raw)
    assert words and max(len(word) for word in words) <= 75
    assert "Суд над Айгерим Тулегеновой" in message["Subject"]
    assert message["From"].addresses[0].display_name == "Оповещения"
    assert not message.defects and not any(part.defects for part in message.walk())
    text, _html = parts(message)
    assert "Правозащитник Айман Умарова" in text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('from = "Newswatch, Desk <a@example.org>"', "channel[0].from: expected an email address"),
        ('from = "a@example.org"\nlist_id = "alerts"', "channel[0].list_id: expected a List-Id"),
        ('from = "a@example.org"\nlist_id = "x <a..b>"', "channel[0].list_id: expected a List-Id"),
    ],
)
def test_check_refuses_a_bad_from_or_list_id(tmp_path: Path, line: str, expected: str) -> None:
    path = write_config(tmp_path, f'host = "smtp.example.org"\nto = "ed@example.org"\n{line}')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_a_quoted_display_name_and_any_channel_id_make_valid_headers(tls_files: TlsFiles) -> None:
    from crawler.config.mailheaders import from_problem, list_id_problem

    assert from_problem('"Newswatch, Desk" <a@example.org>') == ""
    channel = mail_channel(None, tls_files, **{"from": '"Newswatch, Desk" <a@example.org>'})
    odd = EmailChannel(dataclasses.replace(channel, id="staff..mail."))
    assert odd.list_id == "newswatch alerts <staff.mail.example.org>"
    assert list_id_problem(odd.list_id) == ""
    mail = odd.message("subject", "nw_1", "text", "<p>html</p>")
    assert mail["From"].addresses[0].display_name == "Newswatch, Desk"
