"""Keeping secrets out of every log line and error text: channel URLs, tokens, passwords.

A secret is known by all the forms in which it can leak: the value itself; a
``whsec_`` secret's key without the prefix; for a URL, its path, query,
user and password, and the path segments and query values that look like
tokens. Apprise URLs keep their token where a host would be
(``tgram://123456:ABC.../chat``), so a dotless "host" of a non-web URL is a
form too. Every line a CLI handler writes is redacted as a whole (``RedactingFormatter``),
whichever library logged it (httpx, urllib3 under Apprise, smtplib, Scrapy)
and at every verbosity, tracebacks included.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urlsplit

MARK = "[redacted]"
MIN_FORM = 4  # shorter pieces (a port, "v1") would blank out ordinary words
_TOKEN_LIKE = re.compile(r"(?=.*\d)|(?=.*[A-Z])(?=.*[a-z])")  # a digit, or mixed case


def secret_forms(secrets: Iterable[str]) -> list[str]:
    """Every string that would reveal one of these secrets, longest first."""
    forms: set[str] = set()
    for value in secrets:
        if not value or len(value) < MIN_FORM:
            continue
        forms.add(value)
        if value.startswith("whsec_"):
            forms.add(value.removeprefix("whsec_"))
        parts = urlsplit(value)
        if not (parts.scheme and parts.netloc):
            continue
        userinfo, _, host = parts.netloc.rpartition("@")
        password = userinfo.partition(":")[2]  # a user name alone is no secret
        pieces = [parts.path, parts.query, parts.fragment, userinfo, password]
        # Single segments and values only when they look like tokens: "services" in a
        # Slack URL's path is an ordinary word, "T0123/B0456/xYz..." are not.
        pieces += [
            piece
            for piece in (*parts.path.split("/"), *(v for _, v in parse_qsl(parts.query)))
            if len(piece) >= 8 and _TOKEN_LIKE.match(piece)
        ]
        if parts.scheme not in ("http", "https") and "." not in host:
            pieces += [host, *host.split(":")]  # tgram://BOT_TOKEN/CHAT_ID
        for piece in pieces:
            if len(piece) >= MIN_FORM and piece != "/":
                forms.add(piece)
                forms.add(quote(piece, safe="/"))  # as a client sends it in a request line
    return sorted(forms, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``[redacted]``."""
    for form in secret_forms(secrets):
        text = text.replace(form, MARK)
    return text


class SecretRegistry:
    """The secrets known to this process, as the forms ``secret_forms`` derives."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._forms: list[str] = []

    def add(self, secrets: Iterable[str]) -> None:
        """Know these values (and their forms) from now on."""
        new = {secret for secret in secrets if secret} - self._secrets
        if new:
            self._secrets |= new
            self._forms = secret_forms(self._secrets)

    def clean(self, text: str) -> str:
        """``text`` with every known form replaced by ``[redacted]``."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, MARK)
        return text


SECRETS = SecretRegistry()


class LogRedactor(logging.Filter):
    """A logger filter: redacts a record's message where a library logs a URL it was given."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the message in place; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the formatter
            return True
        clean = SECRETS.clean(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class RedactingFormatter(logging.Formatter):
    """Wraps a handler's formatter: the finished line (traceback included) is redacted."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        """The inner formatter's text with every known secret redacted."""
        return SECRETS.clean(self.inner.format(record))


# Libraries that log a channel URL they were given, also where no CLI handler is
# installed (under a test runner's log capture, or newswatch used as a library).
for _name in ("httpx", "httpcore", "apprise", "urllib3", "requests"):
    logging.getLogger(_name).addFilter(LogRedactor())


def add_log_secrets(secrets: Iterable[str]) -> None:
    """Keep these values out of every log line from now on."""
    SECRETS.add(secrets)


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Redact the output of every handler of ``logger`` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter))
