"""The asyncio connection server: listeners, one protocol per connection, timeouts.

It serves a :data:`~httpkit.server.app.Handler` (the WSGI edge is one) and knows
nothing of WSGI itself.
"""

from httpkit.server.app import ClientDisconnectedError, ConnectionInfo, FileBody, Handler
from httpkit.server.core import Server
from httpkit.server.exchange import Exchange

__all__ = [
    "ClientDisconnectedError",
    "ConnectionInfo",
    "Exchange",
    "FileBody",
    "Handler",
    "Server",
]
