"""Listeners (several, Unix mode, inherited fd), worker processes and --reload."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from deploy_helpers import HttpkitProcess, fields, write_site

Start = Callable[..., HttpkitProcess]


def get(port: int, path: str = "/") -> dict[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return fields(conn.getresponse().read())
    finally:
        conn.close()


def unix_get(path: str) -> bytes:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(path)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while piece := sock.recv(65536):
            data += piece
    return data


def test_several_unix_sockets_with_a_mode(httpkit: Start, tmp_path: Path) -> None:
    first, second = str(tmp_path / "a.sock"), str(tmp_path / "b.sock")
    server = httpkit("--unix", first, "--unix", second, "--unix-mode", "600")
    assert server.addresses == [first, second]
    for path in (first, second):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert unix_get(path).startswith(b"HTTP/1.1 200")
    assert server.stop() == 0
    assert not os.path.exists(first) and not os.path.exists(second)


def test_several_hosts(httpkit: Start) -> None:
    server = httpkit("--host", "127.0.0.1,127.0.0.2")
    assert [address.rsplit(":", 1)[0] for address in server.addresses] == [
        "http://127.0.0.1",
        "http://127.0.0.2",
    ]
    ports = [int(address.rsplit(":", 1)[1]) for address in server.addresses]
    with socket.create_connection(("127.0.0.2", ports[1]), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 200")


def test_host_and_unix_together_serve_on_both(httpkit: Start, tmp_path: Path) -> None:
    path = str(tmp_path / "both.sock")
    server = httpkit("--host", "127.0.0.1", "--unix", path)
    assert server.addresses[0] == path  # the banner names every listener
    assert server.addresses[1].startswith("http://127.0.0.1:")
    assert get(int(server.addresses[1].rsplit(":", 1)[1]))["remote"] == "127.0.0.1"
    assert unix_get(path).startswith(b"HTTP/1.1 200")
    assert server.stop() == 0
    assert not os.path.exists(path)


def test_host_and_unix_together_with_workers(httpkit: Start, tmp_path: Path) -> None:
    path = str(tmp_path / "workers.sock")
    server = httpkit("--host", "127.0.0.1", "--unix", path, "--workers", "2")
    assert len(server.addresses) == 2
    assert fields(unix_get(path).split(b"\r\n\r\n", 1)[1])["multiprocess"] == "True"
    assert get(int(server.addresses[1].rsplit(":", 1)[1]))["multiprocess"] == "True"
    assert server.stop() == 0


def test_unix_alone_listens_on_no_tcp_port(httpkit: Start, tmp_path: Path) -> None:
    path = str(tmp_path / "alone.sock")
    server = httpkit("--unix", path)
    assert server.addresses == [path]
    assert "127.0.0.1" not in server.stderr


def test_inherited_socket_with_fd(httpkit: Start) -> None:
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    with listening:
        server = httpkit("--fd", str(listening.fileno()), pass_fds=[listening.fileno()])
        assert server.port == port
        assert get(port)["remote"] == "127.0.0.1"


def test_fd_that_is_not_a_listening_socket_is_refused(httpkit: Start, tmp_path: Path) -> None:
    with (tmp_path / "file").open("w") as not_a_socket, pytest.raises(RuntimeError, match="fd"):
        httpkit("--fd", str(not_a_socket.fileno()), pass_fds=[not_a_socket.fileno()])


def collect_pids(port: int, count: int) -> set[str]:
    """The worker pids that answer ``count`` concurrent slow requests (a busy worker
    does not accept, so the others get the connections)."""
    answers: list[str] = []

    def one() -> None:
        answers.append(get(port, "/slow?0.1")["pid"])

    clients = [threading.Thread(target=one) for _ in range(count)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(10)
    return set(answers)


def test_workers_share_the_socket_and_are_replaced_when_they_die(httpkit: Start) -> None:
    server = httpkit("--workers", "2", "--threads", "0")
    assert get(server.port)["multiprocess"] == "True"
    pids: set[str] = set()
    deadline = time.monotonic() + 10
    while len(pids) < 2 and time.monotonic() < deadline:
        pids |= collect_pids(server.port, 10)
    assert len(pids) == 2 and str(server.process.pid) not in pids
    victim = int(sorted(pids)[0])
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while f"worker {victim} died" not in server.stderr and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"worker {victim} died" in server.stderr
    new_pids: set[str] = set()
    while len(new_pids) < 2 and time.monotonic() < deadline:
        new_pids |= collect_pids(server.port, 10)
    assert len(new_pids) == 2 and str(victim) not in new_pids
    assert server.stop() == 0


def keep_requesting(port: int, stop: threading.Event, failures: list[str], seen: set[str]) -> None:
    while not stop.is_set():
        try:
            answer = get(port)
        except OSError as error:
            failures.append(repr(error))
        else:
            seen.add(answer["version"] + "/" + answer["pid"])


def test_sighup_replaces_workers_with_new_code_refusing_nothing(
    httpkit: Start, tmp_path: Path
) -> None:
    server = httpkit("--workers", "2", "--threads", "0")
    before = collect_pids(server.port, 6)
    assert {pid for pid in before} and get(server.port)["version"] == "1"
    write_site(tmp_path, version="2")
    stop, failures, seen = threading.Event(), [], set()  # type: ignore[var-annotated]
    client = threading.Thread(target=keep_requesting, args=(server.port, stop, failures, seen))
    client.start()
    server.signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while server.stderr.count("replaced by") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    stop.set()
    client.join(10)
    assert failures == []
    assert server.stderr.count("replaced by") == 2
    after = {get(server.port)["version"] for _ in range(6)}
    assert after == {"2"}
    assert not collect_pids(server.port, 6) & before
    assert server.stop() == 0


def test_sigterm_drains_every_worker(httpkit: Start) -> None:
    server = httpkit("--workers", "2", "--threads", "2")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/slow?0.5")
    time.sleep(0.1)
    server.signal(signal.SIGTERM)
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Connection") == "close"
    assert server.process.wait(10) == 0


def test_reload_restarts_on_a_changed_file_keeping_the_socket(
    httpkit: Start, tmp_path: Path
) -> None:
    server = httpkit("--reload")
    assert get(server.port)["version"] == "1"
    time.sleep(0.05)  # a new modification time even on coarse clocks
    write_site(tmp_path, version="2")
    stop, failures, seen = threading.Event(), [], set()  # type: ignore[var-annotated]
    client = threading.Thread(target=keep_requesting, args=(server.port, stop, failures, seen))
    client.start()
    deadline = time.monotonic() + 15
    while not any(item.startswith("2/") for item in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    client.join(10)
    assert failures == []
    assert any(item.startswith("2/") for item in seen)
    assert "code changed" in server.stderr
    assert server.stop() == 0


def test_worker_that_cannot_load_the_app_stops_the_start(httpkit: Start, tmp_path: Path) -> None:
    (tmp_path / "deploy_site.py").write_text("raise ImportError('broken on purpose')\n")
    with pytest.raises(RuntimeError, match="broken on purpose"):
        httpkit("--workers", "2")


def test_sighup_with_broken_new_code_keeps_the_old_workers(httpkit: Start, tmp_path: Path) -> None:
    server = httpkit("--workers", "2")
    (tmp_path / "deploy_site.py").write_text("raise SyntaxError('half-deployed')\n")
    server.signal(signal.SIGHUP)
    deadline = time.monotonic() + 15
    while "did not start" not in server.stderr and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "keeping the running ones" in server.stderr
    assert get(server.port)["version"] == "1"
    assert server.stop() == 0


def test_inherited_unix_socket_file_is_left_in_place(httpkit: Start, tmp_path: Path) -> None:
    path = str(tmp_path / "systemd.sock")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(path)
    listening.listen()
    with listening:
        server = httpkit("--fd", str(listening.fileno()), pass_fds=[listening.fileno()])
        assert unix_get(path).startswith(b"HTTP/1.1 200")
        assert server.stop() == 0
        assert os.path.exists(path)  # systemd still owns it, for the next start
