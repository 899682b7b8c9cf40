"""Turning what a handler returns into a WSGI response.

A handler may return a ``webob.Response``, ``str``, ``bytes``, a ``dict`` or ``list``
(JSON), ``None`` (204), :class:`~httpkit.web.html.HTML` (markup), an
:class:`~httpkit.web.sse.EventStream` (server-sent events), an iterable or generator of
``str``/``bytes`` (streamed; its length is unknown, so the server chunks it), or a nested
list of ``str``/``bytes`` that contains at least one ``bytes`` (an *iolist*: sent piece by
piece, never joined).

The common cases produce a :class:`Reply` -- a status, a header list and a body
iterable -- without building a ``webob.Response``; one is built only when an
``after_request`` hook needs to see it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TypeAlias

import webob

from httpkit.web.html import HTML
from httpkit.web.sse import EventStream
from httpkit.wsgitypes import Environ, StartResponse

__all__ = ["Rendered", "Reply", "render"]

TEXT_TYPE = "text/plain; charset=UTF-8"
BINARY_TYPE = "application/octet-stream"
JSON_TYPE = "application/json"

_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_MAX_IOLIST_DEPTH = 32  # deeper nesting is a bug in the handler, not a response


class Reply:
    """A response in its plainest form: status line text, headers, body iterable."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: str, headers: list[tuple[str, str]], body: Iterable[bytes]):
        self.status = status
        self.headers = headers
        self.body = body

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response(self.status, self.headers)
        if environ["REQUEST_METHOD"] == "HEAD":
            # RFC 9110 section 9.3.2: same headers as GET, no content.
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
            return []
        return self.body

    def to_webob(self) -> webob.Response:
        """The same response as a ``webob.Response`` (for hooks that want one)."""
        response = webob.Response(status=self.status, headerlist=list(self.headers))
        response.app_iter = self.body
        return response


Rendered: TypeAlias = "Reply | webob.Response | EventStream"  # what the router sends


def render(result: object) -> Rendered:
    """Convert a handler's return value; raise TypeError for anything else."""
    if isinstance(result, str):
        if type(result) is not str and hasattr(result, "__html__"):
            return Reply(*HTML(str(result)).parts())  # markupsafe.Markup: escaped markup
        body = result.encode()
        return Reply(
            "200 OK", [("Content-Type", TEXT_TYPE), ("Content-Length", str(len(body)))], (body,)
        )
    if isinstance(result, webob.Response):
        return result
    if isinstance(result, HTML):
        return Reply(*result.parts())
    if isinstance(result, EventStream):
        return result
    if isinstance(result, bytes):
        return Reply(
            "200 OK",
            [("Content-Type", BINARY_TYPE), ("Content-Length", str(len(result)))],
            (result,),
        )
    if result is None:
        return Reply("204 No Content", [], ())
    if isinstance(result, dict):
        return _json_reply(result)
    if isinstance(result, (list, tuple)):
        pieces = _flatten_iolist(result)
        if pieces is None:
            return _json_reply(result)
        length = sum(len(piece) for piece in pieces)
        headers = [("Content-Type", _iolist_type(result)), ("Content-Length", str(length))]
        return Reply("200 OK", headers, pieces)
    if isinstance(result, Iterable) and not isinstance(result, (bytearray, memoryview)):
        return _stream_reply(iter(result))
    raise TypeError(
        f"a handler returned {type(result).__name__}; return a webob.Response, HTML, "
        "EventStream, str, bytes, dict, list, None or an iterable of str/bytes"
    )


def _json_reply(value: object) -> Reply:
    body = _encode_json(value).encode()
    return Reply(
        "200 OK", [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))], (body,)
    )


def _flatten_iolist(value: list[Any] | tuple[Any, ...]) -> list[bytes] | None:
    """The iolist's pieces as bytes, or None when the value is not an iolist (-> JSON)."""
    pieces: list[bytes] = []
    saw_bytes = False
    # An explicit stack of iterators instead of recursion: depth is bounded below.
    stack: list[Iterator[Any]] = [iter(value)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, bytes):
                saw_bytes = True
                pieces.append(item)
            elif isinstance(item, str):
                pieces.append(item.encode())
            elif isinstance(item, (list, tuple)):
                if len(stack) >= _MAX_IOLIST_DEPTH:
                    raise ValueError(f"an iolist is nested deeper than {_MAX_IOLIST_DEPTH}")
                stack.append(iter(item))
                break
            else:
                return None  # numbers, dicts, None...: this list is JSON data
        else:
            stack.pop()
    return pieces if saw_bytes else None


def _iolist_type(value: list[Any] | tuple[Any, ...]) -> str:
    # The first leaf decides, like the first chunk of a stream does.
    first: Any = value
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    return TEXT_TYPE if isinstance(first, str) else BINARY_TYPE


def _stream_reply(chunks: Iterator[Any]) -> Reply:
    # Pull the first chunk now: it picks the content type, and an error raised before
    # the first chunk still becomes a proper error response.
    try:
        first = next(chunks)
    except StopIteration:
        return Reply("200 OK", [("Content-Type", BINARY_TYPE), ("Content-Length", "0")], ())
    content_type = TEXT_TYPE if isinstance(first, str) else BINARY_TYPE
    return Reply("200 OK", [("Content-Type", content_type)], _EncodedStream(first, chunks))


class _EncodedStream:
    """The handler's chunks as bytes; ``close()`` reaches the handler's iterator even
    when the body is dropped before its first byte is sent (HEAD, client gone)."""

    __slots__ = ("_chunks", "_first")

    def __init__(self, first: Any, chunks: Iterator[Any]) -> None:
        self._first = first
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield _chunk_bytes(self._first)
        for chunk in self._chunks:
            yield _chunk_bytes(chunk)

    def close(self) -> None:
        # PEP 3333: the server closes the body; pass that on to the handler's generator.
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


def _chunk_bytes(chunk: object) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, str):
        return chunk.encode()
    raise TypeError(f"a streamed body yielded {type(chunk).__name__}; yield str or bytes")
