"""Who may use the review desk: the login gate, the login form's checks, the session cookie.

Rules:
- A client on this machine (loopback address) may read without logging in,
  unless ``open_on_localhost`` is off (set it off behind a reverse proxy on the
  same host, where every request looks local).
- Anyone else is sent to the login page first, for every page Datasette serves.
- Recording a verdict needs a logged-in actor, wherever the client is; Datasette's
  CSRF protection (asgi-csrf) guards every POST.
- The password is shared and comes from the environment variable named by
  ``password_env``. With no password configured, only local clients can log in
  (by name); if the variable is named but unset, nobody can.

The actor is Datasette's own signed ``ds_actor`` cookie, so an auth plugin such
as datasette-auth-passwords works here too.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from datasette.plugins import pm
from datasette.utils import await_me_maybe, baseconv
from datasette.utils.asgi import Request

from crawler import clock

PLUGIN = "newswatch"
PREFIX = "/-/newswatch"
LOGIN_PATH = f"{PREFIX}/login"
SESSION_SECONDS = 24 * 3600
NAME_RE = re.compile(r"^[^\x00-\x1f\x7f<>]{1,64}$")

# Paths a client that has not logged in may fetch: the login page and what it is styled with.
OPEN_PATHS = (LOGIN_PATH, f"{PREFIX}/static/", "/-/static/", "/favicon.ico")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class DeskSettings:
    """The plugin's configuration (Datasette metadata ``plugins.newswatch``)."""

    database: str = ""  # the attached database holding hits; default: the first that has them
    password_env: str = ""
    open_on_localhost: bool = True
    watches: Mapping[str, str] = field(default_factory=dict)  # watch id -> display name
    home: bool = False  # serve the queue at / (newswatch review turns this on)

    @classmethod
    def of(cls, datasette: Any) -> DeskSettings:
        """Settings from Datasette's metadata; missing or odd values fall back to defaults."""
        raw = datasette.plugin_config(PLUGIN) or {}
        watches = raw.get("watches") if isinstance(raw.get("watches"), dict) else {}
        return cls(
            database=str(raw.get("database") or ""),
            password_env=str(raw.get("password_env") or ""),
            open_on_localhost=raw.get("open_on_localhost", True) is not False,
            watches={str(k): str(v) for k, v in (watches or {}).items()},
            home=raw.get("home") is True,
        )

    def password(self) -> str | None:
        """The shared password; None if none is configured; '' if its variable is unset."""
        if not self.password_env:
            return None
        return os.environ.get(self.password_env, "")


def is_local(scope: Scope) -> bool:
    """True if the client connected from a loopback address."""
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(str(client[0])).is_loopback
    except ValueError:
        return False


async def resolve_actor(datasette: Any, request: Request) -> dict[str, Any] | None:
    """The actor Datasette would see for this request (any actor_from_request plugin)."""
    for candidate in pm.hook.actor_from_request(datasette=datasette, request=request):
        actor = await await_me_maybe(candidate)
        if actor:
            return dict(actor)
    return None


def writer(request: Request) -> str | None:
    """The logged-in actor's id, who a verdict is recorded as; None if nobody is logged in."""
    actor = request.actor
    if not actor or not actor.get("id"):
        return None
    return str(actor["id"])


def safe_next(target: str | None, default: str) -> str:
    """A local path to go to after a form, never another site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def gate(datasette: Any, app: App) -> App:
    """ASGI middleware: clients that must log in and have not are sent to the login page."""

    async def gated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = _route_path(datasette, scope)
        settings = DeskSettings.of(datasette)
        if path.startswith(OPEN_PATHS) or (is_local(scope) and settings.open_on_localhost):
            await app(scope, receive, send)
            return
        if await resolve_actor(datasette, Request(scope, receive)):
            await app(scope, receive, send)
            return
        await _refuse(datasette, scope, send, path)

    return gated


def _route_path(datasette: Any, scope: Scope) -> str:
    path = str(scope.get("path") or "/")
    base = datasette.setting("base_url") or "/"
    if base != "/" and path.startswith(base):
        path = "/" + path[len(base) :]
    return path


async def _refuse(datasette: Any, scope: Scope, send: Send, path: str) -> None:
    """A browser asking for a page goes to the login form; anything else gets a 401."""
    headers = dict(scope.get("headers") or [])
    wants_html = b"text/html" in headers.get(b"accept", b"")
    if scope["method"] in ("GET", "HEAD") and wants_html:
        query = scope.get("query_string", b"").decode("latin-1")
        here = path + (f"?{query}" if query else "")
        location = datasette.urls.path(f"{LOGIN_PATH}?next={quote(here, safe='')}")
        status, body, kind = 302, b"", b"text/plain"
        extra = [(b"location", location.encode("latin-1"))]
    else:
        status, kind, extra = 401, b"application/json", []
        body = b'{"ok": false, "error": "log in first: ' + LOGIN_PATH.encode() + b'"}'
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", kind),
                (b"cache-control", b"private, no-store"),
                (b"vary", b"Cookie"),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass(frozen=True)
class LoginCheck:
    """The outcome of a login attempt: an actor to sign in, or why not."""

    actor: dict[str, str] | None = None
    error: str = ""


def check_login(settings: DeskSettings, *, name: str, password: str, local: bool) -> LoginCheck:
    """Decide a login attempt from the form's name and password and where it came from."""
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
                "(set [review] password_env)."
            )
        return LoginCheck(actor={"id": name})
    if not hmac.compare_digest(password.encode("utf-8"), expected.encode("utf-8")):
        return LoginCheck(error="Wrong password.")
    return LoginCheck(actor={"id": name})


def session_cookie(datasette: Any, actor: dict[str, str]) -> str:
    """Datasette's signed ``ds_actor`` cookie value for ``actor``, expiring in a day."""
    expires = baseconv.base62.encode(int(clock.now().timestamp()) + SESSION_SECONDS)
    return str(datasette.sign({"a": actor, "e": expires}, "actor"))
