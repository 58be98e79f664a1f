"""Editors' accounts for the review desk: scrypt password hashes, login limits, feed tokens.

Plain functions over a ``sqlite3.Connection`` (the ``accounts``, ``login_failures``
and ``feed_tokens`` tables), so ``newswatch users`` and the desk share them.

- Passwords are hashed with ``hashlib.scrypt`` (n=2**14, r=8, p=1, a 16-byte
  random salt), stored as ``scrypt$n$r$p$salt$hash`` (base64).
- Logins are limited per account and per client address: after
  ``ACCOUNT_FAILURES`` wrong passwords for one account (``ADDRESS_FAILURES``
  from one address) within ``FAILURE_WINDOW``, that account (address) is locked
  for ``LOCK_TIME``; while locked, even the right password is refused.
- Each account has a ``session_version``; a session carries the version it was
  made under, and changing the password raises it, which ends every session.
- Feed tokens let a feed reader fetch an account's Atom feeds without a
  browser session; only their SHA-256 is stored, and they can be revoked.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from crawler import clock
from crawler.db import immediate

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 10  # characters
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
TOKEN_PREFIX = "nwf_"


class AccountError(ValueError):
    """A user mistake in an accounts command: a bad name, a short password, no such account."""


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password``, in the ``scrypt$n$r$p$salt$hash`` form."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches the ``stored`` hash (compared in constant time)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        found = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


@functools.cache
def _dummy_hash() -> str:
    """Checked when the account is unknown, so "no such account" takes as long as a wrong
    password and does not tell which names exist."""
    return hash_password(secrets.token_urlsafe(16))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 1024 * 1024
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Account:
    """An editor's account as ``newswatch users list`` shows it."""

    name: str
    created_at: str
    password_changed_at: str
    session_version: int
    feed_tokens: int = 0


def check_name(name: str) -> str:
    """The account name, or AccountError saying what a name may hold."""
    if not NAME_RE.match(name):
        raise AccountError(
            f"account name {name!r}: expected 1-64 letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    """The password, or AccountError if it is too short."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: expected at least {MIN_PASSWORD} characters")
    return password


def has_accounts(conn: sqlite3.Connection) -> bool:
    """True if the desk has at least one account (logins are then by account only)."""
    try:
        return conn.execute("SELECT 1 FROM accounts LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:  # a file from before accounts existed
        return False


def add_account(conn: sqlite3.Connection, name: str, password: str) -> None:
    """Create an account; AccountError if the name is taken or invalid."""
    check_name(name)
    check_password(password)
    now = clock.iso_now()
    with immediate(conn):
        if conn.execute("SELECT 1 FROM accounts WHERE name = ?", [name]).fetchone():
            raise AccountError(f"account {name!r} exists already (change its password: passwd)")
        conn.execute(
            "INSERT INTO accounts (name, password_hash, created_at, password_changed_at, "
            "session_version) VALUES (?, ?, ?, ?, 1)",
            [name, hash_password(password), now, now],
        )


def remove_account(conn: sqlite3.Connection, name: str) -> None:
    """Delete an account and its feed tokens; its sessions end. Its verdicts stay signed."""
    with immediate(conn):
        if not conn.execute("DELETE FROM accounts WHERE name = ?", [name]).rowcount:
            raise AccountError(f"no account {name!r}")
        conn.execute("DELETE FROM feed_tokens WHERE account = ?", [name])
        conn.execute("DELETE FROM login_failures WHERE key = ?", [f"account:{name}"])


def set_password(conn: sqlite3.Connection, name: str, password: str) -> None:
    """Change an account's password; every session of the account ends, and its lock lifts."""
    check_password(password)
    with immediate(conn):
        changed = conn.execute(
            "UPDATE accounts SET password_hash = ?, password_changed_at = ?, "
            "session_version = session_version + 1 WHERE name = ?",
            [hash_password(password), clock.iso_now(), name],
        ).rowcount
        if not changed:
            raise AccountError(f"no account {name!r}")
        conn.execute("DELETE FROM login_failures WHERE key = ?", [f"account:{name}"])


def list_accounts(conn: sqlite3.Connection) -> list[Account]:
    """Every account, by name, with its count of live feed tokens."""
    return [
        Account(*row)
        for row in conn.execute(
            "SELECT name, created_at, password_changed_at, session_version, "
            "(SELECT COUNT(*) FROM feed_tokens t WHERE t.account = a.name "
            "AND t.revoked_at IS NULL) FROM accounts a ORDER BY name"
        )
    ]


def session_version(conn: sqlite3.Connection, name: str) -> int | None:
    """The account's current session version; None if there is no such account."""
    try:
        row = conn.execute("SELECT session_version FROM accounts WHERE name = ?", [name]).fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0]) if row else None


@dataclass(frozen=True)
class Attempt:
    """The outcome of a login attempt: the session version to sign in with, or why not."""

    version: int | None = None
    error: str = ""
    locked: bool = False


def attempt_login(conn: sqlite3.Connection, name: str, password: str, address: str) -> Attempt:
    """Check a login against the account and the attempt limits; count a failure."""
    keys = {f"account:{name}": ACCOUNT_FAILURES, f"address:{address}": ADDRESS_FAILURES}
    refused = locked_out(conn, keys)
    if refused:
        return Attempt(error=refused, locked=True)
    row = conn.execute(
        "SELECT password_hash, session_version FROM accounts WHERE name = ?", [name]
    ).fetchone()
    # Outside any write lock: scrypt takes tens of milliseconds.
    good = verify_password(password, row[0] if row else _dummy_hash()) and row is not None
    if good:
        with immediate(conn):
            conn.execute("DELETE FROM login_failures WHERE key = ?", [f"account:{name}"])
        return Attempt(version=int(row[1]))
    count_failure(conn, keys)
    return Attempt(error="Wrong account name or password.")


def locked_out(conn: sqlite3.Connection, keys: Mapping[str, int]) -> str:
    """Why a login is refused before its password is even checked ('' if it is not):
    one of ``keys`` (``account:NAME``, ``address:ADDR``) is locked."""
    now = clock.now()
    for key in keys:
        row = conn.execute(
            "SELECT locked_until FROM login_failures WHERE key = ?", [key]
        ).fetchone()
        if row and row[0] and clock.parse(row[0]) > now:
            what = "this account" if key.startswith("account:") else "your address"
            until = row[0].replace("T", " ").removesuffix("Z")[:16]
            return f"Too many failed logins for {what}; try again after {until} UTC."
    return ""


def count_failure(conn: sqlite3.Connection, keys: Mapping[str, int]) -> None:
    """Count a failed login against each key; a key reaching its limit within
    FAILURE_WINDOW is locked for LOCK_TIME."""
    now = clock.now()
    with immediate(conn):
        for key, limit in keys.items():
            row = conn.execute(
                "SELECT failures, window_started_at FROM login_failures WHERE key = ?", [key]
            ).fetchone()
            if row is None or clock.parse(row[1]) + FAILURE_WINDOW < now:
                failures, started = 1, now
            else:
                failures, started = int(row[0]) + 1, clock.parse(row[1])
            locked = clock.iso(now + LOCK_TIME) if failures >= limit else None
            conn.execute(
                "INSERT INTO login_failures (key, failures, window_started_at, locked_until) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "failures = excluded.failures, window_started_at = excluded.window_started_at, "
                "locked_until = excluded.locked_until",
                [key, failures, clock.iso(started), locked],
            )


def new_feed_token(conn: sqlite3.Connection, name: str) -> str:
    """A fresh feed token for the account (shown once; only its hash is kept)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    with immediate(conn):
        if not conn.execute("SELECT 1 FROM accounts WHERE name = ?", [name]).fetchone():
            raise AccountError(f"no account {name!r}")
        conn.execute(
            "INSERT INTO feed_tokens (account, token_sha256, created_at) VALUES (?, ?, ?)",
            [name, _token_hash(token), clock.iso_now()],
        )
    return token


def revoke_feed_tokens(conn: sqlite3.Connection, name: str) -> int:
    """Revoke every live feed token of the account; return how many."""
    with immediate(conn):
        return conn.execute(
            "UPDATE feed_tokens SET revoked_at = ? WHERE account = ? AND revoked_at IS NULL",
            [clock.iso_now(), name],
        ).rowcount


def feed_token_account(conn: sqlite3.Connection, token: str) -> str | None:
    """The account a live feed token belongs to; None if unknown, revoked or the account gone."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    try:
        row = conn.execute(
            "SELECT t.account FROM feed_tokens t JOIN accounts a ON a.name = t.account "
            "WHERE t.token_sha256 = ? AND t.revoked_at IS NULL",
            [_token_hash(token)],
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
