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
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from examples.atompub.store import (
    COLLECTIONS,
    DEFAULT_TIMEOUT,
    RETRY_AFTER_SECONDS,
    StoreUnavailable,
    Transaction,
    now_text,
    without_password,
)

try:
    import psycopg
    import psycopg_pool
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ModuleNotFoundError(
        "the PostgreSQL store needs psycopg 3 and its pool: pip install 'psycopg[binary,pool]'",
        name=error.name,
    ) from error

__all__ = ["PostgresStore"]

logger = logging.getLogger("examples.atompub")

MAX_CONNECTIONS = 8  # per process; beyond that a request waits for a free connection
CLOSE_SECONDS = 1.0  # a dropped pool's wait for its workers (they stop by themselves)
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
    """The database at ``url``; its tables are created on first use.

    A database that cannot be reached is answered quickly and clearly: each request
    waits at most ``timeout`` seconds for a connection, then gets ``503`` with
    ``Retry-After`` (:class:`~examples.atompub.store.StoreUnavailable`); after a failed
    attempt the database is not tried again for ``retry_after`` seconds (those requests
    get their 503 at once); and the cause is logged in one line, naming the URL without
    its password, when the database is found unreachable -- not on every request -- and
    again when it is back.
    """

    def __init__(
        self,
        url: str,
        max_connections: int = MAX_CONNECTIONS,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry_after: int = RETRY_AFTER_SECONDS,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"the database timeout must be > 0 seconds, not {timeout!r}")
        self.url = url
        self.max_connections = max_connections
        self.timeout = timeout
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._pool: psycopg_pool.ConnectionPool | None = None
        self._pid = 0
        self._down_until = 0.0  # time.monotonic() before which the database is not tried
        self._down = False  # found unreachable, and logged: not logged again until back

    def close(self) -> None:
        """Close the pool's connections."""
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None

    def check(self) -> str | None:
        """Why the database cannot be reached now (logged once), or None when it can."""
        with self._lock:
            return self._probe()

    def _connect_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"autocommit": True}  # BEGIN and COMMIT are this module's
        if "connect_timeout" not in psycopg.conninfo.conninfo_to_dict(self.url):
            # libpq's connect_timeout: whole seconds, 2 at least.
            options["connect_timeout"] = max(2, math.ceil(self.timeout))
        return options

    def _probe(self) -> str | None:
        # One connection of our own, closed at once: refused or missing sockets fail
        # here in milliseconds, where the pool would keep retrying until its timeout.
        try:
            psycopg.connect(self.url, **self._connect_options()).close()
        except psycopg.Error as error:
            return self._went_down(error)
        self._came_back()
        return None

    def _went_down(self, error: BaseException) -> str:
        reason = " ".join(str(error).split()) or type(error).__name__
        self._down_until = time.monotonic() + self.retry_after
        if not self._down:
            self._down = True
            logger.warning(
                "atompub: the PostgreSQL database %s cannot be reached (%s); requests get "
                "503 until it can",
                without_password(self.url),
                reason,
            )
        return reason

    def _came_back(self) -> None:
        if self._down:
            self._down = False
            logger.info(
                "atompub: the PostgreSQL database %s is reachable again",
                without_password(self.url),
            )

    def _connections(self) -> psycopg_pool.ConnectionPool:
        # Opened on first use, in the process that serves: a pool opened before the
        # server forks its workers would share sockets between processes.
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                return self._pool
            if time.monotonic() < self._down_until or self._probe() is not None:
                raise StoreUnavailable(self.retry_after)
            pool = psycopg_pool.ConnectionPool(
                self.url,
                min_size=1,
                max_size=self.max_connections,
                kwargs=self._connect_options(),
                timeout=self.timeout,
                open=False,
            )
            try:
                pool.open(wait=True, timeout=self.timeout)
                with pool.connection() as connection:
                    _ensure_schema(connection)
            except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as error:
                pool.close(timeout=CLOSE_SECONDS)
                self._went_down(error)
                raise StoreUnavailable(self.retry_after) from error
            except BaseException:
                pool.close(timeout=CLOSE_SECONDS)  # e.g. no right to create the tables: a 500
                raise
            self._pool, self._pid = pool, os.getpid()
            return pool

    def _lost(self, pool: psycopg_pool.ConnectionPool, error: BaseException) -> StoreUnavailable:
        """The 503 for a request that found no working connection.  Unless the pool was
        only busy (all its connections in use for ``timeout`` seconds), it is dropped:
        the next request opens a fresh one, at once if the database answers a new
        connection (it restarted), else after ``retry_after`` seconds."""
        with self._lock:
            reachable = self._probe() is None
            busy = reachable and isinstance(error, psycopg_pool.PoolTimeout)
            if not busy and self._pool is pool:
                self._pool = None
                pool.close(timeout=CLOSE_SECONDS)
        return StoreUnavailable(self.retry_after)

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
        pool, connection = self._begin(begin)
        try:
            try:
                yield Transaction(connection, placeholder="%s", insertion_order="seq")
            except BaseException:
                _rollback(connection)
                raise
            connection.execute("COMMIT")
        except psycopg.OperationalError as error:
            if not connection.broken:
                raise
            raise self._lost(pool, error) from error
        finally:
            # The pool rolls back a connection left in a transaction and drops a broken one.
            pool.putconn(connection)

    def _begin(self, begin: tuple[str, ...]) -> tuple[psycopg_pool.ConnectionPool, Any]:
        """A pool's connection inside ``begin``.  One found broken before anything was
        done (the server restarted since it was opened) costs no request: the pool is
        replaced and the transaction begun again, once."""
        started = self._try_begin(begin)
        if isinstance(started, StoreUnavailable):
            started = self._try_begin(begin)
            if isinstance(started, StoreUnavailable):
                raise started
        return started

    def _try_begin(
        self, begin: tuple[str, ...]
    ) -> tuple[psycopg_pool.ConnectionPool, Any] | StoreUnavailable:
        pool = self._connections()
        try:
            connection = pool.getconn()
        except (psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed) as error:
            raise self._lost(pool, error) from error
        try:
            for statement in begin:
                connection.execute(statement)
        except psycopg.OperationalError as error:
            pool.putconn(connection)
            if not connection.broken:
                raise
            return self._lost(pool, error)
        return pool, connection


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
