"""Incremental readers for the two request body framings (RFC 9112 6).

Each reader works on the connection's receive buffer (a ``bytearray``), takes what it
can, deletes what it consumed, and returns an event or None when it needs more bytes.
"""

from __future__ import annotations

import enum

from httpkit.errors import ProtocolError
from httpkit.h1.events import Data, EndOfMessage
from httpkit.h1.grammar import CHUNK_LINE
from httpkit.h1.head import parse_fields
from httpkit.h1.limits import Limits

__all__ = ["ChunkedReader", "LengthReader"]

# 16 hex digits is 2**64 - 1: longer sizes can only be padding or an overflow attempt.
_MAX_SIZE_DIGITS = 16
# Fields a trailer must not carry: they would change framing or routing (RFC 9110 6.5.1).
_FORBIDDEN_TRAILERS = frozenset(("content-length", "transfer-encoding", "host", "trailer"))


class LengthReader:
    """The body of a request with Content-Length: exactly that many bytes (RFC 9112 6.2)."""

    __slots__ = ("remaining",)

    def __init__(self, length: int) -> None:
        self.remaining = length

    def read(self, buffer: bytearray) -> Data | EndOfMessage | None:
        if not self.remaining:
            return EndOfMessage()
        if not buffer:
            return None
        if len(buffer) <= self.remaining:
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(buffer[: self.remaining])
            del buffer[: self.remaining]
        self.remaining -= len(data)
        return Data(data)


class _Step(enum.Enum):
    SIZE = 1  # expecting a chunk-size line
    DATA = 2  # inside a chunk's data
    DATA_END = 3  # expecting the CRLF after a chunk's data
    TRAILERS = 4  # after the last chunk: trailer fields, then an empty line
    DONE = 5  # the message is complete; EndOfMessage is due


class ChunkedReader:
    """The body of a request with ``Transfer-Encoding: chunked`` (RFC 9112 7.1).

    Complete chunks found in one buffer are joined into one :class:`Data` event.
    ``header_bytes`` and ``header_count`` are what the head used of the header limits:
    trailers count against the same limits.
    """

    __slots__ = ("_chunk_left", "_limits", "_step", "_total", "_trailer_budget", "_trailers")

    def __init__(self, limits: Limits, header_bytes: int, header_count: int) -> None:
        self._limits = limits
        self._step = _Step.SIZE
        self._chunk_left = 0
        self._total = 0
        self._trailers: list[tuple[str, str]] = []
        self._trailer_budget = (
            limits.max_header_bytes - header_bytes,
            limits.max_header_count - header_count,
        )

    def read(self, buffer: bytearray) -> Data | EndOfMessage | None:
        pieces: list[bytes] = []
        while self._step is not _Step.DONE and self._advance(buffer, pieces):
            pass
        if pieces:
            return Data(b"".join(pieces))
        if self._step is _Step.DONE:
            return EndOfMessage(self._trailers)
        return None

    def _advance(self, buffer: bytearray, pieces: list[bytes]) -> bool:
        """Take one step; False when the buffer holds too little to go on."""
        step = self._step
        if step is _Step.DATA:
            if not buffer:
                return False
            count = min(self._chunk_left, len(buffer))
            pieces.append(bytes(buffer[:count]))
            del buffer[:count]
            self._chunk_left -= count
            if not self._chunk_left:
                self._step = _Step.DATA_END
            return True
        if step is _Step.SIZE:
            return self._read_size_line(buffer)
        if step is _Step.DATA_END:
            if len(buffer) < 2:
                return False
            if buffer[:2] != b"\r\n":
                # RFC 9112 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
                raise ProtocolError("chunk data not followed by CRLF (RFC 9112 7.1)")
            del buffer[:2]
            self._step = _Step.SIZE
            return True
        return self._read_trailers(buffer)

    def _read_size_line(self, buffer: bytearray) -> bool:
        bound = _MAX_SIZE_DIGITS + self._limits.max_chunk_extension + 2
        end = buffer.find(b"\r\n", 0, bound)
        if end < 0:
            if b"\n" in buffer[:bound]:
                raise ProtocolError("bare LF in a chunk-size line (RFC 9112 2.2)")
            if len(buffer) >= bound:
                raise ProtocolError("chunk-size line too long (RFC 9112 7.1.1)")
            return False
        line = buffer[:end].decode("latin-1")
        match = CHUNK_LINE.fullmatch(line)
        if match is None:
            raise ProtocolError(f"invalid chunk-size line {line[:40]!r} (RFC 9112 7.1)")
        digits, extensions = match.groups()
        if len(digits) > _MAX_SIZE_DIGITS:
            raise ProtocolError("chunk size has too many digits (RFC 9112 7.1)")
        if len(extensions) > self._limits.max_chunk_extension:
            raise ProtocolError("chunk extensions too long (RFC 9112 7.1.1)")
        size = int(digits, 16)
        self._total += size
        max_body = self._limits.max_body
        if max_body is not None and self._total > max_body:
            raise ProtocolError(f"chunked body exceeds {max_body} bytes", 413)
        del buffer[: end + 2]
        self._chunk_left = size
        self._step = _Step.DATA if size else _Step.TRAILERS
        return True

    def _read_trailers(self, buffer: bytearray) -> bool:
        if buffer[:2] == b"\r\n":  # no trailer fields: the last-chunk's CRLF ends it
            del buffer[:2]
            self._step = _Step.DONE
            return True
        max_bytes, max_count = self._trailer_budget
        end = buffer.find(b"\r\n\r\n", 0, max_bytes + 4)
        if end < 0:
            if len(buffer) >= max_bytes + 4:
                raise ProtocolError("trailer section too large", 431)
            if buffer.count(b"\n") != buffer.count(b"\r\n"):
                raise ProtocolError("bare LF in the trailer section (RFC 9112 2.2)")
            return False
        # RFC 9112 7.1.2: trailer-section = *( field-line CRLF ), parsed like headers.
        trailers = parse_fields(buffer[: end + 2].decode("latin-1"), max(max_count, 0))
        for name, _ in trailers:
            if name in _FORBIDDEN_TRAILERS:
                raise ProtocolError(f"{name} is not allowed in trailers (RFC 9110 6.5.1)")
        del buffer[: end + 4]
        self._trailers = trailers
        self._step = _Step.DONE
        return True
