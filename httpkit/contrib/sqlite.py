"""A guard that rolls back the SQLite transactions a request leaves open.

SQLite has one writer at a time: a handler that runs an ``INSERT`` and forgets to
commit keeps the write lock, and in a single-threaded server (``--threads 0``) the next
request that writes waits for a lock nobody will ever release.  :class:`SQLiteGuard`
wraps any WSGI application (an :class:`httpkit.web.Router`, Flask...), hands each
request a connection through the WSGI environ and, when the application returns with a
transaction still open, rolls it back, logs it, and answers ``500`` instead of the
application's response -- so the mistake is seen at once and never locks the database::

    from httpkit.contrib.sqlite import SQLiteGuard, connection

    def add_note(request):
        db = connection(request)
        db.execute("INSERT INTO notes (text) VALUES (?)", (request.POST["text"],))
        db.commit()              # forget this line and the client gets a 500
        ...

    app = SQLiteGuard(router, "notes.db")

Each thread gets its own connection (SQLite connections must stay on the thread that
made them), opened on that thread's first request and reused afterwards.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from httpkit.wsgitypes import Environ, OptExcInfo, StartResponse, Write, WSGIApp

__all__ = ["ENVIRON_KEY", "SQLiteGuard", "connection"]

ENVIRON_KEY = "httpkit.contrib.sqlite.connection"

logger = logging.getLogger("httpkit.contrib.sqlite")

_ERROR_STATUS = "500 Internal Server Error"
_ERROR_BODY = (
    b"500 Internal Server Error\n\nThe request left a database transaction open; "
    b"it was rolled back.\n"
)


def connection(request_or_environ: Any) -> sqlite3.Connection:
    """The guarded connection of this request (pass the request or its WSGI environ)."""
    environ = getattr(request_or_environ, "environ", request_or_environ)
    try:
        found = environ[ENVIRON_KEY]
    except (KeyError, TypeError):
        raise LookupError(
            "this request has no SQLite connection: wrap the application in SQLiteGuard"
        ) from None
    if not isinstance(found, sqlite3.Connection):
        raise LookupError(f"environ[{ENVIRON_KEY!r}] is not an sqlite3.Connection")
    return found


class SQLiteGuard:
    """WSGI middleware: a connection per thread in the environ, open transactions refused.

    :param app: the WSGI application to guard.
    :param database: a file path for :func:`sqlite3.connect`, or a function with no
        arguments returning a new :class:`sqlite3.Connection` (to set pragmas,
        ``row_factory``, ``isolation_level``...).  It is called once per thread.
    """

    def __init__(self, app: WSGIApp, database: str | Callable[[], sqlite3.Connection]) -> None:
        if not callable(app):
            raise TypeError(f"SQLiteGuard needs a WSGI application, not {app!r}")
        if isinstance(database, str):
            if not database:
                raise ValueError("the database path is empty")
            path = database
            # Still one connection per thread; check_same_thread=False only lets
            # close() shut every thread's connection from the thread that stops the app.
            self._connect: Callable[[], sqlite3.Connection] = lambda: sqlite3.connect(
                path, check_same_thread=False
            )
        elif callable(database):
            self._connect = database
        else:
            raise TypeError(f"database must be a path or a connection factory, not {database!r}")
        self.app = app
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        current: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if current is None:
            current = self._connect()
            if not isinstance(current, sqlite3.Connection):
                raise TypeError(f"the connection factory returned {current!r}")
            self._local.connection = current
            with self._opened_lock:
                self._opened.append(current)
        return current

    def close(self) -> None:
        """Close the connections of every thread (call it when the server has stopped).

        A factory's connections must be made with ``check_same_thread=False`` for this
        to close those of other threads; SQLite raises ``ProgrammingError`` otherwise.
        """
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for each in opened:
            each.close()
        self._local = threading.local()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        db = self.connection()
        environ[ENVIRON_KEY] = db
        held = _HeldStart(start_response)
        try:
            body = self.app(environ, held)
        except BaseException:
            if db.in_transaction:
                db.rollback()
                _log_left_open(environ, "an exception")
            raise
        if not db.in_transaction:
            held.release()
            return _CheckedBody(body, db, environ)
        db.rollback()
        _close(body)
        _log_left_open(environ, "its response")
        if held.released:
            # The app already sent its headers through write(): too late for a 500.
            return []
        start_response(
            _ERROR_STATUS,
            [
                ("Content-Type", "text/plain; charset=UTF-8"),
                ("Content-Length", str(len(_ERROR_BODY))),
            ],
        )
        return [_ERROR_BODY]


class _HeldStart:
    """A start_response that keeps the status and headers until the guard has checked."""

    __slots__ = ("_start_response", "args", "released", "write")

    def __init__(self, start_response: StartResponse) -> None:
        self._start_response = start_response
        self.args: tuple[Any, ...] | None = None
        self.released = False
        self.write: Write | None = None

    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> Write:
        self.args = (status, headers) if exc_info is None else (status, headers, exc_info)
        if self.released:
            # PEP 3333: a second call (with exc_info) after the headers went out.
            self.write = self._start_response(*self.args)
        return self._write

    def release(self) -> None:
        if not self.released and self.args is not None:
            self.write = self._start_response(*self.args)
        self.released = True

    def _write(self, data: bytes) -> object:
        # PEP 3333's write(): the headers must go out before the first bytes.
        self.release()
        if self.write is None:
            raise RuntimeError("write() called before start_response()")
        return self.write(data)


class _CheckedBody:
    """The app's body, checked once more when the server closes it: a streaming body
    may have used the connection while it was iterated."""

    __slots__ = ("_body", "_db", "_environ")

    def __init__(self, body: Iterable[bytes], db: sqlite3.Connection, environ: Environ):
        self._body = body
        self._db = db
        self._environ = environ

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            _close(self._body)
        finally:
            if self._db.in_transaction:
                # The status is long gone: all that is left is to free the lock and say so.
                self._db.rollback()
                _log_left_open(self._environ, "its streamed body")


def _close(body: Iterable[bytes]) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


def _log_left_open(environ: Environ, where: str) -> None:
    logger.error(
        "%s %s left a database transaction open after %s; rolled back",
        environ.get("REQUEST_METHOD", "?"),
        environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
        where,
    )
