"""The sans-IO HTTP/1.1 protocol core: bytes in, events out; responses framed to bytes.

It imports no I/O library: the server feeds bytes to a :class:`ServerConnection`, reads
events from it, and writes what a :class:`ResponseFramer` gives back.
"""

from httpkit.h1.connection import ParserState, ServerConnection
from httpkit.h1.events import (
    CLOSED,
    NEED_DATA,
    Data,
    EndOfMessage,
    Event,
    Request,
    Sentinel,
    split_target,
)
from httpkit.h1.head import RefusedHeadError
from httpkit.h1.limits import Limits
from httpkit.h1.response import CONTINUE, ResponseFramer, field_line

__all__ = [
    "CLOSED",
    "CONTINUE",
    "NEED_DATA",
    "Data",
    "EndOfMessage",
    "Event",
    "Limits",
    "ParserState",
    "RefusedHeadError",
    "Request",
    "ResponseFramer",
    "Sentinel",
    "ServerConnection",
    "field_line",
    "split_target",
]
