"""Turn a configured ``Channel`` into the object that sends to it."""

from __future__ import annotations

from collections.abc import Callable

from alerts.console import ConsoleChannel
from alerts.mail import EmailChannel
from alerts.payload import Sender
from alerts.slack import SlackChannel
from alerts.webhook import WebhookChannel
from crawler.config import Channel


def _apprise(channel: Channel) -> Sender:
    """An Apprise channel; Apprise and its plugins load only when one is configured."""
    from alerts.apprise_channel import AppriseChannel

    return AppriseChannel(channel)


# Channel type (the ``type`` key in [[channel]]) -> constructor.
CHANNEL_TYPES: dict[str, Callable[[Channel], Sender]] = {
    "console": ConsoleChannel,
    "webhook": WebhookChannel,
    "slack": SlackChannel,
    "email": EmailChannel,
    "apprise": _apprise,
}


class ChannelSetupError(ValueError):
    """A channel cannot be built: unknown type or missing setting (never shows a secret)."""


def make_channel(channel: Channel) -> Sender:
    """The sender for one configured channel; ``ChannelSetupError`` if it cannot be built."""
    factory = CHANNEL_TYPES.get(channel.type)
    if factory is None:
        known = ", ".join(sorted(CHANNEL_TYPES))
        raise ChannelSetupError(
            f"channel {channel.id!r}: type {channel.type!r} cannot send here (known: {known})"
        )
    try:
        return factory(channel)
    except ValueError as exc:
        raise ChannelSetupError(str(exc)) from None
