"""An application that raises anything at all: the client gets an answer, the server lives on.

``SystemExit``, ``KeyboardInterrupt`` and other ``BaseException`` subclasses are no
different from an ``Exception`` for the server: a 500 if nothing was sent, a cut
connection if the head went out; and the next connection is served.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from server_helpers import RawClient, Serve, hello_app

from httpkit.testing import live_server


class AppAbortError(BaseException):
    """An application's own BaseException subclass (e.g. gevent's GreenletExit)."""


RAISED = [SystemExit, KeyboardInterrupt, AppAbortError]
RAISED_IDS = ["SystemExit", "KeyboardInterrupt", "custom-BaseException"]


def raising_app(error: type[BaseException]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/ok":
            return hello_app(environ, start_response)
        raise error()

    return app


def streaming_then_raising_app(error: type[BaseException]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        if environ["PATH_INFO"] == "/ok":
            yield from hello_app(environ, start_response)
            return
        start_response("200 OK", [("Content-Type", "text/plain")])  # chunked
        yield b"first piece"
        raise error()

    return app


def get(port: int, path: str) -> RawClient:
    # An answer on loopback takes milliseconds: wait 2 s at most for one.
    client = RawClient(port, timeout=2)
    client.send(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return client


def assert_still_serving(port: int) -> None:
    client = get(port, "/ok")
    status, _, body = client.read_response()
    client.close()
    assert (status, body) == (200, b"Hello, world!")


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("error", RAISED, ids=RAISED_IDS)
def test_base_exception_from_the_app_is_a_500_and_the_server_lives_on(
    serve: Serve, loop: str, error: type[BaseException]
) -> None:
    with serve(raising_app(error), loop=loop, grace=0.2) as server:
        client = get(server.port, "/fail")
        status, _, _ = client.read_response()
        client.close()
        assert status == 500
        assert_still_serving(server.port)


@pytest.mark.parametrize("error", RAISED, ids=RAISED_IDS)
def test_base_exception_from_the_app_frees_its_connection_slot(error: type[BaseException]) -> None:
    with live_server(raising_app(error), threads=4, max_connections=1, grace=0.2) as server:
        client = get(server.port, "/fail")
        status, _, _ = client.read_response()
        client.close()
        assert status == 500
        assert_still_serving(server.port)  # the one slot was given back


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("error", RAISED, ids=RAISED_IDS)
def test_base_exception_after_the_head_went_out_cuts_the_connection(
    serve: Serve, loop: str, error: type[BaseException]
) -> None:
    with serve(streaming_then_raising_app(error), loop=loop, grace=0.2) as server:
        client = get(server.port, "/fail")
        status, headers, _ = client.read_response(head_only=True)
        assert (status, headers["transfer-encoding"]) == (200, "chunked")
        client.sock.settimeout(2)
        try:
            while client._fill():
                pass
        except ConnectionResetError:
            pass
        except TimeoutError:
            pytest.fail(f"the connection stayed open after {client.buffer!r}")
        client.close()
        assert b"first piece" in client.buffer
        assert not client.buffer.endswith(b"0\r\n\r\n")  # cut, not ended as if complete
        assert_still_serving(server.port)
