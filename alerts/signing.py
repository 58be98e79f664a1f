"""Standard Webhooks signatures: sign an outgoing body, verify an incoming one.

The secret is ``whsec_`` + base64 key bytes. The signature is ``v1,`` +
base64(HMAC-SHA256(key, f"{msg_id}.{timestamp}.{body}")) with ``timestamp`` in
whole unix seconds; the header may carry several space-separated signatures
(during a key rotation) and one valid ``v1`` signature is enough.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from crawler import clock
from crawler.config.keys import webhook_key

SECRET_PREFIX = "whsec_"
TOLERANCE = 5 * 60  # seconds a receiver accepts between the timestamp and its clock


class SignatureError(ValueError):
    """A secret is malformed (the message never repeats the secret)."""


def new_secret(size: int = 32) -> str:
    """A fresh signing secret: ``whsec_`` + base64 of ``size`` random bytes (at least 24)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(max(size, 24))).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` + base64 secret (unpadded and a trailing newline
    accepted, as the reference library accepts them)."""
    try:
        return webhook_key(secret)
    except ValueError as exc:
        raise SignatureError(str(exc)) from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``webhook-signature`` value (``v1,<base64>``) for one message."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    signed = f"{msg_id}.{timestamp}.".encode() + data
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(
    secret: str | None, msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and, with a secret, ``webhook-signature``.

    Call it for every attempt: a fresh timestamp keeps the signature inside
    the receiver's tolerance window however late a retry is.
    """
    stamp = int(clock.now().timestamp()) if timestamp is None else timestamp
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(stamp)}
    if secret:
        headers["webhook-signature"] = sign(secret, msg_id, stamp, body)
    return headers


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: float | None = TOLERANCE,
    now: float | None = None,
) -> bool:
    """True if the headers carry a valid ``v1`` signature of ``body``, timestamped recently.

    Header names are matched case-insensitively. ``tolerance=None`` skips the
    timestamp check (for replaying recorded requests).
    """
    lower = {name.lower(): value for name, value in headers.items()}
    msg_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp")
    given = lower.get("webhook-signature")
    if not msg_id or not stamp or not given:
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    if tolerance is not None:
        moment = clock.now().timestamp() if now is None else now
        if abs(moment - timestamp) > tolerance:
            return False
    expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    for candidate in given.split():
        if candidate.startswith("v1,") and hmac.compare_digest(
            candidate.encode("utf-8", "replace"), expected
        ):
            return True
    return False
