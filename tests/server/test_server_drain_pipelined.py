"""A stop answers the requests a client already pipelined behind the one in progress.

They are on the wire already: closing after the first response would make the client
resend them (RFC 9112 9.3.2 allows it, but nothing is gained).  The last one answered
says ``Connection: close``; the stop still ends within its graceful timeout.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

import httpkit


class SlowFirst:
    """``/slow`` waits until released; every other path answers at once."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path == "/slow":
            self.entered.set()
            self.release.wait(10)
        body = path.encode()
        start_response(
            "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        )
        return [body]


def read_responses(sock: socket.socket) -> list[tuple[bytes, bytes]]:
    """(head, body) of each response until the server closes."""
    data = b""
    sock.settimeout(10)
    while chunk := sock.recv(65536):
        data += chunk
    responses = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        responses.append((head, rest[:length]))
        data = rest[length:]
    return responses


@pytest.mark.parametrize("threads", [2, 0], ids=["threads", "inline"])
def test_requests_pipelined_behind_one_in_progress_are_answered_on_a_stop(threads: int) -> None:
    app = SlowFirst()
    server = httpkit.BackgroundServer(app, port=0, threads=threads, graceful_timeout=5)
    server.start()
    try:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /three HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        if threads:
            assert app.entered.wait(5)
        else:
            time.sleep(0.3)  # the loop has read all three (the first waits there)
        stopping = threading.Thread(target=server.stop)
        started = time.monotonic()
        stopping.start()
        time.sleep(0.2)  # the stop has begun
        app.release.set()
        responses = read_responses(sock)
        stopping.join(10)
        took = time.monotonic() - started
        sock.close()
    finally:
        app.release.set()
        server.stop()
    assert [body for _, body in responses] == [b"/slow", b"/two", b"/three"]
    *earlier, (last_head, _) = responses
    assert all(b"connection: close" not in head.lower() for head, _ in earlier)
    assert b"connection: close" in last_head.lower()
    assert took < 4.0  # well within the graceful timeout
