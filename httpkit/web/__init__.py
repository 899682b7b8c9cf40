"""httpkit.web: a Routes-based dispatcher that is just a WSGI application.

It depends on WebOb and Routes only, never on httpkit's server, so a :class:`Router`
runs under any WSGI server.
"""

from __future__ import annotations

from httpkit.web.conditional import check_preconditions
from httpkit.web.events import Event
from httpkit.web.handler import Handler
from httpkit.web.html import HTML
from httpkit.web.hub import EventHub
from httpkit.web.request import Request
from httpkit.web.router import Router
from httpkit.web.routing import Route
from httpkit.web.sse import EventStream
from httpkit.web.static import StaticFiles
from httpkit.web.table import format_route_table
from httpkit.web.templating import Templates

__all__ = [
    "HTML",
    "Event",
    "EventHub",
    "EventStream",
    "Handler",
    "Request",
    "Route",
    "Router",
    "StaticFiles",
    "Templates",
    "check_preconditions",
    "format_route_table",
]
