"""SIGTERM/SIGINT drain the server: in-flight requests finish, nothing is half-written."""

from __future__ import annotations

import contextlib
import http.client
import signal
import socket
import threading
import time
from collections import Counter

import pytest
from deploy_helpers import HttpkitProcess

REQUESTS = 100
CLIENTS = 10


def _client(port: int, jobs: list[int], outcomes: Counter[str], lock: threading.Lock) -> None:
    """Sends requests on keep-alive connections until ``jobs`` is empty."""
    conn: http.client.HTTPConnection | None = None
    while True:
        with lock:
            if not jobs:
                break
            jobs.pop()
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        outcome = _one_request(conn)
        if outcome != "complete":
            conn.close()
            conn = None
        with lock:
            outcomes[outcome] += 1
    if conn is not None:
        conn.close()


def _one_request(conn: http.client.HTTPConnection) -> str:
    try:
        conn.request("GET", "/slow?0.2")
    except OSError:
        return "refused"  # never accepted: connection refused or reset on sending
    try:
        response = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return "refused"  # closed before any byte of a response: not accepted
    try:
        body = response.read()
    except (http.client.IncompleteRead, OSError):
        return "half-written"
    if response.status != 200 or not body.startswith(b"pid="):
        return "half-written"
    if response.getheader("Connection") == "close":
        return "complete-closing"
    return "complete"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_mid_way_every_accepted_request_gets_its_full_response(
    httpkit: type[HttpkitProcess], signum: int
) -> None:
    server = httpkit("--threads", "8")
    jobs = list(range(REQUESTS))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    clients = [
        threading.Thread(target=_client, args=(server.port, jobs, outcomes, lock))
        for _ in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    deadline = time.monotonic() + 10
    while sum(outcomes.values()) < REQUESTS // 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    served_before_signal = sum(outcomes.values())
    server.signal(signum)
    for client in clients:
        client.join(20)
    assert server.process.wait(15) == 0
    assert outcomes["half-written"] == 0
    assert sum(outcomes.values()) == REQUESTS
    # The requests in progress when the signal came were finished, and told to close.
    assert outcomes["complete-closing"] >= 1
    assert outcomes["complete"] + outcomes["complete-closing"] > served_before_signal
    assert outcomes["refused"] >= 1  # and the server stopped accepting


def test_graceful_timeout_bounds_the_wait(httpkit: type[HttpkitProcess]) -> None:
    server = httpkit("--threads", "2", "--graceful-timeout", "0.5")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/slow?30")
    time.sleep(0.2)
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.process.wait(10) == 0
    assert time.monotonic() - started < 4
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    assert "graceful timeout: cutting 1 connections" in server.stderr


def test_idle_keepalive_connections_are_closed_after_the_drain_grace(
    httpkit: type[HttpkitProcess],
) -> None:
    server = httpkit("--keepalive-timeout", "60", "--drain-grace", "0.2")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/")
    assert conn.getresponse().read().startswith(b"pid=")
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.process.wait(10) == 0, server.stderr
    assert time.monotonic() - started < 5, server.stderr  # the grace, not the 60 s keep-alive
    assert conn.sock is not None
    with contextlib.suppress(ConnectionResetError):  # a reset is closed as well
        assert conn.sock.recv(1) == b""


def test_sighup_without_workers_is_ignored_with_a_warning(httpkit: type[HttpkitProcess]) -> None:
    server = httpkit()
    server.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "SIGHUP ignored" not in server.stderr and time.monotonic() < deadline:
        time.sleep(0.05)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/")
    assert conn.getresponse().status == 200
    conn.close()
    assert "SIGHUP ignored" in server.stderr
    assert server.stop() == 0


def test_a_silent_new_connection_does_not_hold_up_the_stop(
    httpkit: type[HttpkitProcess],
) -> None:
    server = httpkit("--keepalive-timeout", "60")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as silent:
        time.sleep(0.1)
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.process.wait(10) == 0
        assert time.monotonic() - started < 4, server.stderr
        with contextlib.suppress(ConnectionResetError):
            assert silent.recv(1) == b""


def test_a_second_signal_stops_at_once(httpkit: type[HttpkitProcess]) -> None:
    server = httpkit("--threads", "2")  # graceful_timeout: the default 30 s
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/slow?20")
    time.sleep(0.2)
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    time.sleep(1.2)  # past the window in which a repeat is the same stop delivered twice
    server.signal(signal.SIGINT)
    assert server.process.wait(10) == 0
    assert time.monotonic() - started < 5
    assert "second stop signal: cutting 1 connections now" in server.stderr


def test_the_same_stop_delivered_twice_still_drains(httpkit: type[HttpkitProcess]) -> None:
    # A parent that forwards the SIGINT of a Ctrl-C as SIGTERM to a child that got the
    # SIGINT too: the child sees two signals a moment apart, and must not cut.
    server = httpkit("--threads", "2")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/slow?1")
    time.sleep(0.2)
    server.signal(signal.SIGINT)
    time.sleep(0.1)
    server.signal(signal.SIGTERM)
    response = conn.getresponse()
    assert response.status == 200 and response.read().startswith(b"pid=")
    assert server.process.wait(10) == 0
    assert "cutting" not in server.stderr
