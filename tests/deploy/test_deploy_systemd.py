"""systemd: Type=notify (READY, RELOADING, STOPPING, WATCHDOG) and socket activation.

The notify tests bind a real datagram socket, name it in ``NOTIFY_SOCKET`` and read what
``httpkit serve`` sends, with the sender's credentials (systemd's default
``NotifyAccess=main`` believes only the main process).  The activation tests run the
server under the real ``systemd-socket-activate``, which binds the sockets, waits for a
first client and then starts the program with ``LISTEN_FDS``.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from deploy_helpers import HttpkitProcess

Start = Callable[..., HttpkitProcess]

SITE = """
import json, os, time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(0.5)
    body = json.dumps({
        "pid": os.getpid(),
        "multiprocess": environ["wsgi.multiprocess"],
        "environ": sorted(name for name in os.environ
                          if name.startswith(("LISTEN_", "NOTIFY_", "WATCHDOG_"))),
        "inheritable": [fd for fd in (3, 4) if _inheritable(fd)],
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]

def _inheritable(fd):
    try:
        return os.get_inheritable(fd)
    except OSError:
        return False
"""


@pytest.fixture
def site(httpkit: Start, tmp_path: Path) -> Path:
    (tmp_path / "deploy_site.py").write_text(SITE)  # after the fixture wrote its own
    return tmp_path


def get_json(port: int, path: str = "/") -> dict[str, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200
        answer: dict[str, object] = json.loads(response.read())
        return answer
    finally:
        conn.close()


# -- Type=notify -------------------------------------------------------------------------


# SO_TIMESTAMPNS, which the socket module does not name (asm-generic/socket.h): each
# datagram then comes with the time the kernel queued it, free of the test's own delays.
SO_TIMESTAMPNS = 35


@dataclass
class Message:
    fields: dict[str, str]
    sender: int  # the pid the kernel vouches for (SCM_CREDENTIALS)
    sent: float  # when it was sent (SCM_TIMESTAMPNS: the wall clock, in seconds)


class NotifySocket:
    """The service manager's end: a datagram socket that records who sent what."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind(address.replace("@", "\0", 1) if address.startswith("@") else address)
        self.address = address
        self.seen: list[Message] = []

    def receive(self, timeout: float) -> Message | None:
        self.sock.settimeout(timeout)
        try:
            space = socket.CMSG_SPACE(12) + socket.CMSG_SPACE(16)
            data, ancillary, _, _ = self.sock.recvmsg(4096, space)
        except TimeoutError:
            return None
        sender, sent = 0, 0.0
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                sender = struct.unpack("3i", value[:12])[0]
            elif level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanoseconds = struct.unpack("2q", value[:16])
                sent = seconds + nanoseconds / 1e9
        lines = data.decode().split("\n")
        message = Message(dict(line.split("=", 1) for line in lines), sender, sent)
        self.seen.append(message)
        return message

    def wait_for(self, key: str, timeout: float = 15.0) -> Message:
        """The next message with ``key``, skipping watchdog keep-alives."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message is not None and key in message.fields:
                return message
        raise AssertionError(f"no {key} within {timeout} s; got {self.seen}")

    def states(self) -> list[str]:
        """The messages seen so far, watchdog keep-alives left out, as their first key."""
        return [next(iter(m.fields)) for m in self.seen if "WATCHDOG" not in m.fields]


@pytest.fixture(params=["path", "abstract"])
def notify(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NotifySocket]:
    if request.param == "path":
        address = str(tmp_path / "notify.sock")
    else:
        address = f"@httpkit-test-{uuid.uuid4().hex}"
    listener = NotifySocket(address)
    yield listener
    listener.sock.close()


def test_notify_with_workers_ready_reloading_stopping_from_the_supervisor(
    monkeypatch: pytest.MonkeyPatch, httpkit: Start, site: Path, notify: NotifySocket
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify.address)
    server = httpkit("--workers", "2")
    supervisor = server.process.pid
    ready = notify.wait_for("READY")
    assert ready.sender == supervisor
    assert ready.fields["STATUS"] == f"serving on http://127.0.0.1:{server.port} (2 workers)"
    answer = get_json(server.port)  # ready means listening
    assert answer["environ"] == []  # the workers are not the service: nothing inherited
    assert answer["multiprocess"] is True

    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    server.signal(signal.SIGHUP)
    reloading = notify.wait_for("RELOADING")
    assert reloading.sender == supervisor
    assert (
        before
        <= int(reloading.fields["MONOTONIC_USEC"])
        <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    )
    notify.wait_for("READY")
    assert server.stderr.count("replaced by") == 2  # READY=1 once the workers are new
    assert server.stop() == 0
    stopping = notify.wait_for("STOPPING")
    assert stopping.sender == supervisor
    assert notify.states() == ["READY", "RELOADING", "READY", "STOPPING"]


def test_notify_single_process_ready_then_stopping_and_a_refused_sighup(
    monkeypatch: pytest.MonkeyPatch, httpkit: Start, site: Path, notify: NotifySocket
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify.address)
    server = httpkit()
    ready = notify.wait_for("READY")
    assert ready.sender == server.process.pid
    assert ready.fields["STATUS"] == f"serving on http://127.0.0.1:{server.port}"
    assert get_json(server.port)["environ"] == []  # read, then removed from os.environ
    server.signal(signal.SIGHUP)  # ignored, with a warning: nothing is reloaded
    assert server.stop() == 0
    notify.wait_for("STOPPING")
    assert notify.states() == ["READY", "STOPPING"]


def keep_busy(port: int, done: threading.Event) -> None:
    """Requests, one every few milliseconds, until ``done``: the loop wakes often."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        while not done.wait(0.002):
            conn.request("GET", "/")
            conn.getresponse().read()
    finally:
        conn.close()


WATCHDOG_USEC = 200_000  # systemd's period; httpkit pings at half of it, every 0.1 s


@pytest.mark.parametrize(
    "args",
    [["--loop", "asyncio"], ["--loop", "uvloop"], ["--workers", "2"]],
    ids=["single-asyncio", "single-uvloop", "workers"],
)
def test_watchdog_pings_are_never_more_than_half_the_period_apart(
    monkeypatch: pytest.MonkeyPatch, httpkit: Start, site: Path, tmp_path: Path, args: list[str]
) -> None:
    """Each ping within half the period of the one before, on a busy server: uvloop's
    timers, on libuv's millisecond clock, often fire a little early there, and a ping
    skipped then left a whole period -- systemd's limit -- without one."""
    if "uvloop" in args:
        pytest.importorskip("uvloop")
    notify = NotifySocket(str(tmp_path / "watchdog.sock"))
    monkeypatch.setenv("NOTIFY_SOCKET", notify.address)
    monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
    server = httpkit(*args)
    notify.wait_for("READY")
    busy = threading.Event()
    threading.Thread(target=keep_busy, args=(server.port, busy), daemon=True).start()
    try:
        beats = [notify.wait_for("WATCHDOG", timeout=2) for _ in range(20)]
    finally:
        busy.set()
    assert {beat.sender for beat in beats} == {server.process.pid}
    gaps = [later.sent - earlier.sent for earlier, later in itertools.pairwise(beats)]
    half = WATCHDOG_USEC / 2e6
    assert max(gaps) < 1.5 * half, [round(gap, 3) for gap in gaps]  # 2 * half: one skipped
    assert min(gaps) > 0.5 * half  # and not a flood either
    assert server.stop() == 0


def test_the_supervisor_feeds_the_watchdog_while_it_stops_a_worker_that_would_not_start(
    monkeypatch: pytest.MonkeyPatch, httpkit: Start, site: Path, tmp_path: Path
) -> None:
    """A new worker past its startup_timeout, and deaf to SIGTERM, has seconds to stop
    before it is killed: the supervisor keeps pinging meanwhile."""
    notify = NotifySocket(str(tmp_path / "watchdog.sock"))
    monkeypatch.setenv("NOTIFY_SOCKET", notify.address)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    server = httpkit("--workers", "2", "--startup-timeout", "1")
    notify.wait_for("READY")
    deaf = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)\n"
    (site / "deploy_site.py").write_text(deaf + SITE)
    server.signal(signal.SIGHUP)
    ready = notify.wait_for("READY", timeout=20)  # the old workers serve on
    assert "did not start within 1 s (startup_timeout)" in server.stderr
    sent = [message.sent for message in notify.seen if "WATCHDOG" in message.fields]
    gaps = [later - earlier for earlier, later in itertools.pairwise([*sent, ready.sent])]
    assert max(gaps) < 0.75, [round(gap, 3) for gap in gaps]
    assert server.stop() == 0


def test_watchdog_pid_of_another_process_is_not_ours(
    monkeypatch: pytest.MonkeyPatch, httpkit: Start, site: Path, tmp_path: Path
) -> None:
    notify = NotifySocket(str(tmp_path / "notify.sock"))
    monkeypatch.setenv("NOTIFY_SOCKET", notify.address)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    server = httpkit()
    notify.wait_for("READY")
    assert notify.receive(0.5) is None  # no WATCHDOG=1
    assert server.stop() == 0


# -- socket activation -------------------------------------------------------------------

ACTIVATE = shutil.which("systemd-socket-activate")
needs_activate = pytest.mark.skipif(
    ACTIVATE is None,
    reason="systemd-socket-activate is not installed (Debian package systemd)",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Activated:
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def stderr(self) -> str:
        return self.log.read_text()


@pytest.fixture
def activate(site: Path) -> Iterator[Callable[..., Activated]]:
    started: list[Activated] = []

    def start(listen: list[str], names: str, *args: str, datagram: bool = False) -> Activated:
        log = site / f"activate-{len(started)}.log"
        assert ACTIVATE is not None
        command = [ACTIVATE, *(["--datagram"] if datagram else [])]
        command += [f"--listen={address}" for address in listen]
        command += [f"--fdname={names}", "-E", "PYTHONPATH", "-E", "PYTHONDONTWRITEBYTECODE=1"]
        command += [sys.executable, "-m", "httpkit", "serve", "deploy_site:app", *args]
        with log.open("w") as stderr:
            process = subprocess.Popen(command, cwd=site, stdout=subprocess.DEVNULL, stderr=stderr)
        activated = Activated(process, log)
        started.append(activated)
        deadline = time.monotonic() + 10
        while activated.stderr.count("Listening on") < len(listen):
            assert time.monotonic() < deadline and process.poll() is None, activated.stderr
            time.sleep(0.02)
        return activated

    yield start
    for activated in started:
        if activated.process.poll() is None:
            activated.process.kill()
            activated.process.wait(5)


def unix_get_json(path: str) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(path)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while piece := sock.recv(65536):
            data += piece
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200")
    answer: dict[str, object] = json.loads(body)
    return answer


@needs_activate
@pytest.mark.parametrize("args", [[], ["--workers", "2"]], ids=["single", "workers"])
def test_socket_activation_serves_systemds_tcp_and_unix_sockets(
    activate: Callable[..., Activated], tmp_path: Path, args: list[str]
) -> None:
    port, path = free_port(), str(tmp_path / "activated.sock")
    activated = activate([f"127.0.0.1:{port}", path], "web:local", *args)
    # The first client wakes systemd-socket-activate, which starts httpkit on fd 3 and 4;
    # its connection waits in the backlog meanwhile.
    answer = get_json(port)
    assert answer["environ"] == []  # LISTEN_* removed: the app's children see none
    assert answer["inheritable"] == []  # and the sockets are not passed on to them
    assert answer["multiprocess"] is bool(args)
    assert unix_get_json(path)["environ"] == []
    deadline = time.monotonic() + 10  # with workers, the banner waits for all of them
    while activated.stderr.count("serving on") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    log = activated.stderr
    assert "socket activation: 2 listening sockets from systemd (web, local)" in log
    assert re.search(rf"serving on http://127\.0\.0\.1:{port} ", log), log
    assert f"serving on {path} " in log
    activated.process.send_signal(signal.SIGTERM)
    assert activated.process.wait(15) == 0, activated.stderr
    assert os.path.exists(path)  # systemd's socket file: not ours to remove


@needs_activate
def test_socket_activation_refuses_a_datagram_socket(
    activate: Callable[..., Activated],
) -> None:
    port = free_port()
    activated = activate([f"127.0.0.1:{port}"], "metrics", "--workers", "2", datagram=True)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.sendto(b"wake up", ("127.0.0.1", port))
    assert activated.process.wait(15) == 2, activated.stderr
    assert (
        "httpkit: error: socket-activated fd 3 (metrics): not a listening TCP or Unix "
        "stream socket (use ListenStream=)"
    ) in activated.stderr


def test_listen_fds_for_another_process_is_ignored_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, httpkit: Start, site: Path
) -> None:
    for name, value in {"LISTEN_FDS": "1", "LISTEN_PID": "1", "LISTEN_FDNAMES": "web"}.items():
        monkeypatch.setenv(name, value)
    server = httpkit()
    assert get_json(server.port)["environ"] == []
    assert "LISTEN_FDS is for process 1, not this one" in server.stderr
    assert server.stop() == 0


@needs_activate
def test_fd_picks_one_of_the_activated_sockets(
    activate: Callable[..., Activated], tmp_path: Path
) -> None:
    port, path = free_port(), str(tmp_path / "other.sock")
    activated = activate([f"127.0.0.1:{port}", path], "web:other", "--fd", "3")
    assert get_json(port)["environ"] == []  # removed all the same
    activated.process.send_signal(signal.SIGTERM)
    assert activated.process.wait(15) == 0, activated.stderr
    assert "socket activation" not in activated.stderr
    assert f"serving on {path}" not in activated.stderr


def start_activated_by_hand(site: Path, count: str) -> subprocess.CompletedProcess[str]:
    """httpkit started as systemd would (LISTEN_PID is its own pid: sh execs it), with
    ``count`` in LISTEN_FDS and a plain file as descriptor 3."""
    (site / "not-a-socket").write_text("")
    script = (
        f"export LISTEN_PID=$$ LISTEN_FDS={count}; "
        f"exec {sys.executable} -m httpkit serve deploy_site:app 3<not-a-socket"
    )
    return subprocess.run(
        ["sh", "-c", script], check=False, cwd=site, capture_output=True, text=True, timeout=30
    )


def test_socket_activation_refuses_a_descriptor_that_is_no_socket(site: Path) -> None:
    done = start_activated_by_hand(site, "1")
    assert done.returncode == 2
    assert "httpkit: error: socket-activated fd 3: Socket operation on non-socket" in done.stderr


def test_socket_activation_refuses_a_listen_fds_that_is_no_number(site: Path) -> None:
    done = start_activated_by_hand(site, "two")
    assert done.returncode == 2
    assert "httpkit: error: LISTEN_FDS: expected a number of sockets, got 'two'" in done.stderr
