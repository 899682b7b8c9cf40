"""The ceiling: an asyncio protocol that answers every request with canned bytes.

It parses nothing beyond counting blank lines that end request heads (so it only serves
bodiless requests, as wrk and h2load send), calls no application and builds no
objects per request.  No real server can be faster in Python on the same event loop;
the benchmark page shows every server as a fraction of this.

    python bench/apps/canned.py --port 8000 [--loop asyncio|uvloop|auto]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import cast

RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!"
)
CLOSE_RESPONSE = RESPONSE.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
HEAD_END = b"\r\n\r\n"


class CannedProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending = b""  # the tail of a head split across reads

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        data = self.pending + data
        heads = data.count(HEAD_END)
        self.pending = data[data.rfind(HEAD_END) + 4 :] if heads else data[-8192:]
        if not heads:
            return
        # A pipelined burst gets all its answers in one write (RFC 9112 section 9.3.2).
        if b"onnection: close" in data or b"onnection: Close" in data:
            self.transport.write(RESPONSE * (heads - 1) + CLOSE_RESPONSE)
            self.transport.close()
        else:
            self.transport.write(RESPONSE * heads)


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind != "asyncio":
        try:
            import uvloop  # noqa: PLC0415 (used like httpkit's loop=auto)

            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
        except ImportError:
            if kind == "uvloop":
                raise
    return asyncio.new_event_loop()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--port", type=int, required=True)
    options.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto")
    args = options.parse_args()
    loop = new_loop(args.loop)
    server = loop.run_until_complete(
        loop.create_server(CannedProtocol, "127.0.0.1", args.port, backlog=1024)
    )
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
