"""The email channel: alerts, digests and notices over SMTP with TLS that is verified.

``security = "starttls"`` (port 587 by default) upgrades the connection and
refuses to go on if the server offers no STARTTLS; ``"tls"`` (465) speaks TLS
from the first byte; both verify the server's certificate against the
system's CAs plus ``ca_file``. Plaintext happens only with
``security = "plain-local-relay"``, which the config refuses together with a
login. Every header value is stripped of CR/LF, so a headline cannot add a
header; ``Message-ID`` comes from the alert's idempotency key, so a repeat
after a crash is recognisably the same mail.

Bodies go quoted-printable or base64 (whichever is shorter), never raw 8-bit, so
no server needs 8BITMIME and none is asked for it. Non-ASCII header text goes as
RFC 2047 encoded-words of at most 75 characters each (Python's own folding makes
76-character ones), a display name's words among them.

SMTP answers map onto the outbox's errors: connection trouble and 4xx retry,
5xx to a message is permanent, a refused login, sender or recipient list
disables the channel (its alerts wait until the config is fixed).
"""

from __future__ import annotations

import base64
import contextlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formataddr, formatdate
from typing import Any

from alerts.payload import (
    AlertMessage,
    ChannelDisabled,
    ChannelUnreachable,
    DeliveryError,
    Digest,
    Notice,
    PermanentError,
    RetryableError,
)
from alerts.redaction import redact
from alerts.templates import Templates, digest_context, message_context, notice_context
from crawler.config import Channel, EmailOptions
from crawler.config.mailheaders import default_list_id

SUBJECT_LIMIT = 200
HEADER_LIMIT = 900
_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def header(value: str, limit: int = HEADER_LIMIT) -> str:
    """A header value with CR, LF and other control characters turned into spaces, clipped."""
    text = " ".join(_BREAKS.sub(" ", value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


ENCODED_WORD_LIMIT = 75  # RFC 2047: an encoded-word is at most 75 characters
_EW_OPEN, _EW_CLOSE = "=?utf-8?b?", "?="
# Bytes of UTF-8 one base64 encoded-word can carry: 4 characters per 3 bytes inside the limit.
_EW_BYTES = (ENCODED_WORD_LIMIT - len(_EW_OPEN) - len(_EW_CLOSE)) // 4 * 3


def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 base64 encoded-words of at most 75 characters, never splitting
    a character between two of them."""
    chunks: list[bytes] = [b""]
    for char in text:
        data = char.encode("utf-8")
        if len(chunks[-1]) + len(data) > _EW_BYTES:
            chunks.append(b"")
        chunks[-1] += data
    return [_EW_OPEN + base64.b64encode(chunk).decode("ascii") + _EW_CLOSE for chunk in chunks]


class MailPolicy(EmailPolicy):
    """The SMTP policy, with 7-bit bodies and encoded-words kept within 75 characters."""

    def fold(self, name: str, value: Any) -> str:
        """The header line(s); non-ASCII text as short encoded-words, one per folded line."""
        text = str(value)
        if text.isascii():
            return str(super().fold(name, value))
        addresses = getattr(value, "addresses", None)
        if addresses is not None:
            parts = []
            for address in addresses:
                display = address.display_name or ""
                if display.isascii():
                    parts.append(formataddr((display, address.addr_spec)))
                else:
                    parts.append(f"{' '.join(encoded_words(display))} <{address.addr_spec}>")
            body = ("," + self.linesep + " ").join(parts)
        else:
            body = (self.linesep + " ").join(encoded_words(text))
        return f"{name}: {body}{self.linesep}"

    def fold_binary(self, name: str, value: Any) -> bytes:
        """``fold`` as ASCII bytes (every line is ASCII by then)."""
        return self.fold(name, value).encode("ascii")


MAIL_POLICY = MailPolicy(linesep="\r\n", cte_type="7bit", utf8=False)


def address_domain(address: str) -> str:
    """The domain of ``Name <user@domain>`` or ``user@domain``."""
    return address.rpartition("@")[2].rstrip(">").strip() or "newswatch.invalid"


class EmailChannel:
    """Sends over one SMTP connection, opened on first use and reused until ``close``."""

    kind = "email"

    def __init__(self, channel: Channel) -> None:
        options = channel.options_as(EmailOptions)
        self.id = channel.id
        self.host = options.host
        if not self.host or not options.to or not options.sender:
            raise ValueError(f"channel {channel.id!r}: an email channel needs host, from and to")
        self.security = options.security
        self.port = options.effective_port
        self.sender = options.sender
        self.recipients = list(options.to)
        self.mode = options.mode
        self.timeout = options.timeout
        self._username = channel.secrets.get("username", "")
        self._password = channel.secrets.get("password", "")
        self._secrets = tuple(value for value in channel.secrets.values() if value)
        self._ca_file = options.ca_file or None
        self.domain = address_domain(self.sender)
        self.list_id = header(options.list_id or default_list_id(channel.id, self.domain))
        self.templates = Templates(options.template_dir or None)
        self._smtp: smtplib.SMTP | None = None

    def __repr__(self) -> str:
        return f"EmailChannel(id={self.id!r})"

    # --- what the outbox calls -------------------------------------------------------------

    def send(self, message: AlertMessage) -> None:
        """Mail one alert."""
        text, html = self.templates.render("alert", message_context(message))
        updated = "updated article: " if message.updated_at else ""
        subject = f"newswatch: {message.watch_name} - {updated}{message.title or message.url}"
        if message.priority == "urgent":
            subject = "[urgent] " + subject
        self._deliver(self.message(subject, message.id, text, html))

    def send_digest(self, digest: Digest) -> None:
        """Mail many alerts as one digest."""
        text, html = self.templates.render("digest", digest_context(digest))
        watches = sorted({item.watch_name for item in digest.items})
        shown = ", ".join(watches[:3])
        if len(watches) > 3:
            shown += f" and {len(watches) - 3} more"
        subject = f"newswatch digest: {digest.total} alert{'s' if digest.total != 1 else ''}"
        if shown:
            subject += f" ({shown})"
        self._deliver(self.message(subject, digest.id, text, html))

    def notify(self, notice: Notice) -> None:
        """Mail a notice (flood summary, source alert)."""
        text, html = self.templates.render("notice", notice_context(notice))
        self._deliver(self.message(f"newswatch: {notice.title}", notice.id, text, html))

    def close(self) -> None:
        """Say QUIT if a connection is open."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    # --- building and sending ----------------------------------------------------------------

    def message(self, subject: str, key: str, text: str, html: str) -> EmailMessage:
        """The MIME message: text and HTML alternatives, headers stripped of CR/LF."""
        mail = EmailMessage(policy=MAIL_POLICY)
        mail["Subject"] = header(subject, SUBJECT_LIMIT)
        mail["From"] = header(self.sender)
        mail["To"] = header(", ".join(self.recipients))
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = f"<{header(key, 200).replace(' ', '')}@{self.domain}>"
        mail["List-Id"] = self.list_id
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(text)
        mail.add_alternative(html, subtype="html")
        return mail

    def _deliver(self, mail: EmailMessage) -> None:
        smtp = self._connection()
        try:
            smtp.send_message(mail, from_addr=self._envelope_from(), to_addrs=self.recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise self._by_code(
                max(codes), f"every recipient was refused (SMTP {codes})", channel_level=True
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise self._by_code(
                exc.smtp_code, f"the sender address was refused: {self._text(exc)}", True
            ) from None
        except smtplib.SMTPResponseException as exc:
            self._drop()
            detail = f"the message was refused: {self._text(exc)}"
            raise self._by_code(exc.smtp_code, detail) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise ChannelUnreachable(f"the connection broke: {type(exc).__name__}") from None

    def _envelope_from(self) -> str:
        return self.sender.rpartition("<")[2].rstrip(">").strip()

    def _by_code(self, code: int, detail: str, channel_level: bool = False) -> DeliveryError:
        if 400 <= code < 500:
            return RetryableError(f"SMTP {code}: {detail}")
        if channel_level:
            return ChannelDisabled(f"SMTP {code}: {detail}")
        return PermanentError(f"SMTP {code}: {detail}")

    def _text(self, exc: smtplib.SMTPResponseException) -> str:
        raw = exc.smtp_error
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return redact(" ".join(text.split())[:200], self._secrets)

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self._ca_file:
            context.load_verify_locations(cafile=self._ca_file)
        return context

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        smtp: smtplib.SMTP | None = None
        where = f"{self.host}:{self.port}"
        try:
            if self.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._tls_context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise ChannelDisabled(
                        f"{where} offers no STARTTLS; nothing was sent in plaintext "
                        '(use security = "tls" for port 465, or fix the server)'
                    )
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password)
        except DeliveryError:
            self._close_quietly(smtp)
            raise
        except ssl.SSLCertVerificationError as exc:
            self._close_quietly(smtp)
            raise ChannelUnreachable(
                f"{where}: TLS certificate not trusted ({exc.verify_message}); nothing was sent"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            self._close_quietly(smtp)
            raise ChannelDisabled(
                f"{where}: login refused (SMTP {exc.smtp_code}); check username_env and "
                "password_env"
            ) from None
        except smtplib.SMTPNotSupportedError:
            self._close_quietly(smtp)
            raise ChannelDisabled(f"{where}: the server offers no login (AUTH)") from None
        except smtplib.SMTPResponseException as exc:
            self._close_quietly(smtp)
            detail = f"{where} refused: {self._text(exc)}"
            raise self._by_code(exc.smtp_code, detail, channel_level=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._close_quietly(smtp)
            reason = redact(str(exc), self._secrets)[:200] or type(exc).__name__
            raise ChannelUnreachable(f"{where}: cannot connect: {reason}") from None
        self._smtp = smtp
        return smtp

    @staticmethod
    def _close_quietly(smtp: smtplib.SMTP | None) -> None:
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()
