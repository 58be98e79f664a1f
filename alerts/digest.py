"""When an email digest is due, and its stable id.

A channel with ``mode = "digest"`` sends at slots ``at + k * every`` (UTC):
``every = "1d", at = "08:00"`` means each morning at 08:00; ``every = "1h"``
means on the hour. An alert joins the first slot after it was queued, and a
run that comes after that slot sends it. Urgent watches skip the digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

LIMIT = 200  # alerts listed in full in one digest; the rest are counted, with the review link
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def period(every: str) -> timedelta:
    """``"1h"`` -> one hour; ``"30m"``, ``"2d"`` likewise (the config has checked the form)."""
    number, unit = int(every[:-1]), every[-1]
    return timedelta(**{_UNITS[unit]: number})


def latest_slot(now: datetime, every: str = "1d", at: str = "00:00") -> datetime:
    """The last digest slot at or before ``now``."""
    hour, minute = (int(part) for part in at.split(":"))
    anchor = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    step = period(every)
    return anchor + (now - anchor) // step * step


def batch_id(prefix: str, keys: Iterable[str]) -> str:
    """A stable id for a digest or summary from its alerts' keys (webhook-id, Message-ID)."""
    return prefix + hashlib.sha256("\x1f".join(sorted(keys)).encode()).hexdigest()[:24]
