"""The accept loop without sockets: a recording fake loop and a scripted listening socket."""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import pytest

from httpkit.server.listeners import Listener

FD = 7
PAUSE = 0.25  # injected, so that nothing here sleeps


class FakeTimer:
    def __init__(self, delay: float, callback: Callable[[], None]) -> None:
        self.delay = delay
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """Records what the listener asks of the event loop; a test fires the callbacks."""

    def __init__(self) -> None:
        self.readers: dict[int, Callable[[], None]] = {}
        self.timers: list[FakeTimer] = []
        self.now = 100.0

    def add_reader(self, fd: int, callback: Callable[[], None]) -> None:
        assert fd not in self.readers, "a reader added twice"
        self.readers[fd] = callback

    def remove_reader(self, fd: int) -> bool:
        return self.readers.pop(fd, None) is not None

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(delay, callback)
        self.timers.append(timer)
        return timer

    def time(self) -> float:
        return self.now

    def readable(self) -> None:
        """The listening socket became readable: run the registered reader once."""
        self.readers[FD]()

    def pending_timers(self) -> list[FakeTimer]:
        return [timer for timer in self.timers if not timer.cancelled]

    def fire_timers(self) -> None:
        due, self.timers = self.pending_timers(), []
        for timer in due:
            timer.callback()


class FakeConnection:
    def setblocking(self, flag: bool) -> None:
        assert flag is False


class FakeListeningSocket:
    """accept() follows a script: "emfile", "conn" (one connection), then "empty"."""

    family = socket.AF_INET

    def __init__(self) -> None:
        self.script: list[str] = []
        self.closed = False

    def fileno(self) -> int:
        return -1 if self.closed else FD

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8000)

    def accept(self) -> tuple[FakeConnection, tuple[str, int]]:
        step = self.script.pop(0) if self.script else "empty"
        if step == "emfile":
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        if step == "conn":
            return FakeConnection(), ("127.0.0.1", 40000)
        raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))

    def close(self) -> None:
        self.closed = True


class Setup:
    def __init__(self) -> None:
        self.loop = FakeLoop()
        self.sock = FakeListeningSocket()
        self.accepted: list[Any] = []
        fake_loop: Any = self.loop
        fake_sock: Any = self.sock
        self.listener = Listener(fake_loop, fake_sock, self.on_accept, exhaustion_pause=PAUSE)

    def on_accept(self, conn: Any) -> bool:
        self.accepted.append(conn)
        return True


@pytest.fixture
def setup(caplog: pytest.LogCaptureFixture) -> Setup:
    caplog.set_level(logging.INFO, logger="httpkit.error")
    return Setup()


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "httpkit.error" and record.levelno == level
    ]


def test_accepts_until_the_backlog_is_empty(setup: Setup) -> None:
    setup.listener.resume()
    setup.sock.script = ["conn", "conn"]
    setup.loop.readable()
    assert len(setup.accepted) == 2
    assert FD in setup.loop.readers


def test_descriptor_exhaustion_is_one_pause_and_one_line(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.listener.resume()
    setup.sock.script = ["emfile"]
    setup.loop.readable()

    assert FD not in setup.loop.readers  # not spinning on accept()
    [timer] = setup.loop.pending_timers()
    assert timer.delay == PAUSE
    [error] = lines(caplog, logging.ERROR)
    assert "127.0.0.1:8000" in error
    assert os.strerror(errno.EMFILE) in error

    # Every closed connection asks the listener to resume (Server._one_fewer): a busy
    # server closes hundreds a second.  Each frees a descriptor, so each tries one
    # accept(); failing again pauses again, silently: one line for the episode.
    for _ in range(130):
        setup.listener.resume()
        assert FD in setup.loop.readers
        assert setup.loop.pending_timers() == []
        setup.sock.script = ["emfile"]
        setup.loop.readable()
        assert FD not in setup.loop.readers
        assert len(setup.loop.pending_timers()) == 1
    assert len(lines(caplog, logging.ERROR)) == 1
    assert lines(caplog, logging.INFO) == []

    setup.loop.fire_timers()
    assert FD in setup.loop.readers  # accepting again
    setup.sock.script = ["conn"]
    setup.loop.readable()
    assert len(setup.accepted) == 1
    [resumed] = lines(caplog, logging.INFO)
    assert "accepting" in resumed
    assert len(lines(caplog, logging.ERROR)) == 1


def test_exhaustion_that_outlasts_the_pause_stays_one_episode(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.listener.resume()
    setup.sock.script = ["emfile"]
    setup.loop.readable()
    for _ in range(3):  # each pause frees a descriptor or two, not enough for the backlog
        setup.loop.fire_timers()
        setup.sock.script = ["conn", "emfile"]
        setup.loop.readable()
        assert FD not in setup.loop.readers
        assert len(setup.loop.pending_timers()) == 1
    assert len(setup.accepted) == 3
    assert len(lines(caplog, logging.ERROR)) == 1
    assert lines(caplog, logging.INFO) == []  # clients still wait: not over yet

    setup.loop.fire_timers()
    setup.loop.now += 3.5
    setup.sock.script = ["conn", "conn"]  # then the backlog is empty
    setup.loop.readable()
    assert len(setup.accepted) == 5
    [resumed] = lines(caplog, logging.INFO)
    assert "127.0.0.1:8000" in resumed
    assert "3.5 s" in resumed
    setup.sock.script = ["conn"]
    setup.loop.readable()
    assert len(lines(caplog, logging.INFO)) == 1  # said once, at the end of the episode
    assert len(lines(caplog, logging.ERROR)) == 1


def test_a_new_exhaustion_after_recovery_is_reported_again(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.listener.resume()
    setup.sock.script = ["emfile"]
    setup.loop.readable()
    setup.loop.fire_timers()
    setup.sock.script = ["conn"]
    setup.loop.readable()  # the backlog emptied: the episode is over
    setup.sock.script = ["emfile"]
    setup.loop.readable()
    assert len(lines(caplog, logging.ERROR)) == 2
    assert len(lines(caplog, logging.INFO)) == 1


def test_closing_during_the_pause_cancels_it(setup: Setup) -> None:
    setup.listener.resume()
    setup.sock.script = ["emfile"]
    setup.loop.readable()
    setup.listener.close()
    assert setup.loop.pending_timers() == []
    setup.listener.resume()
    assert setup.loop.readers == {}


def test_a_pause_for_max_connections_still_resumes_at_once(setup: Setup) -> None:
    calls: list[Any] = []

    def on_accept(conn: Any) -> bool:
        calls.append(conn)
        return len(calls) < 2  # the second connection fills the server

    setup.listener.on_accept = on_accept
    setup.listener.resume()
    setup.sock.script = ["conn", "conn"]
    setup.loop.readable()
    assert FD not in setup.loop.readers  # paused after the connection that filled it
    setup.listener.resume()  # a connection closed
    assert FD in setup.loop.readers
    assert setup.loop.pending_timers() == []
