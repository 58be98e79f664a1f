"""Alert delivery: the outbox written with the hits, and the channels that send from it."""

from .channels import CHANNEL_TYPES, ChannelSetupError, make_channel
from .console import ConsoleChannel
from .outbox import (
    DeliveryReport,
    backoff,
    deliver,
    enqueue,
    idempotency_key,
    retry_dead,
    status,
)
from .payload import (
    AlertMessage,
    ChannelUnreachable,
    DeliveryError,
    MissingAlertData,
    PermanentError,
    RateLimited,
    RetryableError,
    Sender,
    load_message,
    redact,
)
from .signing import SignatureError, sign, signed_headers, verify
from .slack import SlackChannel
from .webhook import HttpChannel, WebhookChannel

__all__ = [
    "CHANNEL_TYPES",
    "AlertMessage",
    "ChannelSetupError",
    "ChannelUnreachable",
    "ConsoleChannel",
    "DeliveryError",
    "DeliveryReport",
    "HttpChannel",
    "MissingAlertData",
    "PermanentError",
    "RateLimited",
    "RetryableError",
    "Sender",
    "SignatureError",
    "SlackChannel",
    "WebhookChannel",
    "backoff",
    "deliver",
    "enqueue",
    "idempotency_key",
    "load_message",
    "make_channel",
    "redact",
    "retry_dead",
    "sign",
    "signed_headers",
    "status",
    "verify",
]
