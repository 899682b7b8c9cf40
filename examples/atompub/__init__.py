"""An Atom Publishing Protocol (RFC 5023) service on SQLite.

Run it from a checkout::

    pip install -e .
    httpkit serve examples.atompub:app

then open http://127.0.0.1:8000/ (the service document is at ``/service``).  Members are
stored in ``atompub.db`` in the current directory, or in the file named by the
``ATOMPUB_DB`` environment variable; it is created on the first request.  Needs
``defusedxml`` to parse request bodies safely.

Build your own instance with :func:`make_app` (e.g. another file, page size or limit).
"""

from __future__ import annotations

from examples.atompub.app import make_app

__all__ = ["app", "make_app"]

app = make_app()
