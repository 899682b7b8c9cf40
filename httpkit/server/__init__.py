"""The asyncio connection server: listeners, one protocol per connection, timeouts.

It serves a :data:`~httpkit.server.contract.Handler` (the WSGI edge is one) and knows
nothing of WSGI itself; a handler sees only the
:class:`~httpkit.server.contract.HandlerExchange` contract.
"""

from httpkit.server.contract import ClientDisconnectedError, FileBody, Handler, HandlerExchange
from httpkit.server.core import Server
from httpkit.server.info import ConnectionInfo
from httpkit.server.stats import Stats

__all__ = [
    "ClientDisconnectedError",
    "ConnectionInfo",
    "FileBody",
    "Handler",
    "HandlerExchange",
    "Server",
    "Stats",
]
