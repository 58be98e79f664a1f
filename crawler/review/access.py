"""Who may use the review desk: the permission policy, logins, sessions and safe redirects.

Datasette's permissions are the desk's permissions. Every desk page asks
Datasette for ``view-instance`` and ``view-database`` on the hits database, so
``allow`` rules a deployer writes apply to the desk as they apply to
Datasette's own pages; recording a verdict or a note asks for
``newswatch-review``. The desk adds one policy of its own (``policy()``, run
from the ``permission_allowed`` hook):

- An anonymous client may read only from this machine (a loopback address),
  and only while ``open_on_localhost`` is on (turn it off behind a reverse
  proxy on the same host, where every request looks local). Anyone else is
  denied every read action, and the ``forbidden`` hook sends a browser to the
  login page (other clients get a 401).
- ``newswatch-review`` follows an ``allow`` block under
  ``permissions.newswatch-review`` in the metadata (instance or database) when
  there is one; otherwise an actor the desk's own login signed in may review,
  and no other actor may (an actor from another auth plugin needs that rule).

Logins (``newswatch_session`` cookie, signed by Datasette):

- With accounts in the database (``newswatch users add``), an editor logs in
  with account name and password (``crawler.review.accounts``: scrypt hashes,
  attempt limits per account and per address, sessions that end when the
  password changes).
- With no account, the shared password named by ``password_env`` lets anyone
  in under a name they type (a one-person set-up); with no password either,
  only this machine can log in, by name.
"""

from __future__ import annotations

import contextvars
import hmac
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from datasette.utils import actor_matches_allow, baseconv

from crawler import clock

PLUGIN = "newswatch"
PREFIX = "/-/newswatch"
LOGIN_PATH = f"{PREFIX}/login"
COOKIE = "newswatch_session"
SESSION_SECONDS = 24 * 3600
NAME_RE = re.compile(r"^[^\x00-\x1f\x7f<>]{1,64}$")
REVIEW = "newswatch-review"  # the permission to record verdicts and notes
READ_ACTIONS = ("view-instance", "view-database", "view-table", "view-query", "execute-sql")
# How an actor signed in through the desk: an account, the shared password, or by name
# on this machine. Actors from elsewhere (another auth plugin) have none of these.
KINDS = ("account", "shared", "local")

# Whether the request being handled comes from this machine. Datasette's permission hook is
# not given the request, so the actor_from_request hook (which is, and runs first on every
# request) notes it here; each request runs in its own context.
_local_client: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "newswatch_local_client", default=False
)


@dataclass(frozen=True)
class DeskSettings:
    """The plugin's configuration (Datasette metadata ``plugins.newswatch``)."""

    database: str = ""  # the attached database holding hits; default: the first that has them
    password_env: str = ""
    open_on_localhost: bool = True
    watches: Mapping[str, str] = field(default_factory=dict)  # watch id -> display name
    home: bool = False  # serve the queue at / (newswatch review turns this on)
    review_url: str = ""  # the desk's public address: feed ids and links are made from it

    @classmethod
    def of(cls, datasette: Any) -> DeskSettings:
        """Settings from Datasette's metadata; missing or odd values fall back to defaults."""
        raw = datasette.plugin_config(PLUGIN) or {}
        watches = raw.get("watches") if isinstance(raw.get("watches"), dict) else {}
        review_url = str(raw.get("review_url") or "")
        if review_url and not review_url.endswith("/"):
            review_url += "/"
        return cls(
            database=str(raw.get("database") or ""),
            password_env=str(raw.get("password_env") or ""),
            open_on_localhost=raw.get("open_on_localhost", True) is not False,
            watches={str(k): str(v) for k, v in (watches or {}).items()},
            home=raw.get("home") is True,
            review_url=review_url if urlsplit(review_url).scheme in ("http", "https") else "",
        )

    def password(self) -> str | None:
        """The shared password; None if none is configured; '' if its variable is unset."""
        if not self.password_env:
            return None
        return os.environ.get(self.password_env, "")


def is_local(scope: Mapping[str, Any]) -> bool:
    """True if the client connected from a loopback address."""
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(str(client[0])).is_loopback
    except ValueError:
        return False


def client_address(scope: Mapping[str, Any]) -> str:
    """The client's address as the server saw it ('' if unknown)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


def note_client(scope: Mapping[str, Any]) -> None:
    """Remember, for this request's permission checks, whether the client is local."""
    _local_client.set(is_local(scope))


def policy(datasette: Any, actor: dict[str, Any] | None, action: str, resource: Any) -> Any:
    """The desk's permission policy: True, False, or None to leave the decision to others."""
    if action in READ_ACTIONS:
        if actor is None:
            settings = DeskSettings.of(datasette)
            if not (settings.open_on_localhost and _local_client.get()):
                return False
        return None
    if action == REVIEW:
        database = resource if isinstance(resource, str) else None
        rules = datasette.metadata("permissions", database=database) or {}
        rule = rules.get(REVIEW) if isinstance(rules, dict) else None
        if rule is not None:
            return actor_matches_allow(actor, rule)
        return bool(actor and actor.get("newswatch") in KINDS)
    return None


def writer(request: Any) -> str | None:
    """The logged-in actor's id, who a verdict is recorded as; None if nobody is logged in."""
    actor = request.actor
    if not actor or not actor.get("id"):
        return None
    return str(actor["id"])


def safe_next(target: str | None, default: str) -> str:
    """A path on this site to go to after a form, never another site (no open redirect).

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
    ``/\\t/evil.example/`` would become ``//evil.example/``: a path holding any control
    character, space or backslash, or naming a scheme or host, is refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return default
    try:
        parts = urlsplit(target)
    except ValueError:
        return default
    if parts.scheme or parts.netloc:
        return default
    return target


@dataclass(frozen=True)
class Session:
    """A signed-in desk session: who, how (a KINDS value) and the account's session version."""

    name: str
    kind: str
    version: int = 0

    def actor(self) -> dict[str, Any]:
        """The Datasette actor for this session."""
        return {"id": self.name, "newswatch": self.kind}


def session_cookie(datasette: Any, session: Session) -> str:
    """The signed ``newswatch_session`` cookie value for ``session``, expiring in a day."""
    expires = baseconv.base62.encode(int(clock.now().timestamp()) + SESSION_SECONDS)
    payload = {"n": session.name, "k": session.kind, "v": session.version, "e": expires}
    return str(datasette.sign(payload, COOKIE))


def read_session(datasette: Any, cookies: Mapping[str, str]) -> Session | None:
    """The session a request's cookie holds, if its signature is good and it has not expired.

    An account session must still be checked against the account's session version.
    """
    value = cookies.get(COOKIE)
    if not value:
        return None
    try:
        payload = datasette.unsign(value, COOKIE)
        expires = baseconv.base62.decode(str(payload["e"]))
        session = Session(str(payload["n"]), str(payload["k"]), int(payload["v"]))
    except Exception:  # a bad signature, a malformed or old cookie: not signed in
        return None
    if expires < clock.now().timestamp() or session.kind not in KINDS:
        return None
    return session


@dataclass(frozen=True)
class LoginCheck:
    """The outcome of a login attempt without accounts: a session to start, or why not."""

    session: Session | None = None
    error: str = ""


def check_login(settings: DeskSettings, *, name: str, password: str, local: bool) -> LoginCheck:
    """Decide a login with no accounts: the shared password, or a name on this machine."""
    name = " ".join(name.split())
    if not NAME_RE.match(name):
        return LoginCheck(
            error="Give your name (up to 64 characters); verdicts are signed with it."
        )
    expected = settings.password()
    if expected == "":
        return LoginCheck(
            error=f"Logins are off: the variable {settings.password_env} is not set "
            "where the desk runs."
        )
    if expected is None:
        if not local:
            return LoginCheck(
                error="This desk has no password, so only this machine can log in "
                "(set [review] password_env, or add accounts with `newswatch users add`)."
            )
        return LoginCheck(Session(name, "local"))
    if not hmac.compare_digest(password.encode("utf-8"), expected.encode("utf-8")):
        return LoginCheck(error="Wrong password.")
    return LoginCheck(Session(name, "shared"))
