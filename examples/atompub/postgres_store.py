"""The PostgreSQL store: for several server processes, on one machine or many.

Chosen by a database URL (``ATOMPUB_DB=postgresql://user@host/dbname``); needs psycopg 3
and its pool (``pip install 'psycopg[binary,pool]'``).  The schema is created on first
use, under an advisory lock so that processes starting together do not race.

Every write transaction first takes one transaction-level advisory lock, so writes run
one after another as they do on SQLite (``BEGIN IMMEDIATE``): what a write checks (the
``If-Match`` ETag, whether a slug is free) still holds when it writes, whichever process
or machine the racing requests reached.  Reads run in REPEATABLE READ: one snapshot for
the whole request, so a feed's body matches the ETag sent with it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from examples.atompub.store import COLLECTIONS, Transaction, now_text

try:
    import psycopg
    import psycopg_pool
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ModuleNotFoundError(
        "the PostgreSQL store needs psycopg 3 and its pool: pip install 'psycopg[binary,pool]'",
        name=error.name,
    ) from error

__all__ = ["PostgresStore"]

MAX_CONNECTIONS = 8  # per process; beyond that a request waits for a free connection
CONNECT_TIMEOUT_SECONDS = 10.0
# pg_advisory_xact_lock keys: any two numbers no other program on the database uses.
WRITE_LOCK = 0x41746F6D  # "Atom"
SCHEMA_LOCK = 0x41746F6E

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS collections (
        name TEXT PRIMARY KEY,
        feed_id TEXT NOT NULL,
        revision BIGINT NOT NULL,
        updated TEXT NOT NULL
    )""",
    # seq keeps insertion order, as SQLite's rowid does: it breaks app:edited ties.
    """CREATE TABLE IF NOT EXISTS members (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        collection TEXT NOT NULL REFERENCES collections(name),
        slug TEXT NOT NULL,
        entry_id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        edited_us BIGINT NOT NULL,
        updated TEXT NOT NULL,
        entry_xml BYTEA NOT NULL,
        etag TEXT NOT NULL,
        media_type TEXT,
        media BYTEA,
        media_etag TEXT,
        PRIMARY KEY (collection, slug)
    )""",
    "CREATE INDEX IF NOT EXISTS members_by_edited ON members (collection, edited_us DESC)",
)


class PostgresStore:
    """The database at ``url``; its tables are created on first use."""

    def __init__(self, url: str, max_connections: int = MAX_CONNECTIONS) -> None:
        self.url = url
        self.max_connections = max_connections
        self._lock = threading.Lock()
        self._pool: psycopg_pool.ConnectionPool | None = None
        self._pid = 0

    def close(self) -> None:
        """Close the pool's connections."""
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None

    def _connections(self) -> psycopg_pool.ConnectionPool:
        # Opened on first use, in the process that serves: a pool opened before the
        # server forks its workers would share sockets between processes.
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                pool = psycopg_pool.ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.max_connections,
                    kwargs={"autocommit": True},  # BEGIN and COMMIT are this module's
                    timeout=CONNECT_TIMEOUT_SECONDS,
                    open=False,
                )
                pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
                with pool.connection() as connection:
                    _ensure_schema(connection)
                self._pool, self._pid = pool, os.getpid()
            return self._pool

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A read transaction: one consistent snapshot for the whole request."""
        with self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") as done:
            yield done

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """A write transaction, after every earlier write has committed or rolled back."""
        # READ COMMITTED: each statement after the lock sees every write before it.
        with self._transaction("BEGIN", f"SELECT pg_advisory_xact_lock({WRITE_LOCK})") as done:
            yield done

    @contextmanager
    def _transaction(self, *begin: str) -> Iterator[Transaction]:
        pool = self._connections()
        connection = pool.getconn()
        try:
            for statement in begin:
                connection.execute(statement)
            try:
                yield Transaction(connection, placeholder="%s", insertion_order="seq")
            except BaseException:
                _rollback(connection)
                raise
            connection.execute("COMMIT")
        finally:
            # The pool rolls back a connection left in a transaction and drops a broken one.
            pool.putconn(connection)


def _ensure_schema(connection: Any) -> None:
    with connection.transaction():
        connection.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
        for statement in _SCHEMA:
            connection.execute(statement)
        for name in COLLECTIONS:
            connection.execute(
                "INSERT INTO collections VALUES (%s, %s, 0, %s) ON CONFLICT DO NOTHING",
                (name, f"urn:uuid:{uuid.uuid4()}", now_text()),
            )


def _rollback(connection: Any) -> None:
    # A broken connection cannot roll back: the pool discards it.
    with contextlib.suppress(psycopg.Error):
        connection.execute("ROLLBACK")
