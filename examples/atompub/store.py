"""The AtomPub store: what a member is, and one transaction per request.

Each member keeps its entry XML as the server stored it (so foreign markup survives)
next to the columns the server queries: slug, id, title, ``app:edited`` (microseconds,
for ordering), ETag, and for media members the media type, bytes and their ETag.

Two stores speak the same SQL: SQLite (one file, the default) and PostgreSQL (for more
than one process or machine); :func:`open_store` picks one from a database URL.  Each
lends a connection to one transaction at a time, in a ``with store.read()`` or ``with
store.write()`` block, and takes it back after the COMMIT or ROLLBACK, so no transaction
outlives its request.  Writes are serialized: what a write checks inside its block
(``If-Match``, whether a slug is free) still holds when it writes.
"""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

from examples.atompub.atom import rfc3339

__all__ = [
    "COLLECTIONS",
    "CollectionState",
    "Member",
    "Store",
    "StoreUnavailable",
    "Transaction",
    "entity_tag",
    "now_text",
    "open_store",
    "without_password",
]

COLLECTIONS = ("entries", "media")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
DEFAULT_TIMEOUT = 5.0  # seconds a request waits for a database connection
RETRY_AFTER_SECONDS = 5  # how long an unreachable database is not tried again

# The columns a feed needs: never the media bytes.
_MEMBER_COLUMNS = "collection, slug, entry_id, title, edited_us, updated, entry_xml, etag, \
media_type, media_etag"


@dataclass(frozen=True)
class Member:
    """One member of a collection, without its media bytes."""

    collection: str
    slug: str
    entry_id: str
    title: str
    edited_us: int
    updated: str
    entry_xml: bytes
    etag: str
    media_type: str | None
    media_etag: str | None


@dataclass(frozen=True)
class CollectionState:
    """What a feed's head and validators come from."""

    name: str
    feed_id: str
    revision: int
    updated: str
    size: int


def entity_tag(*parts: bytes) -> str:
    """A strong entity tag: a hash of the representation's bytes."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


class StoreUnavailable(Exception):  # noqa: N818 (a condition, not a bug: no "Error")
    """The database cannot be reached (or has no free connection) right now.

    Not an HTTP error: the store knows nothing of HTTP.  :func:`~examples.atompub.make_app`
    maps it to a 503 with ``Retry-After`` with an error handler for an *expected*
    exception -- a short body, no traceback in the log (the store logs the cause once,
    see ``PostgresStore``).
    """

    def __init__(self, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__("The database cannot be reached right now; try again later.")
        self.retry_after = retry_after


class Store(Protocol):
    """What the handlers need of a store: read and write transactions."""

    def read(self) -> AbstractContextManager[Transaction]:
        """A read transaction: one consistent snapshot for the whole request."""

    def write(self) -> AbstractContextManager[Transaction]:
        """A write transaction, serialized with every other write: committed if the
        block ends normally, else rolled back."""

    def close(self) -> None:
        """Close the connections the store keeps between requests."""

    def check(self) -> str | None:
        """Why the database cannot be reached now (logged), or None when it can."""


def open_store(database: str, *, timeout: float = DEFAULT_TIMEOUT) -> Store:
    """The store a database URL names: ``postgresql://...`` or a SQLite file path.

    ``timeout`` (PostgreSQL only) is how long, in seconds, a request waits for a
    connection -- to connect, or for one of the pool's to be free -- before it is
    answered ``503`` (:class:`StoreUnavailable`).
    """
    if database.startswith(POSTGRES_SCHEMES):
        from examples.atompub.postgres_store import PostgresStore  # noqa: PLC0415 (optional)

        return PostgresStore(database, timeout=timeout)
    from examples.atompub.sqlite_store import SqliteStore  # noqa: PLC0415 (symmetry)

    return SqliteStore(database)


class Connection(Protocol):
    """The part of a DB-API connection (sqlite3 or psycopg) the queries use."""

    def execute(self, sql: str, parameters: tuple[Any, ...] = ..., /) -> Any: ...


class Transaction:
    """The queries and writes of one request, on one connection inside BEGIN..COMMIT.

    The SQL is written with ``?`` placeholders; ``placeholder`` is the driver's own
    (``%s`` for psycopg), and ``insertion_order`` the column that breaks ties of
    ``app:edited`` (SQLite's rowid, PostgreSQL's sequence).
    """

    def __init__(
        self, connection: Connection, placeholder: str = "?", insertion_order: str = "rowid"
    ) -> None:
        self._db = connection
        self._placeholder = placeholder
        self._insertion_order = insertion_order

    def _run(self, sql: str, parameters: tuple[Any, ...]) -> Any:
        return self._db.execute(_dialect(sql, self._placeholder), parameters)

    def collection(self, name: str) -> CollectionState:
        row = self._run(
            "SELECT name, feed_id, revision, updated, "
            "(SELECT count(*) FROM members WHERE collection = name) "
            "FROM collections WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            raise LookupError(f"no collection named {name!r}")
        return CollectionState(*row)

    def page(self, collection: str, offset: int, limit: int) -> list[Member]:
        """Members newest ``app:edited`` first (RFC 5023 section 10)."""
        rows = self._run(
            f"SELECT {_MEMBER_COLUMNS} FROM members WHERE collection = ? "
            f"ORDER BY edited_us DESC, {self._insertion_order} DESC LIMIT ? OFFSET ?",
            (collection, limit, offset),
        ).fetchall()
        return [_member(row) for row in rows]

    def member(self, collection: str, slug: str) -> Member | None:
        row = self._run(
            f"SELECT {_MEMBER_COLUMNS} FROM members WHERE collection = ? AND slug = ?",
            (collection, slug),
        ).fetchone()
        return None if row is None else _member(row)

    def media(self, collection: str, slug: str) -> tuple[str, bytes, str] | None:
        """The media type, bytes and ETag of a media member's resource."""
        row = self._run(
            "SELECT media_type, media, media_etag FROM members "
            "WHERE collection = ? AND slug = ? AND media IS NOT NULL",
            (collection, slug),
        ).fetchone()
        return None if row is None else (row[0], bytes(row[1]), row[2])

    def slug_taken(self, collection: str, slug: str) -> bool:
        found = self._run(
            "SELECT 1 FROM members WHERE collection = ? AND slug = ?", (collection, slug)
        ).fetchone()
        return found is not None

    def save(self, member: Member, media: bytes | None = None) -> None:
        """Insert or replace ``member``; ``media`` None keeps the stored media bytes."""
        self._run(
            "INSERT INTO members (collection, slug, entry_id, title, edited_us, updated, "
            "entry_xml, etag, media_type, media, media_etag) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (collection, slug) DO UPDATE SET title = excluded.title, "
            "edited_us = excluded.edited_us, updated = excluded.updated, "
            "entry_xml = excluded.entry_xml, etag = excluded.etag, "
            "media_type = excluded.media_type, media_etag = excluded.media_etag, "
            "media = coalesce(excluded.media, members.media)",
            (
                member.collection,
                member.slug,
                member.entry_id,
                member.title,
                member.edited_us,
                member.updated,
                member.entry_xml,
                member.etag,
                member.media_type,
                media,
                member.media_etag,
            ),
        )
        self._touch(member.collection)

    def delete(self, collection: str, slug: str) -> bool:
        """Remove the member and its media; False if there was none."""
        cursor = self._run(
            "DELETE FROM members WHERE collection = ? AND slug = ?", (collection, slug)
        )
        if cursor.rowcount == 0:
            return False
        self._touch(collection)
        return True

    def _touch(self, collection: str) -> None:
        # The feed changed: a new revision makes its ETag change (conditional GET).
        self._run(
            "UPDATE collections SET revision = revision + 1, updated = ? WHERE name = ?",
            (now_text(), collection),
        )


def without_password(url: str) -> str:
    """``url`` as it may be logged: without the password of its user part or query."""
    parts = urlsplit(url)
    user, at, hosts = parts.netloc.rpartition("@")
    netloc = f"{user.partition(':')[0]}{at}{hosts}"
    query = "&".join(
        field for field in parts.query.split("&") if not field.lower().startswith("password=")
    )
    # Not urlunsplit: it drops an empty authority ("postgresql:///db?host=/run/pg").
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"{parts.scheme}://{netloc}{parts.path}{'?' if query else ''}{query}{fragment}"


@lru_cache(maxsize=64)
def _dialect(sql: str, placeholder: str) -> str:
    return sql if placeholder == "?" else sql.replace("?", placeholder)


def _member(row: tuple[Any, ...]) -> Member:
    # psycopg gives bytea as bytes, sqlite3 BLOBs as bytes: both fit Member as they are.
    return Member(*row)


def now_text() -> str:
    return rfc3339(datetime.now(timezone.utc))
