"""Running a handler and sending the body it returns: the steps both modes share.

Call the handler, send the body it returns, always call the body's ``close()``.  The
execution mode (:mod:`httpkit.server.modes`) decides where this runs and how it waits
for a slow client:

* **inline** (``threads=0``, on the event-loop thread) the body is pulled one piece at a
  time and, when the transport's buffer is full, the rest waits for ``resume_writing``
  (the loop never blocks);
* **threaded** the worker thread blocks in :meth:`Exchange.send` until the client reads.

A body with nothing to send yet (an event stream between events) says so with
``pause_body()`` and a ``b""`` piece; :mod:`httpkit.server.bodywait` waits for it, on
the loop without blocking it inline, on the worker thread otherwise.

A body known in full (a list or tuple, like most WSGI apps return) goes out as head,
body and end in a single write.  A :class:`~httpkit.server.contract.FileBody` goes out
with ``loop.sendfile`` (``os.sendfile`` on a plain socket) or, where the transport cannot
(TLS), in blocks -- in both cases framed by the file's real size.

Nothing raised by the handler or its body escapes, ``BaseException`` included: before
the head went out the client gets a 500 (or the body's own error, such as 413); after,
the connection is cut, so the client sees a truncated response rather than a wrong one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator

from httpkit.errors import ProtocolError, RequestBodyError, ResponseError
from httpkit.server.bodywait import wait_on_loop, wait_on_worker
from httpkit.server.contract import ClientDisconnectedError, FileBody, Handler
from httpkit.server.exchange import Exchange

__all__ = ["answer_failure", "run_inline", "run_threaded"]

error_log = logging.getLogger("httpkit.error")


def run_threaded(handler: Handler, exchange: Exchange) -> None:
    """On a worker thread: the whole request, from calling the handler to the last byte."""
    channel = exchange.channel
    body = _call_handler(handler, exchange)
    if body is None:
        return
    try:
        if type(body) is list or type(body) is tuple:
            channel.call_on_loop(channel.finish, exchange, exchange.frame_whole(body))
        elif isinstance(body, FileBody) and (length := _file_length(exchange, body)) is not None:
            channel.run_on_loop(_send_file(exchange, body, length)).result()
        else:
            for piece in body:
                if not piece and exchange.pause is not None:
                    wait_on_worker(exchange)  # an event stream with nothing to send yet
                    continue
                exchange.send(piece)
            channel.call_on_loop(channel.finish, exchange, exchange.frame_end())
    except ClientDisconnectedError:
        pass
    except BaseException as error:
        channel.call_on_loop(answer_failure, exchange, error)
    finally:
        _close(body, exchange)


def run_inline(handler: Handler, exchange: Exchange) -> None:
    """On the loop thread: call the handler and start sending its body."""
    body = _call_handler(handler, exchange)
    if body is None:
        return
    channel = exchange.channel
    if type(body) is list or type(body) is tuple:
        try:
            data = exchange.frame_whole(body)
        except BaseException as error:
            answer_failure(exchange, error)
        else:
            # Written from the next callback: the loop first reads every ready socket,
            # then sends all the responses (measured 25k -> 35k requests/s, 50 clients).
            channel.finish_soon(exchange, data)
        _close(body, exchange)
    elif isinstance(body, FileBody) and (length := _file_length(exchange, body)) is not None:
        file_body = body

        async def send_then_close() -> None:
            try:
                await _send_file(exchange, file_body, length)
            finally:
                _close(file_body, exchange)

        # The task is kept alive by the loop until it is done (it holds no other state).
        channel.run_on_loop(send_then_close())
    else:
        _stream_inline(exchange, body, None)


def _call_handler(handler: Handler, exchange: Exchange) -> Iterable[bytes] | None:
    """The handler's body; None if it failed (and the failure is being answered)."""
    try:
        body = handler(exchange)
        if body is None:
            raise ResponseError("the application returned None instead of an iterable")
        return body
    except ClientDisconnectedError:
        exchange.end_stream()
        return None
    except BaseException as error:  # SystemExit from an app must not stop the server
        exchange.end_stream()
        exchange.side.call(answer_failure, exchange, error)
        return None


def _stream_inline(
    exchange: Exchange, body: Iterable[bytes], pieces: Iterator[bytes] | None
) -> None:
    """Send pieces until the transport's buffer is full; resume from resume_writing."""
    channel = exchange.channel
    try:
        if pieces is None:
            pieces = iter(body)  # inside the try: the "body" may not be iterable at all
        # A closing transport drops writes without pausing: stop pulling pieces then, or
        # an endless body would spin the loop until connection_lost arrives.
        while not channel.closing:
            if channel.writing_paused:
                channel.when_writable(functools.partial(_stream_inline, exchange, body, pieces))
                return
            try:
                piece = next(pieces)
            except StopIteration:
                channel.finish_soon(exchange, exchange.frame_end())
                break
            if not piece and exchange.pause is not None:
                # An event stream with nothing to send yet: the loop goes on meanwhile.
                resume = functools.partial(_stream_inline, exchange, body, pieces)
                wait_on_loop(exchange, resume)
                return
            exchange.send(piece)
    except BaseException as error:
        answer_failure(exchange, error)
    _close(body, exchange)


def _file_length(exchange: Exchange, body: FileBody) -> int | None:
    """How many bytes of a regular file to send: the declared Content-Length, but never
    more than the file holds (None for a file whose size is unknown)."""
    span = body.sendfile_span()
    if span is None:
        return None
    size = span[1]
    declared = exchange.declared_length
    if declared is None or declared == size:
        return size
    if declared > size:
        request = exchange.request
        error_log.warning(
            "%s %s: Content-Length %d is larger than the file (%d bytes); sending the file",
            request.method,
            _path(exchange),
            declared,
            size,
        )
        return size
    return declared


async def _send_file(exchange: Exchange, body: FileBody, count: int) -> None:
    """Loop thread: head, then ``count`` bytes of the file (by the kernel when it can),
    then the end."""
    channel = exchange.channel
    try:
        span = body.sendfile_span()
        if span is None or span[1] < count:
            raise ResponseError("the file changed before it could be sent")
        channel.write(exchange.frame_file_head(count))
        if not exchange.framer.remaining:
            pass  # no body to send (HEAD, 304, an empty file)
        elif channel.can_sendfile():
            exchange.count_sent_around(count)
            await channel.sendfile(body.file, span[0], count)
        else:
            await _send_blocks(exchange, body, count)
        channel.finish(exchange, exchange.framer.end())
    except (ConnectionError, ClientDisconnectedError):
        channel.cut(exchange)
    except BaseException as error:
        answer_failure(exchange, error)


async def _send_blocks(exchange: Exchange, body: FileBody, count: int) -> None:
    """A file the transport cannot sendfile (TLS): read and write in blocks."""
    channel = exchange.channel
    left = count
    while left > 0 and not channel.closing:
        block = body.file.read(min(body.block_size, left))
        if not block:
            raise ResponseError(f"the file ended {left} bytes short of its size")
        left -= len(block)
        channel.write(exchange.frame_piece(bytes(block)))
        if channel.writing_paused:
            await channel.drained()
    if left:
        raise ClientDisconnectedError("client closed the connection during the file")


def answer_failure(exchange: Exchange, error: BaseException) -> None:
    """Loop thread: the handler or its body failed; answer (or cut) and log it.

    Before the response started, the client gets the error status (500, or the body
    error such as 413) and no details; after, the connection is cut.
    """
    channel = exchange.channel
    if channel.closing:
        return
    request = exchange.request
    if exchange.head_sent:
        _log_failure(exchange, error, f" after {exchange.bytes_sent} body bytes; connection cut")
        channel.cut(exchange)
        return
    body_error = exchange.body.error if exchange.body is not None else None
    # The body the server refused (413, a broken chunk), or one the application's own
    # reader refused (a BodyReader past its limit): the client gets that status.
    if isinstance(error, ProtocolError) and (
        error is body_error or isinstance(error, RequestBodyError)
    ):
        error_log.info("%s %s: request body refused: %s", request.method, _path(exchange), error)
        status = error.status
    else:
        _log_failure(exchange, error, "; answered 500")
        status = 500
    channel.answered_itself(status)
    channel.finish(exchange, exchange.error_response(status))


def _log_failure(exchange: Exchange, error: BaseException, outcome: str) -> None:
    request = exchange.request
    # A response the server refused (bad framing, a bad field) needs no traceback: the
    # message says what was wrong.  The application's own exceptions keep theirs.
    if isinstance(error, ResponseError):
        error_log.error(
            "invalid response to %s %s%s: %s", request.method, _path(exchange), outcome, error
        )
    else:
        error_log.error(
            "error in the application handling %s %s%s",
            request.method,
            _path(exchange),
            outcome,
            exc_info=error,
        )


def _path(exchange: Exchange) -> str:
    # The path without the query, which may hold secrets (tokens, passwords).
    return exchange.request.target.partition("?")[0]


def _close(body: Iterable[bytes], exchange: Exchange) -> None:
    """PEP 3333: close() is called on the body whatever happened; a stream's slot is
    given back with it."""
    close = getattr(body, "close", None)
    try:
        if close is not None:
            close()
    except BaseException as error:
        error_log.error("error closing the response body", exc_info=error)
    finally:
        exchange.end_stream()
