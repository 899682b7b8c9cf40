"""Shared by tests/server and tests/wsgi: a live server in both execution modes, raw clients."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

import httpkit
from httpkit.testing import LiveServer, live_server

Serve = Callable[..., AbstractContextManager[LiveServer]]


@pytest.fixture(params=[0, 4], ids=["inline", "threads"])
def threads(request: pytest.FixtureRequest) -> int:
    """Every test that takes this runs once per execution mode."""
    value: int = request.param
    return value


@pytest.fixture
def serve(threads: int) -> Serve:
    """serve(app, **settings) -> a live server context, in the test's execution mode."""

    def start(app: Any, **settings: Any) -> AbstractContextManager[LiveServer]:
        settings.setdefault("threads", threads)
        # An unread body is discarded for this long before closing: long enough for a
        # loopback client to read its response, short enough not to slow the suite.
        settings.setdefault("linger_timeout", 0.3)
        return live_server(app, **settings)

    return start


class RawClient:
    """A socket that reads HTTP/1.1 responses one at a time (pipelining-aware)."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            if not self._fill():
                raise EOFError(f"connection closed before {marker!r}: {self.buffer!r}")
        index = self.buffer.index(marker) + len(marker)
        data, self.buffer = self.buffer[:index], self.buffer[index:]
        return data

    def read_exactly(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not self._fill():
                raise EOFError("connection closed in the middle of a body")
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_response(self, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
        """(status, headers with lower-case names, body), for any framing."""
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.lower()] = value.strip()
        if head_only or status in (100, 204, 304) or status < 200:
            return status, headers, b""
        if headers.get("transfer-encoding") == "chunked":
            return status, headers, self._read_chunked()
        if "content-length" in headers:
            return status, headers, self.read_exactly(int(headers["content-length"]))
        return status, headers, self.read_to_close()

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            size = int(self.read_until(b"\r\n").strip(), 16)
            if size == 0:
                self.read_until(b"\r\n")
                return body
            body += self.read_exactly(size)
            self.read_until(b"\r\n")

    def read_to_close(self) -> bytes:
        while self._fill():
            pass
        data, self.buffer = self.buffer, b""
        return data

    def is_closed(self, wait: float = 2.0) -> bool:
        """True if the server closed the connection (EOF or reset) within ``wait`` s."""
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_client() -> Iterator[Callable[[int], RawClient]]:
    clients: list[RawClient] = []

    def connect(port: int) -> RawClient:
        client = RawClient(port)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


def hello_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = b"Hello, world!"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [body]


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with the method, path and the request body it read."""
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [
        environ["REQUEST_METHOD"].encode() + b" " + environ["PATH_INFO"].encode() + b" " + body
    ]


class ServerProcess:
    """``python -m httpkit serve ...`` in a subprocess, on a free port."""

    def __init__(self, args: list[str], cwd: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "httpkit", "serve", "--port", "0", *args],
            cwd=cwd,
            # The child imports the httpkit under test, as this process does, whatever
            # copy an editable install points to.
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        assert self.process.stderr is not None
        for _ in range(50):  # the banner is among the first lines
            line = self.process.stderr.readline()
            if not line:
                break
            match = re.search(r"serving on (http://\S+)", line)
            if match:
                return match.group(1)
        self.process.kill()
        raise RuntimeError(f"the server did not start: {self.process.communicate()}")

    def stop(self) -> int:
        """SIGTERM, then the exit status (the server must stop within 10 s)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.communicate(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        return self.process.returncode


@contextlib.contextmanager
def server_process(
    args: list[str], cwd: str, env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    process = ServerProcess(args, cwd, env)
    try:
        yield process
    finally:
        assert process.stop() == 0


def same_httpkit_env() -> dict[str, str]:
    """An environment whose ``python -m httpkit`` is the httpkit these tests import (the
    tree under test), whatever the subprocess's working directory or installed copy."""
    root = str(Path(httpkit.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": root + os.pathsep + path if path else root}


class LoggedServerProcess:
    """``python -m httpkit serve ...`` with stderr in a file: a server that logs a lot never
    blocks on a full pipe, and :attr:`stderr` shows what it wrote so far.  It runs the
    httpkit these tests import."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = cwd / f"server-{time.monotonic_ns()}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "httpkit", "serve", "--port", "0", *args],
                cwd=cwd,
                env={**os.environ, **same_httpkit_env(), **(env or {})},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.port = self._wait_for_port()

    @property
    def stderr(self) -> str:
        return self.log_path.read_text()

    def _wait_for_port(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"serving on http://[^\s:]+:(\d+)", self.stderr)
            if match:
                return int(match.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"the server did not start:\n{self.stderr}")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then the exit status (killed if it has not stopped within ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@contextlib.contextmanager
def logged_server_process(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> Iterator[LoggedServerProcess]:
    """The server while the block runs; killed after it if the test did not stop it."""
    process = LoggedServerProcess(args, cwd, env)
    try:
        yield process
    finally:
        process.kill()
