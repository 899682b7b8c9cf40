"""A stop from outside drains in every mode; only a second, deliberate stop cuts.

The server runs in its own session with a pseudo-terminal as its controlling terminal,
as under an interactive shell: Ctrl-C (a ``\\x03`` written to the terminal) and
``os.killpg`` reach every process of its group at once -- the supervisor and each
worker -- as does systemd's stop with ``KillMode=control-group``.  A worker thus gets
the stop twice (from the source and from its supervisor) and must still drain.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import os
import pty
import re
import signal
import termios
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from deploy_helpers import HttpkitProcess, write_site

Start = Callable[..., HttpkitProcess]

MODES = {"single": [], "workers": ["--workers", "2"], "reload": ["--reload"]}
SLOW = 1.0  # seconds the request in flight takes

SITE = """
import os, time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        with open("slow-requests-started", "a") as started:  # the test waits for it
            started.write("+")
        time.sleep(float(environ["QUERY_STRING"]))
    body = ("pid=%d" % os.getpid()).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


@pytest.fixture
def site(httpkit: Start, tmp_path: Path) -> Path:
    (tmp_path / "deploy_site.py").write_text(SITE)  # after the fixture wrote its own
    return tmp_path


def _take_terminal() -> None:  # in the child, after setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclass
class Terminal:
    """A pseudo-terminal; the server gets its other end as controlling terminal."""

    master: int
    slave: int

    def ctrl_c(self) -> None:
        os.write(self.master, b"\x03")  # the line discipline sends SIGINT to the group


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    master, slave = pty.openpty()
    yield Terminal(master, slave)
    os.close(master)
    os.close(slave)


def start_in_session(httpkit: Start, terminal: Terminal, *args: str) -> HttpkitProcess:
    server = httpkit(
        *args, stdin=terminal.slave, start_new_session=True, preexec_fn=_take_terminal
    )
    assert os.getpgid(server.process.pid) == server.process.pid
    return server


@dataclass
class SlowRequest:
    """A request that takes ``seconds`` in the application, sent from a thread."""

    port: int
    seconds: float
    site: Path
    status: int = 0
    connection: str | None = None
    body: bytes = b""
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        before = self._arrived()
        threading.Thread(target=self._run, daemon=True).start()
        deadline = time.monotonic() + 10
        while self._arrived() == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self._arrived() > before, "the request did not reach the application"

    def _arrived(self) -> int:
        """How many slow requests have reached the application so far."""
        started = self.site / "slow-requests-started"
        return len(started.read_text()) if started.exists() else 0

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request("GET", f"/slow?{self.seconds}")
            response = conn.getresponse()
            self.status, self.connection = response.status, response.getheader("Connection")
            self.body = response.read()
        except BaseException as error:  # the test reports it
            self.error = error
        finally:
            conn.close()
            self.done.set()


def send_stop(server: HttpkitProcess, terminal: Terminal, how: str) -> None:
    if how == "ctrl-c":
        terminal.ctrl_c()
    else:
        os.killpg(server.process.pid, signal.SIGTERM if how == "killpg-term" else signal.SIGINT)


@pytest.mark.parametrize("how", ["killpg-term", "killpg-int", "ctrl-c"])
@pytest.mark.parametrize("mode", list(MODES))
def test_a_stop_sent_to_the_process_group_drains(
    httpkit: Start, terminal: Terminal, site: Path, mode: str, how: str
) -> None:
    server = start_in_session(httpkit, terminal, *MODES[mode])
    request = SlowRequest(server.port, SLOW, site)
    request.start()
    send_stop(server, terminal, how)
    assert request.done.wait(15)
    assert request.error is None, f"{request.error!r}\n{server.stderr}"
    assert request.status == 200 and request.body.startswith(b"pid=")
    assert request.connection == "close"
    assert server.process.wait(15) == 0, server.stderr
    assert "cutting" not in server.stderr
    assert "died" not in server.stderr and "starting another" not in server.stderr


def process_state(pid: int) -> str:
    """The state letter of ``/proc/PID/stat``: R, S, T (stopped), Z (exited, unreaped)..."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


def children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def wait_for_state(pids: list[int], state: str) -> None:
    deadline = time.monotonic() + 10
    while any(process_state(pid) != state for pid in pids):
        assert time.monotonic() < deadline, [process_state(pid) for pid in pids]
        time.sleep(0.01)


SUPERVISED = {
    "workers": ["--workers", "2"],
    "workers-threads-0": ["--workers", "2", "--threads", "0"],
    "reload": ["--reload"],
}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["term", "int"])
@pytest.mark.parametrize("mode", list(SUPERVISED))
def test_workers_that_exit_on_the_groups_stop_are_not_reported_dead(
    httpkit: Start, site: Path, mode: str, signum: int
) -> None:
    """systemd's control-group stop reaches the workers too: they drain and exit 0 on
    their own, maybe before the supervisor looks.  Here it always looks after (held by
    SIGSTOP until its workers have exited): the stop is routine all the same, with no
    worker said to have died, none started, and the request in flight answered."""
    server = httpkit(*SUPERVISED[mode], start_new_session=True)
    supervisor = server.process.pid
    workers = children_of(supervisor)
    assert len(workers) == (1 if mode == "reload" else 2)
    request = SlowRequest(server.port, SLOW, site)
    request.start()
    os.kill(supervisor, signal.SIGSTOP)
    wait_for_state([supervisor], "T")
    os.killpg(supervisor, signum)
    wait_for_state(workers, "Z")  # drained and exited; the supervisor has not seen it
    os.kill(supervisor, signal.SIGCONT)
    assert request.done.wait(15) and request.status == 200, server.stderr
    assert server.process.wait(15) == 0, server.stderr
    assert "died" not in server.stderr and "starting another" not in server.stderr
    assert "ERROR" not in server.stderr and "WARNING" not in server.stderr
    # With --threads 0 the worker sees the signal once the request is done: none in flight.
    assert "INFO httpkit.server: stopping: " in server.stderr


@pytest.mark.parametrize("mode", list(MODES))
def test_the_drain_is_announced_once_with_the_requests_in_flight(
    httpkit: Start, terminal: Terminal, site: Path, mode: str
) -> None:
    server = start_in_session(httpkit, terminal, *MODES[mode])
    request = SlowRequest(server.port, SLOW, site)
    request.start()
    terminal.ctrl_c()
    assert request.done.wait(15) and request.status == 200
    assert server.process.wait(15) == 0, server.stderr
    lines = [line for line in server.stderr.splitlines() if "draining" in line]
    assert len(lines) == 1, server.stderr
    assert "INFO httpkit.server: stopping: draining 1 request in flight" in lines[0]
    assert "a second Ctrl-C or stop signal cuts it" in lines[0]


def test_the_supervisor_counts_the_requests_in_flight_in_every_worker(
    httpkit: Start, terminal: Terminal, site: Path
) -> None:
    server = start_in_session(httpkit, terminal, "--workers", "2")
    requests = [SlowRequest(server.port, SLOW, site) for _ in range(3)]
    for request in requests:
        request.start()
    terminal.ctrl_c()
    for request in requests:
        assert request.done.wait(15) and request.status == 200, server.stderr
    assert server.process.wait(15) == 0, server.stderr
    lines = [line for line in server.stderr.splitlines() if "draining" in line]
    assert len(lines) == 1, server.stderr
    assert "stopping: draining 3 requests in flight (for up to 30 s)" in lines[0]
    assert lines[0].endswith("a second Ctrl-C or stop signal cuts them")


@pytest.mark.parametrize("mode", list(MODES))
def test_a_second_ctrl_c_after_the_drain_message_cuts(
    httpkit: Start, terminal: Terminal, site: Path, mode: str
) -> None:
    server = start_in_session(httpkit, terminal, *MODES[mode])
    request = SlowRequest(server.port, 20, site)
    request.start()
    terminal.ctrl_c()
    deadline = time.monotonic() + 10
    while "draining" not in server.stderr and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.2)  # past the window in which a repeat is the same stop delivered twice
    started = time.monotonic()
    terminal.ctrl_c()
    assert request.done.wait(10)
    assert server.process.wait(10) == 0, server.stderr
    assert time.monotonic() - started < 5, server.stderr
    assert request.status == 0 and request.error is not None  # cut: no response
    assert "second stop signal: cutting" in server.stderr


@pytest.mark.parametrize("mode", list(MODES))
def test_sigquit_cuts_at_once(httpkit: Start, terminal: Terminal, site: Path, mode: str) -> None:
    server = start_in_session(httpkit, terminal, *MODES[mode])
    request = SlowRequest(server.port, 20, site)
    request.start()
    started = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGQUIT)
    assert request.done.wait(10)
    assert server.process.wait(10) == 0, server.stderr
    assert time.monotonic() - started < 5, server.stderr
    assert request.status == 0 and request.error is not None
    assert "SIGQUIT: cutting" in server.stderr


def wait_for_text(server: HttpkitProcess, text: str, count: int = 1) -> None:
    deadline = time.monotonic() + 15
    while server.stderr.count(text) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.stderr.count(text) >= count, server.stderr


def test_sighup_and_replaced_workers_are_info_on_httpkit_server(httpkit: Start) -> None:
    server = httpkit("--workers", "2")
    server.signal(signal.SIGHUP)
    wait_for_text(server, "replaced by", 2)
    assert server.stop() == 0
    log = server.stderr
    assert "INFO httpkit.server: SIGHUP: replacing the workers one by one" in log
    assert len(re.findall(r"INFO httpkit\.server: worker \d+ replaced by \d+", log)) == 2
    assert "WARNING" not in log and "ERROR" not in log and "httpkit.error" not in log


def test_a_reload_is_info_on_httpkit_server(httpkit: Start, tmp_path: Path) -> None:
    server = httpkit("--reload")
    time.sleep(0.05)  # a new modification time even on coarse clocks
    write_site(tmp_path, version="2")
    wait_for_text(server, "replaced by")
    assert server.stop() == 0
    log = server.stderr
    assert "INFO httpkit.server: code changed: restarting the server" in log
    assert re.search(r"INFO httpkit\.server: worker \d+ replaced by \d+", log)
    assert "WARNING" not in log and "ERROR" not in log and "httpkit.error" not in log


def test_a_stop_during_a_sighup_replacement_ends_it_there(httpkit: Start, site: Path) -> None:
    server = httpkit("--workers", "2")
    # The new code takes a second to import: the stop comes while the first new worker
    # loads, and no second one is started for it.
    (site / "deploy_site.py").write_text("import time\ntime.sleep(1)\n" + SITE)
    server.signal(signal.SIGHUP)
    wait_for_text(server, "SIGHUP: replacing")
    server.signal(signal.SIGTERM)
    assert server.process.wait(15) == 0, server.stderr
    assert server.stderr.count("replaced by") <= 1, server.stderr
