"""SQLite primitives every writer shares: write transactions that take the lock at once.

The state file is written by the ingest side, by delivery (``alerts/``) and by
the review desk, each from its own connection. A transaction that reads first
and writes later must upgrade its lock, and SQLite fails that upgrade at once
(no busy wait) when another connection wrote in between; so every write
transaction starts with ``BEGIN IMMEDIATE`` and waits its turn instead.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Iterator

import sqlite_utils

BUSY_TIMEOUT_MS = 30_000


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction holding the write lock from its start (``BEGIN IMMEDIATE``).

    Waiting for the lock obeys the connection's busy timeout, so a busy desk
    delays a save instead of failing it. Nested use becomes a savepoint.
    Commits on success, rolls back on any exception.
    """
    if conn.in_transaction:
        savepoint = f"nw_{secrets.token_hex(8)}"
        conn.execute(f"SAVEPOINT {savepoint}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
                conn.execute(f"RELEASE SAVEPOINT {savepoint}")
            raise
        conn.execute(f"RELEASE SAVEPOINT {savepoint}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """``immediate`` for a sqlite-utils database: every newswatch write goes through it."""
    with immediate(db.conn):
        yield db
