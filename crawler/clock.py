"""The one clock: wall time, monotonic time and sleeping, from one place that tests can move.

Every stage asks this module for the time instead of ``datetime.now``,
``time.time``, ``time.monotonic`` or ``time.sleep``. The process starts on
``SystemClock``; a test swaps in a ``FakeClock`` (``with using(FakeClock(...))``)
and moves it instead of sleeping. A subprocess (the CLI under an end-to-end
test, or a rehearsal of next week's runs) starts from another instant when
``NEWSWATCH_NOW`` holds an ISO 8601 UTC time: the clock then runs on from
that instant at the real pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

NOW_ENV = "NEWSWATCH_NOW"


class Clock:
    """What a stage may ask of time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        raise NotImplementedError

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for intervals and deadlines)."""
        raise NotImplementedError

    def sleep(self, seconds: float) -> None:
        """Wait this many seconds."""
        raise NotImplementedError

    async def pause(self, seconds: float) -> None:
        """Wait this many seconds without holding up the event loop (a crawl goes on)."""
        await asyncio.sleep(max(0.0, seconds))


class SystemClock(Clock):
    """The machine's clock, optionally started from another instant (``NEWSWATCH_NOW``)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0)
        if start is not None:
            self._offset = start.astimezone(UTC) - datetime.now(UTC)

    def now(self) -> datetime:
        """The machine's time, shifted by the start instant if one was given."""
        return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep``, never negative."""
        time.sleep(max(0.0, seconds))


class FakeClock(Clock):
    """A clock that moves only when told to (or by ``sleep``): for tests."""

    def __init__(self, start: datetime | str = "2026-11-16T08:00:00Z") -> None:
        self._now = parse(start) if isinstance(start, str) else start.astimezone(UTC)
        self._monotonic = 1000.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        """The fake instant."""
        return self._now

    def monotonic(self) -> float:
        """Fake monotonic seconds, moved together with ``now``."""
        return self._monotonic

    def sleep(self, seconds: float) -> None:
        """Record the wait and move the clock by it, at once."""
        seconds = max(0.0, seconds)
        self.slept.append(seconds)
        self.advance(seconds)

    async def pause(self, seconds: float) -> None:
        """Like ``sleep``: record the wait and move the clock, at once."""
        self.sleep(seconds)

    def advance(self, seconds: float = 0.0, **delta: float) -> None:
        """Move the clock forward: ``advance(5)`` or ``advance(hours=6)``."""
        step = timedelta(seconds=seconds, **delta)
        self._now += step
        self._monotonic += step.total_seconds()


def parse(text: str) -> datetime:
    """An ISO 8601 time as timezone-aware UTC (a time without a zone is taken as UTC)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _from_environment() -> Clock:
    start = os.environ.get(NOW_ENV, "").strip()
    if not start:
        return SystemClock()
    try:
        return SystemClock(parse(start))
    except ValueError:
        raise SystemExit(
            f"newswatch: ${NOW_ENV}: expected an ISO 8601 time, got {start!r}"
        ) from None


_current: Clock = _from_environment()


def current() -> Clock:
    """The clock in use."""
    return _current


@contextlib.contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Use ``clock`` inside the block (and restore the previous one after)."""
    global _current
    previous, _current = _current, clock
    try:
        yield clock
    finally:
        _current = previous


def adopt(clock: Clock) -> None:
    """Use ``clock`` from now on: a worker process takes its parent's clock this way."""
    global _current
    _current = clock


def now() -> datetime:
    """The current time (UTC) of the clock in use."""
    return _current.now()


def iso_now() -> str:
    """The current time as an ISO 8601 UTC string, seconds precision: ``2026-11-16T08:00:00Z``."""
    return iso(now())


def iso(moment: datetime) -> str:
    """A time as an ISO 8601 UTC string (seconds precision, ``Z``)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def monotonic() -> float:
    """Monotonic seconds of the clock in use."""
    return _current.monotonic()


def sleep(seconds: float) -> None:
    """Sleep on the clock in use (a fake clock just moves)."""
    _current.sleep(seconds)


async def pause(seconds: float) -> None:
    """Wait on the clock in use without blocking the event loop (a fake clock just moves)."""
    await _current.pause(seconds)
