"""Servers as real processes: started on a free port, stopped and checked gone.

The server used is bench/apps/canned.py (the asyncio ceiling), which also gets its own
check: it must answer pipelined requests in order, one answer per request.
"""

from __future__ import annotations

import os
import socket
import sys
import time

import pytest
from harness.processes import ServerProcess, StartError, free_port, port_answers
from harness.servers import APPS_DIR, ASGI_SERVERS, SERVERS, server_env


def canned(port: int) -> ServerProcess:
    command = [sys.executable, os.path.join(APPS_DIR, "canned.py"), "--port", str(port)]
    return ServerProcess(command, port, start_seconds=15, stop_seconds=5)


def read_answers(sock: socket.socket, count: int) -> bytes:
    data = b""
    deadline = time.monotonic() + 5
    while data.count(b"Hello, world!") < count and time.monotonic() < deadline:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    return data


def test_server_is_reachable_while_running_and_gone_after() -> None:
    port = free_port()
    with canned(port) as server:
        assert port_answers(port)
        current = server.memory_kib()
        assert current > 1024  # a Python process holds megabytes
        # The peak only grows, so read after the current size it can never be smaller.
        assert server.memory_kib(peak=True) >= current
        pid = server.pid
    assert not port_answers(port)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped


def test_canned_server_answers_pipelined_requests_in_order_then_closes() -> None:
    port = free_port()
    request = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    closing = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    with canned(port), socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request * 3 + closing)
        data = read_answers(sock, 4)
        assert data.count(b"HTTP/1.1 200 OK\r\n") == 4
        assert data.endswith(b"Connection: close\r\n\r\nHello, world!")
        assert sock.recv(10) == b""  # it closed after the last answer


def test_a_server_that_exits_at_once_is_a_start_error_with_its_output() -> None:
    port = free_port()
    command = [sys.executable, "-c", "import sys; print('no such app'); sys.exit(3)"]
    with pytest.raises(StartError, match="no such app"), ServerProcess(command, port):
        pass


def test_every_server_command_listens_on_loopback_at_the_port_given() -> None:
    for spec in [*SERVERS.values(), *ASGI_SERVERS.values()]:
        argv = spec.argv("hello:app", 4321, spec.idle_options)
        joined = " ".join(argv)
        assert "4321" in joined, spec.name
        assert "0.0.0.0" not in joined, spec.name
        if spec.name != "asyncio-canned":  # it binds 127.0.0.1 itself
            assert "127.0.0.1" in joined, spec.name


def test_server_env_makes_the_bench_apps_importable() -> None:
    assert server_env()["PYTHONPATH"].split(os.pathsep)[0] == APPS_DIR
