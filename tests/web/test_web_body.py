"""Request bodies as handlers read them: whole, in pieces, by line, within max_body.

A server may hand the body over as it arrives, so one read of ``wsgi.input`` can return
less than asked before the end.  ``TricklingInput`` does that on purpose; the live test
does it with httpkit's own server and a body sent in two parts.
"""

from __future__ import annotations

import contextlib
import gc
import io
import socket
import time
import warnings
from typing import Any

import pytest
import webob

from httpkit import Router
from httpkit.testing import live_server

BODY = bytes(range(256)) * 320  # 81,920 bytes: more than WebOb keeps in memory


class TricklingInput:
    """A ``wsgi.input`` whose reads return at most ``step`` bytes, like a socket."""

    def __init__(self, data: bytes, step: int = 1000) -> None:
        self._data = io.BytesIO(data)
        self._step = step
        self.calls = 0

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        limit = self._step if size is None or size < 0 else min(size, self._step)
        return self._data.read(limit)

    def readline(self, size: int = -1) -> bytes:
        limit = self._step if size is None or size < 0 else min(size, self._step)
        return self._data.readline(limit)


def call(router: Router, body: bytes, *, chunked: bool, step: int = 1000) -> webob.Response:
    environ = webob.Request.blank("/up", method="POST").environ
    environ["wsgi.input"] = TricklingInput(body, step)
    if chunked:
        environ.pop("CONTENT_LENGTH", None)
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    response: webob.Response = webob.Request(environ).get_response(router)
    return response


def router_with(handler: Any, max_body: int | None = 1_000_000) -> Router:
    router = Router(max_body=max_body)
    router.add("/up", handler, methods=["POST"])
    return router


@pytest.mark.parametrize(
    ("chunked", "max_body"),
    [(True, 1_000_000), (False, 1_000_000), (False, None)],
    ids=["chunked-limit", "length-limit", "length-no-limit"],
)
def test_read_without_size_returns_the_whole_body(chunked: bool, max_body: int | None) -> None:
    router = router_with(lambda request: request.environ["wsgi.input"].read(), max_body)
    assert call(router, BODY, chunked=chunked).body == BODY


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "length"])
def test_read1_returns_what_has_arrived_and_empty_only_at_the_end(chunked: bool) -> None:
    def pieces(request: Any) -> dict[str, Any]:
        stream = request.environ["wsgi.input"]
        lengths = []
        while piece := stream.read1(30_000):
            lengths.append(len(piece))
        return {"count": len(lengths), "total": sum(lengths), "largest": max(lengths)}

    response = call(router_with(pieces), BODY, chunked=chunked, step=1000)
    assert response.json == {"count": 82, "total": len(BODY), "largest": 1000}


def test_read1_over_the_limit_is_413() -> None:
    def drain(request: Any) -> str:
        while request.environ["wsgi.input"].read1():
            pass
        return "drained"

    assert call(router_with(drain, max_body=50_000), BODY, chunked=True).status_int == 413


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "length"])
@pytest.mark.parametrize("max_body", [None, 1_000_000], ids=["no-limit", "limit"])
def test_request_body_is_the_whole_body(chunked: bool, max_body: int | None) -> None:
    router = router_with(lambda request: request.body, max_body)
    response = call(router, BODY, chunked=chunked)
    assert response.status_int == 200
    assert response.body == BODY


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "length"])
def test_read_with_size_returns_that_many_bytes_until_the_end(chunked: bool) -> None:
    def sizes(request: Any) -> dict[str, list[int]]:
        stream = request.environ["wsgi.input"]
        lengths = []
        while piece := stream.read(30_000):
            lengths.append(len(piece))
        return {"lengths": lengths}

    response = call(router_with(sizes), BODY, chunked=chunked)
    assert response.json == {"lengths": [30_000, 30_000, 21_920]}


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "length"])
def test_readline_and_iteration_give_whole_lines(chunked: bool) -> None:
    lines = [b"%05d " % number + b"x" * 2500 + b"\n" for number in range(20)] + [b"tail"]
    body = b"".join(lines)

    def split(request: Any) -> dict[str, Any]:
        stream = request.environ["wsgi.input"]
        first = stream.readline()
        rest = list(stream)
        return {"first": len(first), "rest": [len(line) for line in rest]}

    response = call(router_with(split), body, chunked=chunked, step=700)
    assert response.json == {"first": 2507, "rest": [2507] * 19 + [4]}


def test_readline_with_size_stops_there() -> None:
    def two(request: Any) -> list[int]:
        stream = request.environ["wsgi.input"]
        return [len(stream.readline(1500)), len(stream.readline())]

    body = b"a" * 2000 + b"\n" + b"b" * 10
    assert call(router_with(two), body, chunked=True, step=300).json == [1500, 501]


def test_readlines_returns_every_line() -> None:
    def count(request: Any) -> dict[str, int]:
        return {"lines": len(request.environ["wsgi.input"].readlines())}

    body = b"line\n" * 3000
    assert call(router_with(count), body, chunked=True).json == {"lines": 3000}


@pytest.mark.parametrize("reader", ["read", "read-sized", "readline", "body"])
def test_trickled_chunked_body_over_the_limit_is_413(reader: str) -> None:
    def consume(request: Any) -> str:
        stream = request.environ["wsgi.input"]
        if reader == "read":
            stream.read()
        elif reader == "read-sized":
            while stream.read(4096):
                pass
        elif reader == "readline":
            for _line in stream:
                pass
        else:
            request.body  # noqa: B018 (reading it is the point)
        return "read it all"

    router = router_with(consume, max_body=len(BODY) - 1)
    assert call(router, BODY, chunked=True).status_int == 413
    router = router_with(consume, max_body=len(BODY))
    assert call(router, BODY, chunked=True).status_int == 200


@pytest.mark.parametrize("max_body", [len(BODY) - 1, len(BODY)], ids=["413", "200"])
def test_request_body_leaves_no_temporary_file_open(max_body: int) -> None:
    # A body larger than WebOb's in-memory limit goes to a temporary file, which must
    # be closed whether the copy finished or the 413 stopped it partway.
    router = router_with(lambda request: str(len(request.body)), max_body)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        response = call(router, BODY, chunked=True)
        expected = 413 if max_body < len(BODY) else 200
        assert response.status_int == expected
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


def send_in_two_parts(port: int, path: str, body: bytes, *, chunked: bool) -> bytes:
    half = len(body) // 2
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % len(body)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(
            b"POST %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n%s\r\n\r\n"
            % (path.encode(), framing)
        )
        for part in (body[:half], body[half:]):
            client.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
            time.sleep(0.05)  # the handler is already reading: let it see a short read
        if chunked:
            client.sendall(b"0\r\n\r\n")
        return b"".join(iter(lambda: client.recv(65536), b""))


def test_live_body_sent_in_parts_reaches_the_handler_whole() -> None:
    router = Router(max_body=1_000_000)
    router.add("/read", lambda r: str(len(r.environ["wsgi.input"].read())), methods=["POST"])
    router.add("/body", lambda r: str(len(r.body)), methods=["POST"])
    with live_server(router, threads=2) as server:
        for path in ("/read", "/body"):
            for chunked in (True, False):
                reply = send_in_two_parts(server.port, path, BODY, chunked=chunked)
                assert reply.startswith(b"HTTP/1.1 200 "), (path, chunked, reply[:200])
                assert reply.endswith(b"\r\n\r\n%d" % len(BODY))


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "length"])
def test_max_body_holds_for_a_form_read_by_method_override(chunked: bool) -> None:
    # The _method field is in the body: reading it must already count against the limit.
    calls: list[str] = []
    router = Router(max_body=100, method_override=True)
    router.add("/up", lambda request: calls.append("put") or "stored", methods=["PUT"])
    form = b"_method=PUT&text=" + b"x" * 200
    environ = webob.Request.blank("/up", method="POST").environ
    environ.update(
        {"wsgi.input": TricklingInput(form), "CONTENT_TYPE": "application/x-www-form-urlencoded"}
    )
    if chunked:
        environ.pop("CONTENT_LENGTH", None)
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(len(form))
    response = webob.Request(environ).get_response(router)
    assert response.status_int == 413
    assert calls == []


@pytest.mark.parametrize("reader", ["read", "read1", "readline", "body"])
def test_body_shorter_than_its_content_length_is_a_400(reader: str) -> None:
    def consume(request: Any) -> str:
        stream = request.environ["wsgi.input"]
        if reader == "body":
            return str(len(request.body))
        while getattr(stream, reader)(4096):
            pass
        return "complete"

    environ = webob.Request.blank("/up", method="POST").environ
    environ["wsgi.input"] = TricklingInput(BODY[:5000])
    environ["CONTENT_LENGTH"] = str(len(BODY))
    response = webob.Request(environ).get_response(router_with(consume))
    assert response.status_int == 400
    assert "shorter than its Content-Length" in response.text


# -- one reader: the router applies its limit to the server's, wraps only other streams ----


def remember_the_stream(app: Any) -> Any:
    """Middleware that keeps the wsgi.input the server gave, for the handler to compare."""

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        environ["test.server_input"] = environ["wsgi.input"]
        return app(environ, start_response)

    return middleware


def same_stream(request: Any) -> str:
    # Compared before request.body, which puts WebOb's copy of the body in wsgi.input.
    stream = request.environ["wsgi.input"]
    given = request.environ["test.server_input"]
    size = len(stream.read())
    return f"same {size}" if stream is given else f"{type(stream).__name__} {size}"


@pytest.mark.parametrize("threads", [0, 2], ids=["inline", "threads"])
def test_on_httpkits_server_the_router_reads_the_servers_own_stream(threads: int) -> None:
    router = Router(max_body=1_000_000)
    router.add("/same", same_stream, methods=["POST"])
    with live_server(remember_the_stream(router), threads=threads) as server:
        for chunked in (True, False):
            reply = send_in_two_parts(server.port, "/same", BODY, chunked=chunked)
            assert reply.startswith(b"HTTP/1.1 200 "), reply[:200]
            assert reply.endswith(b"\r\n\r\nsame %d" % len(BODY))


@pytest.mark.parametrize("threads", [0, 2], ids=["inline", "threads"])
def test_on_httpkits_server_a_chunked_body_over_max_body_is_a_413(threads: int) -> None:
    router = Router(max_body=len(BODY) - 1)
    router.add("/read", lambda r: str(len(r.environ["wsgi.input"].read())), methods=["POST"])
    with live_server(router, threads=threads) as server:
        reply = send_in_two_parts(server.port, "/read", BODY, chunked=True)
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    assert b"larger than %d bytes" % (len(BODY) - 1) in reply


def test_the_servers_own_body_limit_reaches_the_client_through_the_router() -> None:
    # The server's stream raises its ProtocolError (413) on the read that goes past
    # its max_body: the router answers with that status, not with a 500.
    router = Router()
    router.add("/read", lambda r: str(len(r.environ["wsgi.input"].read())), methods=["POST"])
    with (
        live_server(router, threads=2, max_body=len(BODY) * 3 // 4) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as client,
    ):
        client.sendall(b"POST /read HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n")
        half = len(BODY) // 2
        for part in (BODY[:half], BODY[half:]):
            time.sleep(0.05)  # the handler is already reading
            with contextlib.suppress(OSError):  # the server may close once it answered
                client.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        reply = client.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]


def test_a_mounted_router_lowers_the_limit_without_wrapping_again() -> None:
    inner = Router(max_body=100)
    inner.add("/same", same_stream, methods=["POST"])
    outer = Router(max_body=1_000_000)
    outer.mount("/inner", remember_the_stream(inner))

    def post(path: str, size: int) -> webob.Response:
        environ = webob.Request.blank(path, method="POST").environ
        environ.pop("CONTENT_LENGTH", None)
        environ.update(
            {
                "wsgi.input": TricklingInput(b"x" * size),
                "HTTP_TRANSFER_ENCODING": "chunked",
                "wsgi.input_terminated": True,
            }
        )
        response: webob.Response = webob.Request(environ).get_response(outer)
        return response

    assert post("/inner/same", 100).text == "same 100"  # the outer router's reader, reused
    assert post("/inner/same", 101).status_int == 413
    assert post("/inner/same", 5000).status_int == 413


def test_an_error_handler_for_413_answers_a_body_over_the_limit() -> None:
    router = router_with(lambda request: request.body, max_body=1000)

    @router.error_handler(413)
    def too_large(request: Any, error: Any) -> dict[str, Any]:
        return {"refused": error.code, "detail": error.detail}

    response = call(router, BODY, chunked=True)
    assert response.status_int == 413
    assert response.json == {
        "refused": 413,
        "detail": "The request body is larger than 1000 bytes.",
    }


def test_under_another_server_a_body_of_announced_length_is_read_as_a_file() -> None:
    # The stream of another server (here one that returns short reads) is wrapped.
    def identify(request: Any) -> str:
        stream = request.environ["wsgi.input"]
        return f"{type(stream).__name__} {len(stream.read())}"

    response = call(router_with(identify, max_body=None), BODY, chunked=False, step=700)
    assert response.text == f"BodyReader {len(BODY)}"
    # Without max_body a chunked body is the server's stream as it is.
    response = call(router_with(identify, max_body=None), BODY, chunked=True)
    assert response.text.startswith("TricklingInput ")
