"""The SQLite store: one file, created with its schema on first use.

Connections come from a small pool: each serves one transaction at a time and goes back
to the pool after its COMMIT or ROLLBACK.  ``BEGIN IMMEDIATE`` serializes writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from examples.atompub.store import COLLECTIONS, Transaction, now_text

__all__ = ["SqliteStore"]

BUSY_TIMEOUT_SECONDS = 5.0  # how long a writer waits for another writer's lock
MAX_IDLE_CONNECTIONS = 8  # pooled between requests; more are opened under load

_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY,
    feed_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    collection TEXT NOT NULL REFERENCES collections(name),
    slug TEXT NOT NULL,
    entry_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    edited_us INTEGER NOT NULL,
    updated TEXT NOT NULL,
    entry_xml BLOB NOT NULL,
    etag TEXT NOT NULL,
    media_type TEXT,
    media BLOB,
    media_etag TEXT,
    PRIMARY KEY (collection, slug)
);
CREATE INDEX IF NOT EXISTS members_by_edited ON members (collection, edited_us DESC);
"""


class SqliteStore:
    """The SQLite file at ``path``; created (with its schema) on first use."""

    def __init__(self, path: str) -> None:
        if not path or path == ":memory:":
            # Connections are pooled: a memory database would exist once per connection.
            raise ValueError("the AtomPub store needs a file path, not an in-memory database")
        self.path = os.path.abspath(path)
        self._schema_lock = threading.Lock()
        self._schema_ready = False
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()
        # Close the pooled connections when the store goes away, even without close().
        self._finalizer = weakref.finalize(self, _close_all, self._idle)

    def close(self) -> None:
        """Close the idle connections (transactions in progress keep theirs)."""
        with self._idle_lock:
            _close_all(self._idle)

    def check(self) -> str | None:
        """None: a file needs no server (a bad path shows on the first request)."""
        return None

    def _checkout(self) -> sqlite3.Connection:
        # A connection serves one transaction at a time, then goes back to the pool:
        # it may move between the server's threads but is never used by two at once
        # (hence check_same_thread=False).  Reusing it matters: a fresh connection's
        # first statement costs far more than the query itself.
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        # isolation_level=None: transactions begin only where this module says so.
        connection = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        # In WAL mode NORMAL cannot corrupt the file; it skips an fsync per commit.
        connection.execute("PRAGMA synchronous = NORMAL")
        if not self._schema_ready:
            self._ensure_schema(connection)
        return connection

    def _checkin(self, connection: sqlite3.Connection) -> None:
        with self._idle_lock:
            if len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()

    def _ensure_schema(self, connection: sqlite3.Connection) -> None:
        with self._schema_lock:
            if self._schema_ready:
                return
            # WAL lets readers go on while one request writes; it stays set in the file.
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("BEGIN IMMEDIATE")
            try:
                # One statement at a time: executescript() would COMMIT on its own.
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        connection.execute(statement)
                for name in COLLECTIONS:
                    connection.execute(
                        "INSERT INTO collections VALUES (?, ?, 0, ?) ON CONFLICT DO NOTHING",
                        (name, f"urn:uuid:{uuid.uuid4()}", now_text()),
                    )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            self._schema_ready = True

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A read transaction: one consistent snapshot for the whole request."""
        with self._transaction("BEGIN") as transaction:
            yield transaction

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """A write transaction: committed if the block ends normally, else rolled back."""
        # IMMEDIATE takes the write lock now, so checks made inside the block (If-Match,
        # slug uniqueness) still hold when the writes happen.
        with self._transaction("BEGIN IMMEDIATE") as transaction:
            yield transaction

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Transaction]:
        connection = self._checkout()
        try:
            connection.execute(begin)
        except BaseException:
            connection.close()
            raise
        try:
            yield Transaction(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            self._checkin(connection)
            raise
        try:
            connection.execute("COMMIT")
        except BaseException:
            # A failed COMMIT (e.g. the disk is full) leaves the transaction open.
            connection.close()
            raise
        self._checkin(connection)


def _close_all(connections: list[sqlite3.Connection]) -> None:
    while connections:
        connections.pop().close()
