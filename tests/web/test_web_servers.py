"""The same Router served by httpkit, gunicorn and waitress answers the same way.

Each server runs the app in tests/web/live_app.py on 127.0.0.1 port 0: httpkit's in
this process (httpkit.testing.live_server), gunicorn and waitress as real processes whose
port is read from their own log line.  The in-process WSGI call (WebTest) is the reference.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from webtest import TestApp

from httpkit.testing import live_server

HERE = os.path.dirname(os.path.abspath(__file__))
STARTUP_SECONDS = 20.0
# Headers whose values must agree across servers (Date, Server... legitimately differ).
COMPARED_HEADERS = ("content-type", "allow", "etag", "content-range", "location")

# (method, path, request headers, body)
REQUESTS: list[tuple[str, str, dict[str, str], bytes]] = [
    ("GET", "/entries/5", {}, b""),
    ("HEAD", "/entries/5", {}, b""),
    ("GET", "/entries/5", {"If-None-Match": '"entry-5-v1"'}, b""),
    ("PUT", "/entries/5", {"If-Match": '"stale"'}, b"data"),
    ("PUT", "/entries/5", {"If-Match": '"entry-5-v1"'}, b"data"),
    ("POST", "/entries/5", {"Accept": "application/json"}, b""),
    ("OPTIONS", "/entries/5", {}, b""),
    ("GET", "/nowhere", {"Accept": "application/json"}, b""),
    ("GET", "/hello/w%C3%B6rld", {}, b""),
    ("GET", "/numbers/50", {}, b""),
    ("GET", "/static/data.txt", {"Range": "bytes=2-5"}, b""),
    ("POST", "/limited/lines", {"Accept": "application/json"}, b"line\n" * 800),
    ("POST", "/limited/lines", {"Accept": "application/json"}, b"line\n" * 1000),
]

SERVERS = {
    "gunicorn": [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        "1",
        "live_app:app",
    ],
    "waitress": [
        sys.executable,
        "-m",
        "waitress",
        "--listen=127.0.0.1:0",
        "--threads=2",
        "live_app:app",
    ],
}
PORT_IN_LOG = re.compile(rb"(?:Listening at:|Serving on) http://127\.0\.0\.1:(\d+)")


@pytest.fixture(scope="module", params=["httpkit", *sorted(SERVERS)])
def server_port(request: pytest.FixtureRequest) -> Iterator[int]:
    if request.param == "httpkit":
        with live_server(_load_app(), threads=2) as server:
            yield server.port
        return
    process = subprocess.Popen(
        SERVERS[request.param],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([HERE, *sys.path])},
    )
    try:
        yield _wait_for_port(process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def _wait_for_port(process: subprocess.Popen[bytes]) -> int:
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    deadline = time.monotonic() + STARTUP_SECONDS
    log = b""
    while (remaining := deadline - time.monotonic()) > 0:
        # select() bounds the wait: a silent server must not hang the suite.
        readable, _, _ = select.select([descriptor], [], [], remaining)
        if not readable:
            break
        data = os.read(descriptor, 4096)
        if not data:
            break  # the server exited
        log += data
        found = PORT_IN_LOG.search(log)
        if found:
            return int(found.group(1))
    raise RuntimeError(f"the server did not start: {log.decode(errors='replace')}")


def _normalize(status: int, headers: dict[str, str], body: bytes) -> tuple[Any, ...]:
    kept = tuple((name, headers[name]) for name in COMPARED_HEADERS if name in headers)
    return status, kept, body


def _over_http(port: int, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        content = response.read()
        received = {name.lower(): value for name, value in response.getheaders()}
        return _normalize(response.status, received, content)
    finally:
        connection.close()


def _load_app() -> Any:
    sys.path.insert(0, HERE)
    try:
        from live_app import app  # noqa: PLC0415 (importable only with HERE on sys.path)
    finally:
        sys.path.remove(HERE)
    return app


def _in_process(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
    response = TestApp(_load_app()).request(
        path, method=method, headers=headers, body=body, expect_errors=True
    )
    received = {name.lower(): value for name, value in response.headerlist}
    return _normalize(response.status_int, received, response.body)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "headers", "body"), REQUESTS)
def test_server_answers_like_the_in_process_call(
    server_port: int, method: str, path: str, headers: dict[str, str], body: bytes
) -> None:
    over_http = _over_http(server_port, method, path, headers, body)
    assert over_http == _in_process(method, path, headers, body)
    assert over_http[0] in (200, 204, 206, 304, 404, 405, 412, 413)


@pytest.mark.slow
@pytest.mark.parametrize(("lines", "status"), [(800, 200), (1000, 413)])
def test_a_chunked_body_is_read_as_a_file_within_max_body(
    server_port: int, lines: int, status: int
) -> None:
    # Each server hands a chunked body over its own way (streamed, or buffered with a
    # Content-Length added): the router reads it line by line and counts it all the same.
    connection = http.client.HTTPConnection("127.0.0.1", server_port, timeout=10)
    try:
        half = b"line\n" * (lines // 2)
        connection.request("POST", "/limited/lines", body=iter([half, half]))
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    assert response.status == status, content
    if status == 200:
        assert json.loads(content) == {"lines": lines, "bytes": 5 * lines}
