"""Running a handler and sending the body it returns: inline or on a worker thread.

Both modes follow the same steps: call the handler, send the body it returns, always
call the body's ``close()``.  They differ in how they wait for a slow client:

* **inline** (``threads=0``, on the event-loop thread) the body is pulled one piece at a
  time and, when the transport's buffer is full, the rest waits for ``resume_writing``
  (the loop never blocks);
* **threaded** the worker thread blocks in :meth:`Exchange.send` until the client reads.

A body known in full (a list or tuple, like most WSGI apps return) goes out as head,
body and end in a single write.  A :class:`~httpkit.server.app.FileBody` goes out with
``loop.sendfile`` (``os.sendfile`` on a plain socket).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from httpkit.errors import ProtocolError, ResponseError
from httpkit.h1 import ResponseFramer
from httpkit.server.app import ClientDisconnectedError, FileBody
from httpkit.server.headers import error_response

if TYPE_CHECKING:
    from httpkit.server.exchange import Exchange

__all__ = ["run_inline", "run_threaded"]

error_log = logging.getLogger("httpkit.error")


def run_threaded(exchange: Exchange) -> None:
    """On a worker thread: the whole request, from calling the handler to the last byte."""
    conn = exchange.conn
    body = _call_handler(exchange)
    if body is None:
        return
    try:
        if type(body) is list or type(body) is tuple:
            conn.call_on_loop(conn.finish, exchange, exchange.frame_whole(body))
        elif isinstance(body, FileBody) and _sendfile_span(exchange, body) is not None:
            future = asyncio.run_coroutine_threadsafe(_send_file(exchange, body), conn.loop)
            future.result()
        else:
            _hint_file_length(exchange, body)
            for piece in body:
                exchange.send(piece)
            conn.call_on_loop(conn.finish, exchange, exchange.frame_end())
    except ClientDisconnectedError:
        pass
    except Exception as error:
        conn.call_on_loop(_fail, exchange, error)
    finally:
        _close(exchange, body)


def run_inline(exchange: Exchange) -> None:
    """On the loop thread: call the handler and start sending its body."""
    body = _call_handler(exchange)
    if body is None:
        return
    conn = exchange.conn
    if type(body) is list or type(body) is tuple:
        try:
            data = exchange.frame_whole(body)
        except Exception as error:
            _fail(exchange, error)
        else:
            conn.finish(exchange, data)
        _close(exchange, body)
    elif isinstance(body, FileBody) and _sendfile_span(exchange, body) is not None:
        task = conn.loop.create_task(_send_file(exchange, body))
        task.add_done_callback(lambda _: _close(exchange, body))
    else:
        _hint_file_length(exchange, body)
        _stream_inline(exchange, body, None)


def _call_handler(exchange: Exchange) -> Iterable[bytes] | None:
    """The handler's body; None if it failed (and the failure is being answered)."""
    conn = exchange.conn
    try:
        body = conn.server.handler(exchange)
        if body is None:
            raise ResponseError("the application returned None instead of an iterable")
        return body
    except ClientDisconnectedError:
        return None
    except Exception as error:
        if exchange.threaded:
            conn.call_on_loop(_fail, exchange, error)
        else:
            _fail(exchange, error)
        return None


def _stream_inline(
    exchange: Exchange, body: Iterable[bytes], pieces: Iterator[bytes] | None
) -> None:
    """Send pieces until the transport's buffer is full; resume from resume_writing."""
    conn = exchange.conn
    try:
        if pieces is None:
            pieces = iter(body)  # inside the try: the "body" may not be iterable at all
        # A closing transport drops writes without pausing: stop pulling pieces then, or
        # an endless body would spin the loop until connection_lost arrives.
        while not conn.closing:
            if conn.writing_paused:
                conn.when_writable(functools.partial(_stream_inline, exchange, body, pieces))
                return
            try:
                piece = next(pieces)
            except StopIteration:
                conn.finish(exchange, exchange.frame_end())
                break
            exchange.send(piece)
    except Exception as error:
        _fail(exchange, error)
    _close(exchange, body)


def _hint_file_length(exchange: Exchange, body: Iterable[bytes]) -> None:
    """A file sent in blocks still gets a Content-Length when its size is known."""
    if isinstance(body, FileBody) and exchange.app_content_length() is None:
        span = body.sendfile_span()
        if span is not None:
            exchange.body_length_hint = span[1]


def _sendfile_span(exchange: Exchange, body: FileBody) -> tuple[int, int] | None:
    transport = exchange.conn.transport
    if exchange.request.method == "HEAD" or transport is None:
        return None
    if transport.get_extra_info("sslcontext") is not None:
        return None
    if not isinstance(exchange.conn.loop, asyncio.BaseEventLoop):
        return None  # e.g. uvloop, which has no sendfile: iterate the file instead
    return body.sendfile_span()


async def _send_file(exchange: Exchange, body: FileBody) -> None:
    """Loop thread: head, then the file's bytes from the kernel, then the end."""
    conn = exchange.conn
    span = body.sendfile_span()
    try:
        if span is None:
            raise ResponseError("the file can no longer be sent")
        offset, count = span
        declared = exchange.app_content_length()
        if declared is not None and declared <= count:
            count = declared
        head = exchange.frame_head(count)
        if declared is not None and declared > count:
            raise ResponseError("Content-Length is larger than the file")
        conn.write(head)
        if count and not conn.lost:
            assert conn.transport is not None
            await conn.loop.sendfile(conn.transport, body.file, offset, count)
        exchange.bytes_sent = count
        conn.finish(exchange, b"")
    except (ConnectionError, ClientDisconnectedError):
        conn.abort()
    except Exception as error:
        _fail(exchange, error)


def _fail(exchange: Exchange, error: Exception) -> None:
    """Loop thread: the handler or its body failed.

    Before the response started, the client gets the error status (500, or the body
    error such as 413) and no details; after, the connection is cut so the client sees
    a truncated response rather than a wrong one.
    """
    conn = exchange.conn
    if conn.lost or exchange is not conn.exchange:
        return
    body_error = exchange.body_error
    request = exchange.request
    # The path without the query, which may hold secrets (tokens, passwords).
    path = request.target.partition("?")[0]
    if exchange.head_sent:
        error_log.error(
            "error in the application handling %s %s after the response started; connection cut",
            request.method,
            path,
            exc_info=error,
        )
        conn.abort()
        return
    if isinstance(error, ProtocolError) and error is body_error:
        status = error.status
        error_log.info("request body refused: %s", error)
    else:
        status = 500
        error_log.error(
            "error in the application handling %s %s", request.method, path, exc_info=error
        )
    exchange.status = status
    close = not exchange.body_complete or body_error is not None or conn.server.draining
    exchange.framer = ResponseFramer(request)  # the app's head may have failed half-way
    data = error_response(exchange.framer, status, conn.settings.server_header, close=close)
    exchange.head_sent = True
    conn.finish(exchange, data)


def _close(exchange: Exchange, body: Iterable[bytes]) -> None:
    """PEP 3333: close() is called on the body whatever happened."""
    close = getattr(body, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception as error:
        error_log.error("error closing the response body", exc_info=error)
