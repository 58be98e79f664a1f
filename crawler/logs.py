"""How newswatch logs: warnings only under cron, one line per problem, every detail at -vv.

``configure_logging(verbosity)`` is called by the CLI, and only by it; every
module logs through ``logging.getLogger(__name__)``. Verbosity is the count of
``-v``: 0 shows warnings, 1 adds newswatch's info, 2 adds debug, Scrapy's own
info chatter (versions, middlewares, stats) and full tracebacks.

Below ``-vv`` a cron log stays readable:

- Scrapy records that only repeat a failure a spider errback reports with the
  source name (``crawler.run.health`` logs one line per failing source when the
  crawl ends) are dropped: the retry middleware's "Gave up retrying", the
  robots.txt middleware's "Error downloading" (Scrapy then fetches as if
  robots.txt allowed everything), the download handler's size and data-loss
  warnings.
- Every other record is one line: a traceback shrinks to ``ExcType: message``,
  a multi-line message is folded, and a Scrapy record about a source's request
  or page names the source (and shows a page as its URL, not its HTML).
"""

from __future__ import annotations

import copy
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

from crawler.models import Page

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Libraries that log at INFO or DEBUG what a user never needs; they show warnings only.
QUIET_LIBRARIES = ("httpx", "httpcore", "trafilatura", "htmldate", "courlan", "charset_normalizer")

# (logger name prefix, message pattern) of Scrapy records that repeat what an errback reports.
ERRBACK_REPEATS = (
    ("scrapy.downloadermiddlewares.retry", re.compile(r"Gave up retrying ")),
    ("scrapy.downloadermiddlewares.robotstxt", re.compile(r"Error downloading ")),
    ("scrapy.core.downloader", re.compile(r"larger than download max size|^Got data loss in ")),
)

# Lines of a chained traceback that say nothing once the traceback is gone.
_CHAIN_LINES = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)


def configure_logging(verbosity: int) -> None:
    """Send log records to stderr at the level the ``-v`` count asks for (see the module doc)."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(max(verbosity, 0), 2)]
    quiet = verbosity < 2
    handler = logging.StreamHandler(sys.stderr)
    if quiet:
        handler.setFormatter(OneLineFormatter(FORMAT))
    # A no-op when the root logger already has handlers (e.g. under pytest); the
    # filters below still apply to whichever handlers it has.
    logging.basicConfig(level=level, format=FORMAT, handlers=[handler])
    # Scrapy sets its own loggers to DEBUG whenever a crawl starts, and is chatty
    # at INFO (versions, middleware lists, stats dumps): a handler filter keeps
    # that for -vv. Libraries below log at WARNING or above only.
    scrapy_floor = logging.INFO if verbosity >= 2 else logging.WARNING
    for root_handler in logging.getLogger().handlers:
        root_handler.addFilter(
            lambda record: record.levelno >= scrapy_floor
            or not record.name.startswith(("scrapy", "twisted", "py.warnings"))
        )
        if quiet:
            root_handler.addFilter(lambda record: not repeats_errback(record))
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def repeats_errback(record: logging.LogRecord) -> bool:
    """Whether a Scrapy record only repeats a request failure that an errback reports."""
    for prefix, pattern in ERRBACK_REPEATS:
        if record.name.startswith(prefix) and pattern.search(_message(record)):
            return True
    return False


class OneLineFormatter(logging.Formatter):
    """Formats every record as one line: no traceback, no line breaks, the source named."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line; the record itself is left as it was for other handlers."""
        line = copy.copy(record)
        line.msg, line.args = one_line(record), None
        line.exc_info, line.exc_text, line.stack_info = None, None, None
        return super().format(line)


def one_line(record: logging.LogRecord) -> str:
    """The record's message on one line, with ``ExcType: message`` of its exception if any."""
    source = None
    args: Any = record.args
    if isinstance(args, Mapping):
        source, args = _source_and_args(args)
    shown = copy.copy(record)
    shown.args = args
    text = fold(_message(shown))
    error = record.exc_info[1] if record.exc_info else None
    if error is not None:
        text = _with_exception(text, error)
    if source:
        text = f"source {source}: {text}"
    return text


def exception_line(error: BaseException) -> str:
    """``ExcType: message`` of an exception, on one line (the type alone if it has no message)."""
    detail = fold(str(error))
    name = type(error).__name__
    return f"{name}: {detail}" if detail else name


def fold(text: str) -> str:
    """A multi-line message on one line: tracebacks cut to their exception lines, lines joined."""
    kept: list[str] = []
    in_traceback = False
    for raw in text.splitlines():
        line = raw.strip()
        if raw.startswith("Traceback (most recent call last)"):
            in_traceback = True
            continue
        if in_traceback:
            if not line or raw[:1].isspace():
                continue  # a frame, or the source line under it
            in_traceback = False  # the exception line ends the traceback
        if line and line not in _CHAIN_LINES:
            kept.append(line)
    return " | ".join(kept)


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a bad format string must not lose the record
        return str(record.msg)


def _source_and_args(args: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """The source a Scrapy record's request or item belongs to; a page shown by its URL."""
    source = None
    meta = getattr(args.get("request"), "meta", None)
    if isinstance(meta, Mapping) and isinstance(meta.get("source"), str):
        source = meta["source"]
    item = args.get("item")
    if isinstance(item, Page):
        source = source or item.source
        args = {**args, "item": f"<page {item.url}>"}
    return source, args


def _with_exception(text: str, error: BaseException) -> str:
    detail = fold(str(error))
    if detail and detail in text:  # Scrapy often puts the exception's text in the message
        return f"{text} ({type(error).__name__})"
    return f"{text.rstrip(': ')}: {exception_line(error)}"

