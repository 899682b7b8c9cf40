"""An Atom Publishing Protocol (RFC 5023) service on SQLite or PostgreSQL.

Run it from a checkout::

    pip install -e '.[examples]'
    httpkit serve examples.atompub:app

then open http://127.0.0.1:8000/ in a browser (AtomPub clients start from the service
document at ``/service``).  Members are stored in ``atompub.db`` in the current
directory, or in what the ``ATOMPUB_DB`` environment variable names: a file, or a
PostgreSQL URL such as ``postgresql://blog@db.example/blog``.  It is created on the
first request.  Needs ``defusedxml``, ``jinja2`` and ``nh3`` (the ``examples`` extra),
and ``psycopg[binary,pool]`` for PostgreSQL.

Build your own instance with :func:`make_app` (e.g. another database, page size or limit).
"""

from __future__ import annotations

from examples.atompub.app import make_app

__all__ = ["app", "make_app"]

app = make_app()
