"""Incremental readers for the two request body framings (RFC 9112 6).

Each reader works on the connection's receive buffer (a ``bytearray``), takes what it
can, deletes what it consumed, and returns an event or None when it needs more bytes.
"""

from __future__ import annotations

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


# Where a ChunkedReader is; plain ints, as the hot loop compares them for every chunk.
_SIZE = 1  # expecting a chunk-size line
_DATA = 2  # inside a chunk's data
_DATA_END = 3  # expecting the CRLF after a chunk's data
_TRAILERS = 4  # after the last chunk: trailer fields, then an empty line
_DONE = 5  # the message is complete; EndOfMessage is due


class ChunkedReader:
    """The body of a request with ``Transfer-Encoding: chunked`` (RFC 9112 7.1).

    Complete chunks found in one buffer are joined into one :class:`Data` event.
    ``header_bytes`` and ``header_count`` are what the head used of the header limits:
    trailers count against the same limits.
    """

    __slots__ = (
        "_chunk_left",
        "_limits",
        "_step",
        "_total",
        "_trailer_budget",
        "_trailer_scanned",
        "_trailers",
    )

    def __init__(self, limits: Limits, header_bytes: int, header_count: int) -> None:
        self._limits = limits
        self._step = _SIZE
        self._chunk_left = 0
        self._total = 0
        self._trailers: list[tuple[str, str]] = []
        self._trailer_scanned = 0  # bytes of an incomplete trailer section already searched
        self._trailer_budget = (
            limits.max_header_bytes - header_bytes,
            limits.max_header_count - header_count,
        )

    def read(self, buffer: bytearray) -> Data | EndOfMessage | None:
        # Work by position and delete the consumed prefix once: a buffer holding many
        # small chunks costs one pass, not one copy per chunk.
        pieces: list[bytearray] = []
        pos = 0
        step = self._step
        while step != _DONE:
            if step == _DATA:
                left = self._chunk_left
                end = pos + left
                if buffer[end : end + 2] == b"\r\n":  # the rest of the chunk and its CRLF
                    pieces.append(buffer[pos:end])
                    pos = end + 2
                    step = _SIZE
                    continue
                take = min(left, len(buffer) - pos)
                if take < left or not take:  # part of the chunk (or nothing) is here
                    if take:
                        pieces.append(buffer[pos : pos + take])
                        pos += take
                        self._chunk_left = left - take
                    break
                pieces.append(buffer[pos:end])
                pos = end
                step = _DATA_END
            elif step == _SIZE:
                after = self._read_size_line(buffer, pos)
                if after < 0:
                    break
                pos = after
                step = _DATA if self._chunk_left else _TRAILERS
            elif step == _DATA_END:
                if len(buffer) - pos < 2:
                    break
                if buffer[pos : pos + 2] != b"\r\n":
                    # RFC 9112 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
                    raise ProtocolError("chunk data not followed by CRLF (RFC 9112 7.1)")
                pos += 2
                step = _SIZE
            else:
                after = self._read_trailers(buffer, pos)
                if after < 0:
                    break
                pos = after
                step = _DONE
        if pos:
            del buffer[:pos]
        self._step = step
        if pieces:
            return Data(b"".join(pieces))
        return EndOfMessage(self._trailers) if step == _DONE else None

    def _read_size_line(self, buffer: bytearray, pos: int) -> int:
        """Parse a chunk-size line at ``pos``; the position after it, or -1 for more data."""
        max_extension = self._limits.max_chunk_extension
        bound = pos + _MAX_SIZE_DIGITS + max_extension + 2
        end = buffer.find(b"\r\n", pos, bound)
        if end < 0:
            if buffer.find(b"\n", pos, bound) >= 0:
                raise ProtocolError("bare LF in a chunk-size line (RFC 9112 2.2)")
            if len(buffer) >= bound:
                raise ProtocolError("chunk-size line too long (RFC 9112 7.1.1)")
            return -1
        match = CHUNK_LINE.fullmatch(buffer, pos, end)
        if match is None:
            line = buffer[pos:end].decode("latin-1")
            raise ProtocolError(f"invalid chunk-size line {line[:40]!r} (RFC 9112 7.1)")
        digits = match.group(1)
        if len(digits) > _MAX_SIZE_DIGITS:
            raise ProtocolError("chunk size has too many digits (RFC 9112 7.1)")
        if end - pos - len(digits) > max_extension:
            raise ProtocolError("chunk extensions too long (RFC 9112 7.1.1)")
        size = int(digits, 16)
        self._total += size
        max_body = self._limits.max_body
        if max_body is not None and self._total > max_body:
            raise ProtocolError(f"chunked body exceeds {max_body} bytes", 413)
        self._chunk_left = size
        return end + 2

    def _read_trailers(self, buffer: bytearray, pos: int) -> int:
        """Parse the trailer section at ``pos``; the position after it, or -1 for more data."""
        if buffer[pos : pos + 2] == b"\r\n":  # no trailer fields: the last-chunk's CRLF
            return pos + 2
        max_bytes, max_count = self._trailer_budget
        # Resume where the last read stopped, so trickled trailers cost linear time.
        scan = pos + self._trailer_scanned
        too_big_at = pos + max_bytes + 4  # no CRLF CRLF starts by then: over the limit
        end = buffer.find(b"\r\n\r\n", max(scan - 3, pos), too_big_at)
        # Bytes past the limit are never looked at: the first violation in the stream
        # decides the status, however reads were cut.
        stop = min(len(buffer), too_big_at) if end < 0 else end + 4
        # Counting CRLFs from one byte earlier pairs an LF at ``scan`` with its CR.
        if buffer.count(b"\n", scan, stop) != buffer.count(b"\r\n", max(scan - 1, pos), stop):
            raise ProtocolError("bare LF in the trailer section (RFC 9112 2.2)")
        if end < 0:
            if len(buffer) >= too_big_at:
                raise ProtocolError("trailer section too large", 431)
            self._trailer_scanned = len(buffer) - pos
            return -1
        # RFC 9112 7.1.2: trailer-section = *( field-line CRLF ), parsed like headers.
        trailers = parse_fields(buffer[pos : end + 2].decode("latin-1"), max(max_count, 0))
        for name, _ in trailers:
            if name in _FORBIDDEN_TRAILERS:
                raise ProtocolError(f"{name} is not allowed in trailers (RFC 9110 6.5.1)")
        self._trailers = trailers
        return end + 4
