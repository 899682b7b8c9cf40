"""Clients that abort a streamed download leave the server's log quiet.

Inline (``threads=0``) the body is pulled from the event loop's write callbacks; a
client that resets the connection mid-stream must end the stream quietly, with no
"Exception in callback" traceback from the loop, on uvloop and on asyncio's own loop.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

import pytest
from server_helpers import logged_server_process

ENDLESS_APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    piece = b"d" * 65536
    while True:
        yield piece
"""

ABORTS = 20


def abort_a_download(port: int) -> None:
    """Read a little of an endless download, then reset the connection (SO_LINGER 0)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /download HTTP/1.1\r\nHost: x\r\n\r\n")
    received = 0
    while received < 200_000:
        data = sock.recv(65536)
        assert data, "the server closed the download"
        received += len(data)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.mark.parametrize("loop", ["auto", "asyncio"])
def test_aborted_inline_downloads_log_no_traceback(tmp_path: Path, loop: str) -> None:
    (tmp_path / "endless.py").write_text(ENDLESS_APP)
    with logged_server_process(
        ["endless:app", "--threads", "0", "--loop", loop], tmp_path
    ) as server:
        for _ in range(ABORTS):
            abort_a_download(server.port)
        # Still serving: one more download starts.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET /download HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert server.stop() == 0
        stderr = server.stderr
    assert "Exception in callback" not in stderr, stderr
    assert "Traceback" not in stderr, stderr


SLOW_APP = """
import time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/download":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return iter(lambda: b"d" * 65536, None)  # endless
    time.sleep(0.5)  # the client has gone by then
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"too late"]
"""


def access_lines(stderr: str, target: str) -> list[str]:
    return [line for line in stderr.splitlines() if f'"GET {target} HTTP/1.1"' in line]


@pytest.mark.parametrize("threads", ["0", "2"])
def test_a_response_the_client_abandons_is_logged(tmp_path: Path, threads: str) -> None:
    """Apache logs every request, finished or not: a download cut by its client shows
    its status and the bytes that went out; a client gone before the response started
    shows 499 (nginx's "client closed request") and no bytes."""
    (tmp_path / "slow.py").write_text(SLOW_APP)
    with logged_server_process(["slow:app", "--threads", threads], tmp_path) as server:
        abort_a_download(server.port)
        if threads != "0":  # inline, the sleeping app would hold the loop: threads only
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
                time.sleep(0.1)  # the request is in: the app is sleeping on it
                # A reset, not a half-close: a half-closed client may still read an answer.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            time.sleep(0.6)  # the app's answer goes nowhere; only then the log is final
        assert server.stop() == 0
        stderr = server.stderr
    (download,) = access_lines(stderr, "/download")
    status, sent = download.rsplit(" ", 2)[-2:]
    assert status == "200" and int(sent) >= 200_000, download
    if threads != "0":
        (slow,) = access_lines(stderr, "/slow")
        assert slow.endswith(" 499 -"), slow
