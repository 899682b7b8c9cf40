"""httpkit.web: a Routes-based dispatcher that is just a WSGI application.

It depends on WebOb and Routes only, never on httpkit's server, so a :class:`Router`
runs under any WSGI server.
"""

from __future__ import annotations

from httpkit.web.conditional import check_preconditions
from httpkit.web.handler import Handler
from httpkit.web.request import Request
from httpkit.web.router import Router
from httpkit.web.routing import Route
from httpkit.web.static import StaticFiles
from httpkit.web.table import format_route_table

__all__ = [
    "Handler",
    "Request",
    "Route",
    "Router",
    "StaticFiles",
    "check_preconditions",
    "format_route_table",
]
