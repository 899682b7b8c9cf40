"""A single-threaded local web app on SQLite: a notes list with forms and redirects.

Run it from a checkout::

    httpkit serve examples.localapp:app --threads 0 --host 127.0.0.1

and open http://127.0.0.1:8000/ in a browser (as many tabs as you like).  Notes are
stored in ``localapp.db`` in the current directory, or in the file named by the
``LOCALAPP_DB`` environment variable.

``--threads 0`` runs every handler on the event-loop thread: one SQLite connection,
no locking between requests, while the server still reads every connection (a
browser's idle speculative connections never block anybody).  The app is wrapped in
:class:`httpkit.contrib.sqlite.SQLiteGuard`: a handler that forgets to commit gets a
500 and its transaction is rolled back, so it can never leave the database locked.

The page is a Jinja2 template (``templates/notes.html``, the ``httpkit[templates]``
extra), which escapes every note.  Because it listens on the loopback interface only,
two browser-side attacks remain and are refused: other sites posting forms to it (every
form carries a per-process token) and DNS rebinding (only
``127.0.0.1``/``localhost``/``[::1]`` Host headers are served).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import webob
import webob.exc

from httpkit.contrib.sqlite import SQLiteGuard, connection
from httpkit.web import HTML, Request, Router

__all__ = ["app", "make_app"]

DEFAULT_DB = "localapp.db"
DB_ENV_VAR = "LOCALAPP_DB"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
MAX_NOTE_LENGTH = 500
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")

_SCHEMA = """CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL DEFAULT (datetime('now'))
)"""


@dataclass(frozen=True)
class Note:
    id: int
    text: str
    done: bool


class MisdirectedRequest(webob.exc.HTTPClientError):  # type: ignore[misc]
    """421 (RFC 9110 section 15.5.20): this server does not serve that host name."""

    code = 421
    title = "Misdirected Request"
    explanation = "This server does not serve that host name."


def make_app(db_path: str | None = None) -> SQLiteGuard:
    """The notes app on the SQLite file ``db_path`` (default: ``$LOCALAPP_DB`` or
    ``localapp.db``), created with its table on first use."""
    path = db_path or os.environ.get(DB_ENV_VAR) or DEFAULT_DB
    token = secrets.token_urlsafe(16)
    router = Router(templates=TEMPLATES)
    router.before_request(_local_host_only)
    router.add("/", _home(token), name="home")
    router.add("/notes", _add_note(token), name="notes", methods=["POST"])
    router.add("/notes/{id:\\d+}/toggle", _toggle_note(token), name="toggle", methods=["POST"])
    router.add("/notes/{id:\\d+}/delete", _delete_note(token), name="delete", methods=["POST"])
    return SQLiteGuard(router, lambda: _connect(path))


def _connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute(_SCHEMA)
    db.commit()
    return db


Responder = Callable[..., HTML | webob.Response]


def _home(token: str) -> Responder:
    def home(request: Request) -> HTML:
        return _page(request, token)

    return home


def _add_note(token: str) -> Responder:
    def add_note(request: Request) -> HTML | webob.Response:
        _check_token(request, token)
        text = request.POST.get("text", "").strip()
        if not text or len(text) > MAX_NOTE_LENGTH:
            error = f"A note needs between 1 and {MAX_NOTE_LENGTH} characters."
            return _page(request, token, error=error, draft=text, status=400)
        db = connection(request)
        db.execute("INSERT INTO notes (text) VALUES (?)", (text,))
        db.commit()
        return _see_home(request)

    return add_note


def _toggle_note(token: str) -> Responder:
    def toggle_note(request: Request, id: str) -> webob.Response:
        _check_token(request, token)
        db = connection(request)
        changed = db.execute("UPDATE notes SET done = 1 - done WHERE id = ?", (int(id),))
        db.commit()
        if changed.rowcount == 0:
            raise webob.exc.HTTPNotFound("there is no such note")
        return _see_home(request)

    return toggle_note


def _delete_note(token: str) -> Responder:
    def delete_note(request: Request, id: str) -> webob.Response:
        _check_token(request, token)
        db = connection(request)
        deleted = db.execute("DELETE FROM notes WHERE id = ?", (int(id),))
        db.commit()
        if deleted.rowcount == 0:
            raise webob.exc.HTTPNotFound("there is no such note")
        return _see_home(request)

    return delete_note


def _page(
    request: Request, token: str, *, error: str = "", draft: str = "", status: int = 200
) -> HTML:
    rows = (
        connection(request).execute("SELECT id, text, done FROM notes ORDER BY id DESC").fetchall()
    )
    notes = [Note(id=row[0], text=row[1], done=bool(row[2])) for row in rows]
    return request.render(
        "notes.html",
        notes=notes,
        token=token,
        error=error,
        draft=draft,
        max_length=MAX_NOTE_LENGTH,
        status=status,
        headers={"Cache-Control": "no-store"},  # always show the current list
    )


def _see_home(request: Request) -> webob.Response:
    # Post/Redirect/Get: 303 makes the browser GET the list, so reload never re-posts.
    return webob.exc.HTTPSeeOther(location=request.url_for("home"))


def _check_token(request: Request, token: str) -> None:
    if not secrets.compare_digest(request.POST.get("token", ""), token):
        raise webob.exc.HTTPForbidden("the form is stale or from another site; reload the page")


def _local_host_only(request: Request) -> None:
    # DNS rebinding: a remote name resolving to 127.0.0.1 would carry its own Host.
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    if host.lower() not in LOCAL_HOSTS:
        raise MisdirectedRequest(f"this local app does not serve {host!r}")


app = make_app()
