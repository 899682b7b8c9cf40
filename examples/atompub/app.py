"""Building the AtomPub service: a Router with its routes bound to one store."""

from __future__ import annotations

import os

from examples.atompub.atom import ENTRY_TYPE, Category
from examples.atompub.documents import CollectionInfo
from examples.atompub.handlers import (
    AtomPubHandler,
    AtomService,
    Categories,
    Collection,
    Home,
    MediaResource,
    MemberEntry,
    ServiceDocument,
    store_unavailable,
)
from examples.atompub.pages import page_templates
from examples.atompub.store import (
    COLLECTIONS,
    DEFAULT_TIMEOUT,
    Store,
    StoreUnavailable,
    open_store,
)
from httpkit.web import Router

__all__ = ["DEFAULT_DB", "MEDIA_TYPES", "make_app"]

DEFAULT_DB = "atompub.db"
DB_ENV_VAR = "ATOMPUB_DB"
SANITIZE_ENV_VAR = "ATOMPUB_SANITIZE"
TIMEOUT_ENV_VAR = "ATOMPUB_DB_TIMEOUT"
_OFF = frozenset({"0", "no", "off", "false"})
DEFAULT_MAX_BODY = 16 * 1024 * 1024
# Media types the media collection accepts (its app:accept list); others get 415.
MEDIA_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/svg+xml",
    "text/plain",
    "application/pdf",
)
KIND_SCHEME = "tag:httpkit.example,2024:kind"
TOPIC_SCHEME = "tag:httpkit.example,2024:topic"
KINDS = (Category("article", "Article"), Category("note", "Note"), Category("link", "Link"))
TOPICS = (Category("python", "Python"), Category("http", "HTTP"), Category("atom", "Atom"))
_SLUG = "[a-z0-9][a-z0-9-]*"


def make_app(
    database: str | None = None,
    *,
    page_size: int = 10,
    max_body: int = DEFAULT_MAX_BODY,
    title: str = "httpkit AtomPub",
    author: str = "httpkit",
    sanitize: bool | None = None,
    store: Store | None = None,
    db_timeout: float | None = None,
) -> Router:
    """The service as a WSGI application, storing into ``database``.

    ``database`` is a SQLite file path or a PostgreSQL URL (``postgresql://...``, which
    needs ``psycopg[binary,pool]``).  Without it: the ``ATOMPUB_DB`` environment
    variable, else ``atompub.db`` in the current directory.  The file, or the tables,
    are created on the first request.  ``store`` is an open store instead (one from
    :func:`examples.atompub.store.open_store`, which the caller closes).

    A PostgreSQL database is tried at once: if it cannot be reached, one line says so
    on the ``examples.atompub`` logger (the URL without its password), and the service
    starts all the same, answering ``503`` with ``Retry-After`` until it can.
    ``db_timeout`` (default 5 seconds; the environment variable ``ATOMPUB_DB_TIMEOUT``)
    bounds how long a request waits for a connection before that 503.

    ``sanitize`` (default on; the environment variable ``ATOMPUB_SANITIZE=off`` turns it
    off) removes script, event handlers, ``javascript:`` links and style from the HTML
    and XHTML of published entries.  The HTML pages clean what they show either way.
    """
    if not isinstance(page_size, int) or page_size < 1:
        raise ValueError(f"page_size must be a whole number >= 1, not {page_size!r}")
    if sanitize is None:
        sanitize = os.environ.get(SANITIZE_ENV_VAR, "on").strip().lower() not in _OFF
    if store is None:
        database = database or os.environ.get(DB_ENV_VAR) or DEFAULT_DB
        store = open_store(database, timeout=_timeout(db_timeout))
        store.check()  # logs why, if the database cannot be reached
    elif database is not None or db_timeout is not None:
        raise ValueError("make_app takes a database (and db_timeout) or a store, not both")
    service = AtomService(
        store=store,
        page_size=page_size,
        title=title,
        author=author,
        collections={
            "entries": CollectionInfo("entries", "Entries", (ENTRY_TYPE,), media=False),
            "media": CollectionInfo("media", "Media", MEDIA_TYPES, media=True),
        },
        fixed_scheme=KIND_SCHEME,
        fixed_terms=KINDS,
        open_scheme=TOPIC_SCHEME,
        open_terms=TOPICS,
        sanitize=sanitize,
    )
    router = Router(max_body=max_body, templates=page_templates(title))
    # A database that is down is expected, not a bug: a 503, no traceback per request.
    router.error_handler(StoreUnavailable, expected=True)(store_unavailable)
    collection = {"collection": "|".join(COLLECTIONS)}
    router.add("/", _bind(Home, service), name="home")
    router.add("/service", _bind(ServiceDocument, service), name="service")
    router.add("/categories", _bind(Categories, service), name="categories")
    router.add(
        "/media/{slug}/content",
        _bind(MediaResource, service),
        name="media",
        requirements={"slug": _SLUG},
    )
    router.add(
        "/{collection}", _bind(Collection, service), name="collection", requirements=collection
    )
    router.add(
        "/{collection}/{slug}",
        _bind(MemberEntry, service),
        name="member",
        requirements={**collection, "slug": _SLUG},
    )
    return router


def _timeout(given: float | None) -> float:
    if given is None:
        text = os.environ.get(TIMEOUT_ENV_VAR, "").strip()
        try:
            given = float(text) if text else DEFAULT_TIMEOUT
        except ValueError:
            raise ValueError(
                f"{TIMEOUT_ENV_VAR} must be a number of seconds, not {text!r}"
            ) from None
    if not 0 < given < float("inf"):
        raise ValueError(f"the database timeout must be a number of seconds > 0, not {given!r}")
    return given


def _bind(handler: type[AtomPubHandler], service: AtomService) -> type[AtomPubHandler]:
    # The router makes handlers with no arguments: the service rides on a subclass,
    # named like its base so that route tables and logs show the real class.
    attributes = {
        "service": service,
        "__module__": handler.__module__,
        "__qualname__": handler.__qualname__,
    }
    return type(handler.__name__, (handler,), attributes)
