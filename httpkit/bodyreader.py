"""The request body as a file: the one reader behind ``wsgi.input``.

A body source -- httpkit's own exchange, another WSGI server's ``wsgi.input`` -- may
return fewer bytes than asked before the body ends, as a socket does.  Code written for
files does not expect that (WebOb takes a short ``read(n)`` for a client that went
away), so :class:`BodyReader` puts file semantics on top of any such source:

* ``read(n)`` returns ``n`` bytes unless the body ends first; ``read()`` all the rest;
* ``read1(n)`` returns what has arrived, at least one byte unless the body is over;
* ``readline(size)``, ``readlines(hint)`` and iteration give whole lines.

It can also stop at an announced length (a body that ends sooner raises a 400) and
count the body against a limit (the read that goes past it raises a 413), both as
:class:`~httpkit.errors.RequestBodyError`.

httpkit's server puts a ``BodyReader`` in ``wsgi.input``; the router puts one in front
of another server's stream, or only sets the limit of the one it finds.  This module
is on the ground floor: it imports nothing of httpkit but :mod:`httpkit.errors`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Protocol

from httpkit.errors import RequestBodyError

__all__ = ["READ_BLOCK", "BodyReader", "SupportsReadBody"]

#: The most bytes asked of the source in one call.
READ_BLOCK = 64 * 1024
# No bound: the source's own end is the body's end.  A bound below it is a length or
# a limit, and makes a read of "all the rest" go block by block so that it can count.
_UNBOUNDED = sys.maxsize


class SupportsReadBody(Protocol):
    """What a body source offers (httpkit's exchange, a WSGI server's ``wsgi.input``).

    ``read(size)`` returns 1 to ``size`` bytes, ``b""`` only at the end of the body;
    ``read(-1)`` returns all the rest.  A read may fail with an :class:`OSError` (the
    client went away) or a :class:`~httpkit.errors.ProtocolError` (the body broke
    HTTP's framing).
    """

    def read(self, size: int = -1, /) -> bytes: ...


class BodyReader:
    """A request body read from ``source`` with file semantics.

    :param source: where the bytes come from; reads of it may return less than asked.
    :param length: the announced length (``Content-Length``): the body ends there,
        and a source that ends sooner raises ``RequestBodyError`` with status 400.
    :param limit: the most bytes accepted (see :meth:`limit_to`).

    The source is never asked for more than :data:`READ_BLOCK` bytes at once unless
    the body has neither length nor limit and the application reads all of it.
    """

    __slots__ = ("_length", "_limit", "_pending", "_source", "_stop", "_taken")

    def __init__(
        self, source: SupportsReadBody, length: int | None = None, *, limit: int | None = None
    ) -> None:
        self._source = source
        self._pending = b""  # read from the source by readline() but not yet returned
        self._taken = 0  # bytes read from the source so far
        self._length = length
        self._limit: int | None = None
        self._stop = _UNBOUNDED if length is None else length  # the most ever asked for
        if limit is not None:
            self.limit_to(limit)

    def limit_to(self, most: int) -> None:
        """Accept at most ``most`` bytes of body in all, counting those already read.

        A limit only ever comes down: a higher one than the current is ignored, so a
        router mounted inside another keeps the outer router's limit too.  The read
        that goes past it raises ``RequestBodyError`` with status 413, and so does this
        call if the announced length is larger or more was read already.
        """
        if most < 0:
            raise ValueError(f"a body limit is a byte count >= 0, not {most!r}")
        if self._limit is not None and self._limit <= most:
            return
        self._limit = most
        if self._length is None:
            self._stop = most + 1  # one byte more than allowed shows the body goes past it
        elif self._length > most:
            raise _too_large(most)
        if self._taken > most:
            raise _too_large(most)

    def read(self, size: int | None = -1) -> bytes:
        """``size`` bytes, fewer only at the end of the body; all the rest if ``size``
        is negative or ``None``."""
        if size is None or size < 0:
            return self._read_rest()
        pending = self._pending
        if len(pending) >= size:  # read(0) too
            self._pending = pending[size:]
            return pending[:size]
        if pending:
            self._pending = b""
            piece = pending
        else:
            piece = self._pull(size if size < READ_BLOCK else READ_BLOCK)
            if len(piece) == size or not piece:
                return piece  # the common case: one read of the source had it all
        parts = [piece]
        size -= len(piece)
        # Bounded: every pass gets at least one byte or ends the loop.
        while size > 0:
            piece = self._pull(size if size < READ_BLOCK else READ_BLOCK)
            if not piece:
                break
            parts.append(piece)
            size -= len(piece)
        return b"".join(parts)

    def read1(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes of what has arrived (one read of the source, as
        :meth:`io.BufferedIOBase.read1`); ``b""`` only at the end of the body.

        For code that passes the body on as it comes: an echo, a proxy.
        """
        if size is None or size < 0 or size > READ_BLOCK:
            size = READ_BLOCK
        pending = self._pending
        if pending:
            self._pending = pending[size:]
            return pending[:size]
        return self._pull(size) if size else b""

    def readline(self, size: int | None = -1) -> bytes:
        """The next line, newline included; at most ``size`` bytes if that is >= 0."""
        most = _UNBOUNDED if size is None or size < 0 else size
        parts: list[bytes] = []
        got = 0
        line = self._pending
        if line or not most:
            end = line.find(b"\n", 0, most) + 1
            if end or len(line) >= most:
                end = end or most
                self._pending = line[end:]
                return line[:end]
            self._pending = b""
            parts.append(line)
            got = len(line)
        while block := self._pull(READ_BLOCK):
            end = block.find(b"\n", 0, most - got) + 1
            if end or got + len(block) >= most:
                end = end or most - got
                parts.append(block[:end])
                self._pending = block[end:]
                break
            parts.append(block)
            got += len(block)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """The remaining lines; with ``hint`` > 0, stops once that many bytes were read."""
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _read_rest(self) -> bytes:
        pending = self._pending
        self._pending = b""
        if self._stop == _UNBOUNDED:
            # Nothing to stop at or count against: the source gathers it in one call.
            data = self._source.read(-1)
            self._taken += len(data)
            return pending + data if pending else data
        parts = [pending]
        while piece := self._pull(READ_BLOCK):
            parts.append(piece)
        return b"".join(parts)

    def _pull(self, size: int) -> bytes:
        """One read of the source for 1 to ``size`` bytes (``size`` > 0); b"" at the end."""
        left = self._stop - self._taken
        data = self._source.read(size if size < left else left) if left > 0 else b""
        if data:
            self._taken += len(data)
            if self._limit is not None and self._taken > self._limit:
                raise _too_large(self._limit)
        else:
            self._check_end()
        return data

    def _check_end(self) -> None:
        # The source gave nothing more: fine, unless Content-Length promised more (a
        # client that went away, a server that let a short body through), or the body
        # already went past the limit and is read again.
        if self._length is not None and self._taken < self._length:
            raise RequestBodyError("The request body is shorter than its Content-Length.", 400)
        if self._limit is not None and self._taken > self._limit:
            raise _too_large(self._limit)


def _too_large(limit: int) -> RequestBodyError:
    return RequestBodyError(f"The request body is larger than {limit} bytes.", 413)
