"""The Prometheus endpoint (metrics_bind): exact figures, one process and --workers 2."""

from __future__ import annotations

import http.client
import re
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from deploy_helpers import HttpkitProcess, fields

from httpkit.config import Settings
from httpkit.errors import ConfigError
from httpkit.testing import live_server

parser = pytest.importorskip("prometheus_client.parser", reason="the metrics extra")

GET = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
BAD = b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n"
Start = Callable[..., HttpkitProcess]


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Length", "5")])
    return [b"hello"]


def scrape(address: str, path: str = "/metrics", accept: str = "") -> tuple[int, str, str]:
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", path, headers={"Accept": accept} if accept else {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        conn.close()


def samples(text: str) -> dict[str, float]:
    """Every sample as "name{label=value}" -> value."""
    found = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while piece := sock.recv(65536):
            received += piece
        return received


def until(address: str, check: Callable[[dict[str, float]], bool]) -> dict[str, float]:
    deadline = time.monotonic() + 10
    while True:
        found = samples(scrape(address)[2])
        if check(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_metrics_endpoint_reports_exact_figures() -> None:
    with live_server(hello, threads=3, metrics_bind="127.0.0.1:0") as live:
        assert live.server.metrics is not None
        host, port = live.server.metrics.addresses[0]
        address = f"{host}:{port}"
        status, content_type, text = scrape(address)
        assert (status, content_type) == (200, "text/plain; version=0.0.4; charset=utf-8")
        assert samples(text)["httpkit_requests_total"] == 0
        received = [exchange(live.port, GET) for _ in range(5)]
        received.append(exchange(live.port, BAD))
        found = until(address, lambda s: s["httpkit_connections_open"] == 0)
        assert live.server.stats().requests_total == 6  # the scrapes are not counted
    assert found["httpkit_requests_total"] == 6
    assert found["httpkit_server_responses_total{status=400}"] == 1
    assert found["httpkit_connections_accepted_total"] == 6
    assert found["httpkit_received_bytes_total"] == 5 * len(GET) + len(BAD)
    assert found["httpkit_sent_bytes_total"] == sum(map(len, received))
    assert (found["httpkit_threads"], found["httpkit_threads_busy"]) == (3, 0)
    assert found["httpkit_requests_pending"] == 0


def test_metrics_endpoint_paths_and_openmetrics() -> None:
    with live_server(hello, metrics_bind="127.0.0.1:0") as live:
        assert live.server.metrics is not None
        host, port = live.server.metrics.addresses[0]
        address = f"{host}:{port}"
        assert scrape(address, "/")[0] == 404
        status, content_type, text = scrape(address, accept="application/openmetrics-text")
    assert status == 200
    assert content_type.startswith("application/openmetrics-text")
    assert text.endswith("# EOF\n")


@pytest.mark.parametrize(
    ("value", "message"),
    [("9100", "expected HOST:PORT"), ("::1:9100", "expected HOST:PORT"), ("a b:1", "not an IP")],
)
def test_bad_metrics_bind_is_refused(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"metrics_bind: .*{message}"):
        Settings(metrics_bind=value)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_metrics_port_in_use_is_a_one_line_error(httpkit: Start, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"metrics_bind: cannot listen on 127.0.0.1:{port}"):
            httpkit("--workers", workers, "--metrics-bind", f"127.0.0.1:{port}")


def metrics_address(server: HttpkitProcess) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = re.findall(r"metrics on http://(\S+)/metrics", server.stderr)
        if found:
            return str(found[0])
        time.sleep(0.05)
    raise AssertionError(f"no metrics line:\n{server.stderr}")


SLOW = b"GET /slow?0.1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def concurrent_answers(port: int, count: int) -> list[bytes]:
    """``count`` concurrent slow requests (an inline worker that is busy does not accept,
    so the other worker gets connections too)."""
    answers: list[bytes] = []
    clients = [
        threading.Thread(target=lambda: answers.append(exchange(port, SLOW))) for _ in range(count)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join(10)
    assert len(answers) == count
    return answers


def pid_of(answer: bytes) -> str:
    return fields(answer.partition(b"\r\n\r\n")[2])["pid"]


@pytest.mark.slow
def test_workers_add_up_and_a_replaced_worker_keeps_counting(httpkit: Start) -> None:
    server = httpkit("--workers", "2", "--threads", "0", "--metrics-bind", "127.0.0.1:0")
    address = metrics_address(server)
    answers: list[bytes] = []
    for _ in range(5):
        answers += concurrent_answers(server.port, 8)
        if len({pid_of(answer) for answer in answers}) == 2:
            break
    pids = {pid_of(answer) for answer in answers}
    assert len(pids) == 2, "both workers served"
    bad = exchange(server.port, BAD)
    assert bad.startswith(b"HTTP/1.1 400")
    requests = len(answers) + 1
    sent = len(answers) * len(SLOW) + len(BAD)
    received = sum(map(len, answers)) + len(bad)

    def settled(found: dict[str, float]) -> bool:
        done = found["httpkit_requests_total"] == requests
        return done and not found["httpkit_connections_open"]

    for _ in range(3):  # a few times: the scrapes land on either worker
        found = until(address, settled)
        assert found["httpkit_requests_total"] == requests
        assert found["httpkit_server_responses_total{status=400}"] == 1
        assert found["httpkit_connections_accepted_total"] == requests
        assert found["httpkit_received_bytes_total"] == sent
        assert found["httpkit_sent_bytes_total"] == received
    # SIGHUP replaces both workers: their counts stay in the totals.
    server.signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    later: list[bytes] = []
    while time.monotonic() < deadline:  # until both old workers have left
        later.append(exchange(server.port, GET))
        if pid_of(later[-1]) not in pids and server.stderr.count("replaced by") == 2:
            break
        time.sleep(0.05)
    assert pid_of(later[-1]) not in pids
    requests += len(later)
    found = until(address, lambda s: s["httpkit_requests_total"] == requests)
    assert found["httpkit_requests_total"] == requests
    assert found["httpkit_sent_bytes_total"] == received + sum(map(len, later))
    assert found["httpkit_server_responses_total{status=400}"] == 1
    assert server.stop() == 0
