"""The webhook channel: POST the contract JSON payload, signed as Standard Webhooks define.

``HttpChannel`` holds what every HTTP channel shares (the httpx client, the
mapping of transport errors and status codes onto ``DeliveryError``, keeping
the URL out of every message); ``SlackChannel`` builds on it too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import httpx

from alerts.payload import (
    AlertMessage,
    ChannelDisabled,
    ChannelUnreachable,
    DeliveryError,
    Notice,
    PermanentError,
    RateLimited,
    RetryableError,
)
from alerts.redaction import add_log_secrets, redact
from alerts.signing import secret_key, signed_headers
from crawler import clock
from crawler.config import Channel, HttpOptions

USER_AGENT = "newswatch/0.1"
MAX_RETRY_AFTER = 24 * 3600.0
BODY_EXCERPT = 200  # characters of an error response kept in last_error


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - (clock.now().timestamp() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class HttpChannel:
    """An alert channel that POSTs JSON to a secret URL with httpx."""

    kind = "http"

    def __init__(self, channel: Channel, *, client: httpx.Client | None = None) -> None:
        url = channel.secrets.get("url", "")
        if not url:
            raise ValueError(f"channel {channel.id!r}: no URL (its url_env variable is not set)")
        self.id = channel.id
        self._url = url
        self._secrets = tuple(value for value in channel.secrets.values() if value)
        add_log_secrets(self._secrets)
        timeout = channel.options_as(HttpOptions).timeout
        self._own_client = client is None
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"

    def close(self) -> None:
        """Close the HTTP client if this channel created it."""
        if self._own_client:
            self._client.close()

    def redact(self, text: str) -> str:
        """``text`` with this channel's URL and secrets removed."""
        return redact(text, self._secrets)

    def post_json(self, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """POST ``body``; transport failures become ``ChannelUnreachable``, without the URL."""
        try:
            return self._client.post(
                self._url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    **headers,
                },
            )
        except httpx.TimeoutException as exc:
            raise ChannelUnreachable(f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            reason = self.redact(str(exc)) or "no detail"
            raise ChannelUnreachable(f"connection failed: {type(exc).__name__}: {reason}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise PermanentError(f"cannot send: {type(exc).__name__}") from None

    def error_for(self, response: httpx.Response) -> DeliveryError | None:
        """The ``DeliveryError`` a response means, or None for success (2xx)."""
        status = response.status_code
        if 200 <= status < 300:
            return None
        excerpt = self.redact(" ".join(response.text[:BODY_EXCERPT].split()))
        detail = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if status == 429:
            return RateLimited(detail, retry_after=retry_after)
        if status == 408 or status >= 500:
            return RetryableError(detail, retry_after=retry_after)
        if status == 410:
            return ChannelDisabled(detail + " (the receiver is gone)")
        if 300 <= status < 400:
            return PermanentError(
                f"HTTP {status}: the URL redirects and redirects are not followed; "
                "set the final URL in the channel's environment variable"
            )
        return PermanentError(detail)


class WebhookChannel(HttpChannel):
    """POSTs ``{"type": "hit.created", ...}`` with ``webhook-id/-timestamp/-signature`` headers.

    Without a secret the request goes unsigned but still carries
    ``webhook-id`` (the idempotency key, for the receiver to deduplicate) and
    ``webhook-timestamp``.
    """

    kind = "webhook"

    def __init__(self, channel: Channel, *, client: httpx.Client | None = None) -> None:
        super().__init__(channel, client=client)
        self._secret = channel.secrets.get("secret") or None
        if self._secret:
            try:
                secret_key(self._secret)
            except ValueError as exc:
                raise ValueError(f"channel {channel.id!r}: {exc}") from None

    def send(self, message: AlertMessage) -> None:
        """Sign (with a fresh timestamp) and POST one alert; raise ``DeliveryError`` on failure."""
        self._post_event(message.id, message.payload())

    def notify(self, notice: Notice) -> None:
        """POST a notice (``alerts.summary``, ``source.failing``, ``source.recovered``)."""
        self._post_event(notice.id, notice.payload())

    def _post_event(self, event_id: str, payload: dict[str, object]) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        response = self.post_json(body, signed_headers(self._secret, event_id, body))
        error = self.error_for(response)
        if error is not None:
            raise error
