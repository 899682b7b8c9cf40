"""The AtomPub store: one SQLite file, one transaction per request.

Each member keeps its entry XML as the client sent it (so foreign markup survives) next
to the columns the server queries: slug, id, title, ``app:edited`` (microseconds, for
ordering), ETag, and for media members the media type, bytes and their ETag.

Connections come from a small pool: each serves one transaction at a time and goes back
to the pool after its COMMIT or ROLLBACK, so no transaction outlives its request.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from examples.atompub.atom import rfc3339

__all__ = ["CollectionState", "Member", "Store", "Transaction", "entity_tag"]

COLLECTIONS = ("entries", "media")
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


class Store:
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
                        "INSERT OR IGNORE INTO collections VALUES (?, ?, 0, ?)",
                        (name, f"urn:uuid:{uuid.uuid4()}", _now_text()),
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


class Transaction:
    """The queries and writes of one request, on one connection inside BEGIN..COMMIT."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def collection(self, name: str) -> CollectionState:
        row = self._db.execute(
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
        rows = self._db.execute(
            f"SELECT {_MEMBER_COLUMNS} FROM members WHERE collection = ? "
            "ORDER BY edited_us DESC, rowid DESC LIMIT ? OFFSET ?",
            (collection, limit, offset),
        ).fetchall()
        return [Member(*row) for row in rows]

    def member(self, collection: str, slug: str) -> Member | None:
        row = self._db.execute(
            f"SELECT {_MEMBER_COLUMNS} FROM members WHERE collection = ? AND slug = ?",
            (collection, slug),
        ).fetchone()
        return None if row is None else Member(*row)

    def media(self, collection: str, slug: str) -> tuple[str, bytes, str] | None:
        """The media type, bytes and ETag of a media member's resource."""
        row = self._db.execute(
            "SELECT media_type, media, media_etag FROM members "
            "WHERE collection = ? AND slug = ? AND media IS NOT NULL",
            (collection, slug),
        ).fetchone()
        return None if row is None else (row[0], bytes(row[1]), row[2])

    def slug_taken(self, collection: str, slug: str) -> bool:
        found = self._db.execute(
            "SELECT 1 FROM members WHERE collection = ? AND slug = ?", (collection, slug)
        ).fetchone()
        return found is not None

    def save(self, member: Member, media: bytes | None = None) -> None:
        """Insert or replace ``member``; ``media`` None keeps the stored media bytes."""
        self._db.execute(
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
        cursor = self._db.execute(
            "DELETE FROM members WHERE collection = ? AND slug = ?", (collection, slug)
        )
        if cursor.rowcount == 0:
            return False
        self._touch(collection)
        return True

    def _touch(self, collection: str) -> None:
        # The feed changed: a new revision makes its ETag change (conditional GET).
        self._db.execute(
            "UPDATE collections SET revision = revision + 1, updated = ? WHERE name = ?",
            (_now_text(), collection),
        )


def _close_all(connections: list[sqlite3.Connection]) -> None:
    while connections:
        connections.pop().close()


def _now_text() -> str:
    return rfc3339(datetime.now(timezone.utc))
