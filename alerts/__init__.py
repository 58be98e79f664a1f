"""Alert delivery: the outbox written with the hits, and the channels that send from it."""

from .apprise_channel import AppriseChannel
from .channels import CHANNEL_TYPES, ChannelSetupError, make_channel
from .console import ConsoleChannel
from .delivery import DeliveryReport, counts_text, deliver
from .mail import EmailChannel
from .outbox import (
    backoff,
    enqueue,
    idempotency_key,
    is_backfill,
    retry_dead,
    status,
    undelivered,
)
from .payload import (
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
from .redaction import add_log_secrets, install_log_redaction, redact
from .removals import RemovalReport, removal_notices
from .signing import SignatureError, new_secret, sign, signed_headers, verify
from .silence import silent_watches, watch_silence
from .slack import SlackChannel
from .source_alerts import source_alerts, source_status
from .state import enable_channels, note_run
from .webhook import HttpChannel, WebhookChannel

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
