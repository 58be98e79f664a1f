"""The console channel: print a readable alert to stdout (what `newswatch demo` would send)."""

from __future__ import annotations

import re
import sys
from typing import TextIO

from alerts.payload import AlertMessage, Notice
from crawler.config import Channel

# Scraped text must not drive the terminal: drop control characters (ANSI escapes too).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean(text: str | None) -> str:
    return " ".join(_CONTROL.sub("", text or "").split())


def render(message: AlertMessage) -> str:
    """The alert as a few labelled lines of plain text."""
    lines = [f"── alert: {_clean(message.watch_name)} ({message.watch_id}) ──"]
    rows = [
        ("title", _clean(message.title)),
        ("url", _clean(message.url)),
        ("source", _clean(message.source)),
        ("date", _clean(message.published_at)),
        ("updated", f"updated article, changed {_clean(message.updated_at)}"
         if message.updated_at else ""),
        ("matched", _clean(message.matched)),
        ("snippet", _clean(message.snippet)),
    ]
    if message.confidence is not None:
        rows.append(("confidence", f"{message.confidence:.2f}"))
    if message.also_reported_by:
        rows.append(("also in", f"{len(message.also_reported_by)} other article(s)"))
    lines.extend(f"  {label + ':':<11} {value}" for label, value in rows if value)
    return "\n".join(lines) + "\n"


class ConsoleChannel:
    """Writes each alert to a stream (stdout by default); it cannot fail to deliver."""

    kind = "console"

    def __init__(self, channel: Channel | None = None, *, stream: TextIO | None = None) -> None:
        self.id = channel.id if channel is not None else "console"
        self._stream = stream

    def send(self, message: AlertMessage) -> None:
        """Print one alert, followed by a blank line."""
        stream = self._stream or sys.stdout  # looked up late, so pytest's capsys sees it
        stream.write(render(message) + "\n")
        stream.flush()

    def notify(self, notice: Notice) -> None:
        """Print a notice (flood summary, source alert)."""
        lines = [f"── {_clean(notice.title)} ──", f"  {_clean(notice.text)}"]
        if notice.link:
            lines.append(f"  {_clean(notice.link)}")
        stream = self._stream or sys.stdout
        stream.write("\n".join(lines) + "\n\n")
        stream.flush()

    def close(self) -> None:
        """Nothing to release."""
