"""What an email channel's From and List-Id must be, checked at ``newswatch check``.

- ``from``: one mailbox, ``user@domain`` or ``Display Name <user@domain>``; a display
  name holding a comma, semicolon or other RFC 5322 special must be in double quotes
  (``"Newswatch, Desk" <desk@example.org>``), or it reads as two addresses.
- ``list_id``: RFC 2919, an optional phrase then ``<label.namespace>``, the id a dot-atom
  of at least two parts. The default is made from the channel id, mapped to a valid label.
"""

from __future__ import annotations

import re
from email.headerregistry import HeaderRegistry
from typing import Any

from crawler.config.keys import ADDRESS_RE

# RFC 5322 atext, and a dot-atom of at least two atoms (RFC 2919: list-label "." namespace).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
LIST_ID_RE = re.compile(rf"^(?:[^<>\x00-\x1f\x7f]*\s)?<({_ATEXT}(?:\.{_ATEXT})+)>$")
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")


def from_problem(value: str) -> str:
    """Why ``value`` is not one valid From mailbox ('' if it is)."""
    try:
        parsed = HeaderRegistry()("From", value)
    except Exception:  # the parser's own errors on malformed input
        return "an email address, or one mailbox such as 'Desk <desk@example.org>'"
    addresses: tuple[Any, ...] = tuple(getattr(parsed, "addresses", ()))
    if len(addresses) != 1 or not ADDRESS_RE.match(addresses[0].addr_spec or ""):
        return (
            "an email address, or one mailbox such as 'Desk <desk@example.org>' (a display "
            "name with a comma or semicolon goes in double quotes: "
            "'\"Newswatch, Desk\" <desk@example.org>')"
        )
    if parsed.defects:
        return f"a valid mailbox ({parsed.defects[0]})"
    return ""


def list_id_problem(value: str) -> str:
    """Why ``value`` is not a valid List-Id header ('' if it is)."""
    if LIST_ID_RE.match(value.strip()):
        return ""
    return "a List-Id such as 'newswatch alerts <staff.example.org>' (RFC 2919)"


def default_list_id(channel_id: str, domain: str) -> str:
    """The channel's List-Id when none is configured: its id made a valid list label."""
    label = ".".join(part for part in _NOT_ATEXT.sub("-", channel_id).split(".") if part)
    namespace = ".".join(part for part in _NOT_ATEXT.sub("-", domain).split(".") if part)
    list_id = f"newswatch alerts <{label or 'newswatch'}.{namespace or 'newswatch.invalid'}>"
    return list_id if not list_id_problem(list_id) else "newswatch alerts <newswatch.invalid>"
