"""Byte ranges of a static file: the Range header (RFC 9110 section 14) and its answer.

:func:`plan_ranges` reads ``Range`` and says what to send: the whole file, one range
(``206`` with ``Content-Range``), several (``206`` with a ``multipart/byteranges`` body,
section 14.6) or nothing satisfiable (``416``).  Section 14.2 lets a server ignore Range;
the whole file is sent instead when

* the header is not a ``bytes`` range set this module can read (a syntax error);
* it asks for more than :data:`MAX_RANGES` ranges;
* two of its ranges overlap (requests made of overlapping ranges multiply the bytes sent
  -- the "Apache Killer" of CVE-2011-3192);
* its ranges add up to the file's size or more (the whole file is then no larger).

Several ranges are sent in the order the client listed them.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from typing import IO

__all__ = ["MAX_RANGES", "MultipartBody", "RangePlan", "content_range", "plan_ranges"]

MAX_RANGES = 16

Span = tuple[int, int]  # (first byte, last byte), both included, as in Content-Range


class RangePlan:
    """What a Range header asks of a file of ``size`` bytes.

    ``spans`` is empty for the whole file; ``unsatisfiable`` means a 416.
    """

    __slots__ = ("spans", "unsatisfiable")

    def __init__(self, spans: list[Span], *, unsatisfiable: bool = False) -> None:
        self.spans = spans
        self.unsatisfiable = unsatisfiable


_WHOLE = RangePlan([])


def plan_ranges(header: str | None, size: int) -> RangePlan:
    """The answer to ``Range: header`` for a file of ``size`` bytes (module rules)."""
    if not header:
        return _WHOLE
    unit, _, range_set = header.partition("=")
    if unit.strip().lower() != "bytes" or not range_set.strip():
        return _WHOLE  # section 14.1: an unknown unit is ignored
    specs = [spec.strip() for spec in range_set.split(",")]
    specs = [spec for spec in specs if spec]  # section 5.6.1: empty list elements
    if len(specs) > MAX_RANGES:
        return _WHOLE
    spans: list[Span] = []
    for spec in specs:
        parsed = _parse_spec(spec)
        if parsed is None:
            return _WHOLE  # a syntax error: ignore the whole header
        span = _resolve(parsed, size)
        if span is not None:
            spans.append(span)
    if not spans:
        return RangePlan([], unsatisfiable=True)
    if len(spans) > 1 and (_overlap(spans) or sum(b - a + 1 for a, b in spans) >= size):
        return _WHOLE
    return RangePlan(spans)


def _parse_spec(spec: str) -> tuple[int | None, int | None] | None:
    """``first-last``, ``first-`` or ``-suffix`` as numbers; None if malformed."""
    first, dash, last = spec.partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first or last):
        return None
    # Digits only: int() would take "+5", " 5" or "5_0" (section 14.1.1: 1*DIGIT).
    if (first and not (first.isascii() and first.isdigit())) or (
        last and not (last.isascii() and last.isdigit())
    ):
        return None
    start = int(first) if first else None
    end = int(last) if last else None
    if start is not None and end is not None and end < start:
        return None  # section 14.1.1: an invalid range-spec
    return start, end


def _resolve(spec: tuple[int | None, int | None], size: int) -> Span | None:
    """The span within the file, or None when this range is unsatisfiable."""
    start, end = spec
    if start is None:  # a suffix: the last ``end`` bytes
        if not end or not size:
            return None
        return max(0, size - end), size - 1
    if start >= size:
        return None
    return start, size - 1 if end is None or end >= size else end


def _overlap(spans: list[Span]) -> bool:
    ordered = sorted(spans)
    return any(later[0] <= earlier[1] for earlier, later in itertools.pairwise(ordered))


def content_range(span: Span, size: int) -> str:
    return f"bytes {span[0]}-{span[1]}/{size}"


class MultipartBody:
    """The ``multipart/byteranges`` body of several spans of an open file; iterating
    reads each span in blocks, ``close()`` closes the file."""

    def __init__(self, file: IO[bytes], spans: list[Span], size: int, content_type: str) -> None:
        self.boundary = secrets.token_hex(16)
        self._file = file
        self._spans = spans
        # Section 14.6: each part after the first starts on a new line (CRLF).
        self._heads = [
            (
                f"--{self.boundary}\r\n"
                f"Content-Type: {content_type}\r\n"
                f"Content-Range: {content_range(span, size)}\r\n\r\n"
            ).encode("latin-1")
            for span in spans
        ]
        self._heads[1:] = [b"\r\n" + head for head in self._heads[1:]]
        self._tail = f"\r\n--{self.boundary}--\r\n".encode("latin-1")
        self.length = (
            sum(len(head) for head in self._heads)
            + sum(last - first + 1 for first, last in spans)
            + len(self._tail)
        )

    def __iter__(self) -> Iterator[bytes]:
        return self._pieces()

    def _pieces(self) -> Iterator[bytes]:
        fileno = self._file.fileno()
        for head, (first, last) in zip(self._heads, self._spans, strict=True):
            yield head
            position = first
            while position <= last:
                block = os.pread(fileno, min(65536, last + 1 - position), position)
                if not block:
                    raise OSError(f"the file ended before byte {last}")
                position += len(block)
                yield block
        yield self._tail

    def close(self) -> None:
        self._file.close()
