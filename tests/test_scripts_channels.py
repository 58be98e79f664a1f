"""Slack and email with Arabic and Chinese titles and snippets: shown as written, right to left
where Arabic is, with no mangled or escaped-away letters."""

from __future__ import annotations

import json
from typing import Any

from alerts import EmailChannel, SlackChannel
from tests.conftest import MailServers, TlsFiles, alert_message
from tests.test_email import mail_channel, parts
from tests.test_slack import slack, texts

ARABIC = alert_message(
    watch_id="zhanna-umirova",
    watch_name="Zhanna Umirova",
    title="ست نساء كازاخيات في سجن الرصافة <ببغداد>",
    language="ar",
    matched="جانا عميروفا",
    snippet="وقالت الناشطة جانا عميروفا إن ست نساء كازاخيات محتجزات في سجن الرصافة & ببغداد.",
)
CHINESE = alert_message(
    watch_id="sayragul-sauytbay",
    watch_name="Sayragul Sauytbay",
    title="證人薩依拉古麗・沙吾提巴依再次發聲",
    language="zh",
    matched="薩依拉古麗・沙吾提巴依",
    snippet="新疆集中營的證人薩依拉古麗・沙吾提巴依近日在阿拉木圖再次講述了她的經歷。",
)


def test_slack_shows_arabic_and_chinese_titles_and_snippets_as_written(web: Any) -> None:
    name, channel = slack(web)
    sender = SlackChannel(channel)
    sender.send(ARABIC)
    sender.send(CHINESE)
    sender.close()
    arabic, chinese = (json.loads(r["body"]) for r in web.hook_requests(name))
    shown = "\n".join(texts(arabic))
    # Only Slack's three control characters are escaped; the letters stay as they are.
    assert "ست نساء كازاخيات في سجن الرصافة &lt;ببغداد&gt;" in shown
    assert "جانا عميروفا إن ست نساء كازاخيات محتجزات في سجن الرصافة &amp; ببغداد." in shown
    shown = "\n".join(texts(chinese))
    assert "證人薩依拉古麗・沙吾提巴依再次發聲" in shown
    assert "證人薩依拉古麗・沙吾提巴依近日在阿拉木圖" in shown


def test_email_subject_and_body_carry_arabic_and_chinese(
    smtp: MailServers, tls_files: TlsFiles
) -> None:
    server = smtp.start("starttls")
    sender = EmailChannel(mail_channel(server, tls_files))
    sender.send(ARABIC)
    sender.send(CHINESE)
    sender.close()
    arabic, chinese = (got["message"] for got in server.messages)
    assert arabic["Subject"] == f"newswatch: Zhanna Umirova - {ARABIC.title}"
    assert chinese["Subject"] == f"newswatch: Sayragul Sauytbay - {CHINESE.title}"
    text, html = parts(arabic)
    assert "جانا عميروفا إن ست نساء كازاخيات" in text
    # Right to left where the text is Arabic: the mail client decides by the letters.
    assert '<p dir="auto"><a href="https://orda.kz/bilash">ست نساء كازاخيات' in html
    assert "سجن الرصافة &lt;ببغداد&gt;</a>" in html
    assert '<blockquote dir="auto">وقالت الناشطة جانا عميروفا' in html
    text, html = parts(chinese)
    assert "新疆集中營的證人薩依拉古麗・沙吾提巴依" in text and "新疆集中營的證人" in html
