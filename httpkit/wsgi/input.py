"""``wsgi.input``: the request body as a file-like object that reads as the app asks."""

from __future__ import annotations

from collections.abc import Iterator

from httpkit.server.contract import HandlerExchange as SupportsReadBody

__all__ = ["InputStream"]

READ_BLOCK = 65536  # bytes asked of the connection at a time while looking for a newline


class InputStream:
    """The request body (already de-chunked); reads past the end return ``b""``.

    ``read(n)`` has file semantics: it returns fewer than ``n`` bytes only at the end of
    the body, however the body arrives (WebOb, like ``io.BufferedReader`` users, takes a
    short read for a disconnected client).  ``read1(n)`` returns what has arrived, at
    least one byte unless the body is over: the call for echoing a stream as it comes.
    The body is never held in memory unless the application asks for all of it at once.
    """

    __slots__ = ("_pending", "_source")

    def __init__(self, source: SupportsReadBody) -> None:
        self._source = source
        self._pending = b""  # read from the source by readline() but not yet returned

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data = self._pending + self._source.read(-1)
            self._pending = b""
            return data
        data = self.read1(size)
        if len(data) == size or not data:
            return data
        pieces = [data]
        missing = size - len(data)
        while missing > 0:
            piece = self._source.read(missing)
            if not piece:
                break
            pieces.append(piece)
            missing -= len(piece)
        return b"".join(pieces)

    def read1(self, size: int | None = -1) -> bytes:
        """What has arrived, up to ``size`` bytes (any amount if negative); b"" at the end."""
        if size is None or size < 0:
            size = READ_BLOCK
        if size == 0:
            return b""
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        return self._source.read(size)

    def readline(self, size: int | None = -1) -> bytes:
        limit = -1 if size is None else size
        line = self._pending
        while True:
            newline = line.find(b"\n")
            if newline >= 0:
                end = newline + 1
                break
            if 0 <= limit <= len(line):
                end = limit
                break
            block = self._source.read(READ_BLOCK)
            if not block:
                end = len(line)
                break
            line += block
        if 0 <= limit < end:
            end = limit
        self._pending = line[end:]
        return line[:end]

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        lines: list[bytes] = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line
