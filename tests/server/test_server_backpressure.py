"""Flow control both ways, under pressure: memory stays bounded and nothing hangs.

* a request body streamed to a worker thread: the socket is paused when the app lags
  and resumed when it has read; however the threads interleave, the upload completes;
* pipelined requests for whole (list) bodies: a client that sends many and reads none
  must not make the server hold every response in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_helpers import logged_server_process

from httpkit.testing import live_server

# -- streamed uploads in thread mode ----------------------------------------------------

UPLOADS = 200
UPLOAD_SIZE = 300_000  # above the 256 KiB at which the loop stops reading the socket
UPLOADS_DEADLINE = 30.0  # seconds for all of them (each takes milliseconds)


def digest_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Reads the body in small pieces; answers with its length and SHA-256."""
    stream = environ["wsgi.input"]
    digest = hashlib.sha256()
    size = 0
    while piece := stream.read(8192):
        size += len(piece)
        digest.update(piece)
    body = f"{size} {digest.hexdigest()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def busy_interpreter() -> Iterator[None]:
    """Threads switch as often as the interpreter allows: races show up at once."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def in_pieces(data: bytes, size: int = 16384) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.usefixtures("busy_interpreter")
def test_streamed_uploads_to_worker_threads_never_hang() -> None:
    payload = os.urandom(UPLOAD_SIZE)
    expected = f"{UPLOAD_SIZE} {hashlib.sha256(payload).hexdigest()}".encode()
    with live_server(digest_app, threads=4, grace=0.5) as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
        deadline = time.monotonic() + UPLOADS_DEADLINE
        for index in range(UPLOADS):
            if time.monotonic() > deadline:
                pytest.fail(f"only {index} of {UPLOADS} uploads in {UPLOADS_DEADLINE} s")
            chunked = index % 2 == 1
            try:
                if chunked:
                    connection.request("POST", "/", in_pieces(payload), encode_chunked=True)
                else:
                    connection.request("POST", "/", payload)
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as error:
                kind = "chunked" if chunked else "Content-Length"
                pytest.fail(f"upload {index} ({kind}) did not complete: {error!r}")
            assert (response.status, answer) == (200, expected), index
        connection.close()


# -- pipelined requests for whole bodies, never read -----------------------------------

PAGE_APP = """
PAGES = {}

def app(environ, start_response):
    size = int(environ["QUERY_STRING"])
    page = PAGES.setdefault(size, b"x" * size)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(size))])
    return [page]
"""

RSS_GROWTH_LIMIT = 64 << 20


def rss(pid: int) -> int:
    """The process's resident set size in bytes (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/PID/status")


def fetch(port: int, size: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", f"/?{size}")
    assert len(connection.getresponse().read()) == size
    connection.close()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("mode", [["--threads", "0"], []], ids=["inline", "threads"])
@pytest.mark.parametrize(
    ("requests", "size"), [(300, 1 << 20), (3000, 100_000)], ids=["300x1MiB", "3000x100kB"]
)
def test_pipelined_requests_never_read_keep_memory_bounded(
    tmp_path: Path, mode: list[str], requests: int, size: int
) -> None:
    (tmp_path / "pages.py").write_text(PAGE_APP)
    args = ["pages:app", "--graceful-timeout", "1", *mode]
    with logged_server_process(args, tmp_path) as server:
        pid = server.process.pid
        fetch(server.port, size)  # the page exists and the server is warm
        before = rss(pid)
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(("127.0.0.1", server.port))
        client.settimeout(0.5)
        request = f"GET /?{size} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        # A server that stops reading (back-pressure on requests too) is fine: the
        # requests it never took are not sent.
        with contextlib.suppress(TimeoutError):
            client.sendall(request * requests)
        peak = before
        until = time.monotonic() + 0.6
        while time.monotonic() < until:
            peak = max(peak, rss(pid))
            time.sleep(0.05)
        growth = peak - before
        # Unread bytes make the close a reset: the server drops the connection at once.
        client.close()
        fetch(server.port, size)  # still serving
        assert server.stop() == 0, server.stderr
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth >> 20} MiB"
