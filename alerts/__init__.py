"""Alert delivery: the outbox written with the hits, and the channels that send from it."""

from typing import Any

from alerts.channels import CHANNEL_TYPES, ChannelSetupError, make_channel
from alerts.console import ConsoleChannel
from alerts.delivery import DeliveryReport, counts_text, deliver
from alerts.mail import EmailChannel
from alerts.outbox import (
    backoff,
    enqueue,
    idempotency_key,
    is_backfill,
    retry_dead,
    status,
    undelivered,
)
from alerts.payload import (
    AlertMessage,
    ChannelDisabled,
    ChannelUnreachable,
    DeliveryError,
    Digest,
    MissingAlertData,
    Notice,
    PermanentError,
    RateLimited,
    RetryableError,
    Sender,
    load_message,
    redacted,
)
from alerts.redaction import add_log_secrets, install_log_redaction, redact
from alerts.removals import RemovalReport, removal_notices
from alerts.signing import SignatureError, new_secret, sign, signed_headers, verify
from alerts.silence import silent_watches, watch_silence
from alerts.slack import SlackChannel
from alerts.source_alerts import source_alerts, source_status
from alerts.state import enable_channels, note_run
from alerts.webhook import HttpChannel, WebhookChannel

__all__ = [
    "CHANNEL_TYPES",
    "AlertMessage",
    "AppriseChannel",
    "ChannelDisabled",
    "ChannelSetupError",
    "ChannelUnreachable",
    "ConsoleChannel",
    "DeliveryError",
    "DeliveryReport",
    "Digest",
    "EmailChannel",
    "HttpChannel",
    "MissingAlertData",
    "Notice",
    "PermanentError",
    "RateLimited",
    "RemovalReport",
    "RetryableError",
    "Sender",
    "SignatureError",
    "SlackChannel",
    "WebhookChannel",
    "add_log_secrets",
    "backoff",
    "counts_text",
    "deliver",
    "enable_channels",
    "enqueue",
    "idempotency_key",
    "install_log_redaction",
    "is_backfill",
    "load_message",
    "make_channel",
    "new_secret",
    "note_run",
    "redact",
    "redacted",
    "removal_notices",
    "retry_dead",
    "sign",
    "signed_headers",
    "silent_watches",
    "source_alerts",
    "source_status",
    "status",
    "undelivered",
    "verify",
    "watch_silence",
]


def __getattr__(name: str) -> Any:
    """``AppriseChannel`` loads Apprise and its plugins when first asked for, not with
    the package: most runs configure no Apprise channel."""
    if name == "AppriseChannel":
        from alerts.apprise_channel import AppriseChannel

        return AppriseChannel
    raise AttributeError(f"module 'alerts' has no attribute {name!r}")
