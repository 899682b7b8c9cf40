"""``HTML``: a handler's markup, sent as ``text/html; charset=utf-8``.

A plain ``str`` stays ``text/plain`` (the router cannot tell markup from text); wrapping
it, or an iterable of its pieces, in :class:`HTML` says what it is.  A page given in
pieces (a generator, a template's ``generate()``) is read ahead up to
:data:`WHOLE_PAGE_LIMIT` bytes: a page that ends within it goes out whole with a
``Content-Length`` (an error while making it is still a proper 500), a longer one
streams in blocks of :data:`STREAM_BLOCK` bytes, chunked, never built as one string.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import webob.util

__all__ = ["HTML", "HTML_TYPE", "STREAM_BLOCK", "WHOLE_PAGE_LIMIT"]

HTML_TYPE = "text/html; charset=utf-8"
WHOLE_PAGE_LIMIT = 64 * 1024  # bytes read ahead: a page this small gets a Content-Length
STREAM_BLOCK = 16 * 1024  # a longer page leaves in blocks of about this size

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


class HTML:
    """Markup a handler returns: ``return HTML("<p>Hi</p>")``.

    :param content: the page as ``str`` or ``bytes`` (UTF-8), or an iterable of
        ``str``/``bytes`` pieces (a generator, a Jinja template's ``generate()``).
    :param status: the response status code.
    :param headers: more response fields (a mapping or ``(name, value)`` pairs).
    :param whole_limit: read ahead this many bytes of a page given in pieces: a page
        that ends within it gets a ``Content-Length``, a longer one streams.
    :param content_type: the ``Content-Type``, for a rendered document of another kind
        (a template of plain text or XML); UTF-8 all the same.
    """

    __slots__ = ("content", "content_type", "headers", "status", "whole_limit")

    def __init__(
        self,
        content: str | bytes | Iterable[str | bytes],
        *,
        status: int = 200,
        headers: Headers | None = None,
        whole_limit: int = WHOLE_PAGE_LIMIT,
        content_type: str = HTML_TYPE,
    ) -> None:
        if status not in webob.util.status_reasons:
            raise ValueError(f"{status!r} is not an HTTP status code")
        if isinstance(content, (bytearray, memoryview)) or not isinstance(
            content, (str, bytes, Iterable)
        ):
            raise TypeError(
                f"HTML() takes str, bytes or an iterable of them, not {type(content).__name__}"
            )
        if not isinstance(whole_limit, int) or whole_limit < 0:
            raise ValueError(f"whole_limit must be a byte count >= 0, not {whole_limit!r}")
        self.content = content
        self.status = status
        self.headers = list(headers.items() if isinstance(headers, Mapping) else headers or ())
        self.whole_limit = whole_limit
        self.content_type = content_type

    def __html__(self) -> str:
        """Jinja's (MarkupSafe's) protocol: whole markup inserts into a template as is."""
        if isinstance(self.content, str):
            return self.content
        if isinstance(self.content, bytes):
            return self.content.decode()
        raise TypeError("an HTML stream cannot be inserted into a template")

    def parts(self) -> tuple[str, list[tuple[str, str]], Iterable[bytes]]:
        """Status line, fields and body: whole with a Content-Length, or streamed."""
        status = f"{self.status} {webob.util.status_reasons[self.status]}"
        headers = [("Content-Type", self.content_type), *self.headers]
        content = self.content
        if isinstance(content, (str, bytes)):
            body = content.encode() if isinstance(content, str) else content
            return status, [*headers, ("Content-Length", str(len(body)))], (body,)
        pieces = iter(content)
        try:
            ahead, ended = _read_ahead(pieces, self.whole_limit)
        except BaseException:
            _close(pieces)
            raise
        if ended:
            _close(pieces)
            body = b"".join(ahead)
            return status, [*headers, ("Content-Length", str(len(body)))], (body,)
        return status, headers, _PageStream(ahead, pieces)


def _read_ahead(pieces: Iterator[Any], limit: int) -> tuple[list[bytes], bool]:
    """The first pieces (as bytes) up to ``limit`` bytes, and whether the page ended."""
    ahead: list[bytes] = []
    size = 0
    for piece in pieces:
        data = _as_bytes(piece)
        ahead.append(data)
        size += len(data)
        if size > limit:
            return ahead, False
    return ahead, True


class _PageStream:
    """The rest of a long page, in blocks; ``close()`` reaches the page's generator."""

    __slots__ = ("_ahead", "_pieces")

    def __init__(self, ahead: list[bytes], pieces: Iterator[Any]) -> None:
        self._ahead = ahead
        self._pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield b"".join(self._ahead)  # already more than the read-ahead limit
        block: list[bytes] = []
        size = 0
        for piece in self._pieces:
            data = _as_bytes(piece)
            block.append(data)
            size += len(data)
            if size >= STREAM_BLOCK:
                yield b"".join(block)
                block, size = [], 0
        if block:
            yield b"".join(block)

    def close(self) -> None:
        _close(self._pieces)


def _as_bytes(piece: object) -> bytes:
    if isinstance(piece, str):
        return piece.encode()
    if isinstance(piece, bytes):
        return piece
    raise TypeError(f"an HTML page's pieces must be str or bytes, not {type(piece).__name__}")


def _close(pieces: object) -> None:
    close = getattr(pieces, "close", None)
    if close is not None:
        close()
