"""The notifier and socket activation read systemd's variables as sd_notify(3) and
sd_listen_fds(3) define them, and remove them so that no child inherits them."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from pathlib import Path

import pytest

from httpkit.errors import ConfigError
from httpkit.server.systemd import Notifier, activated_sockets, forget_activation


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def receiver(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5)
    return sock


def test_without_notify_socket_nothing_is_sent() -> None:
    notifier = Notifier.from_environ({})
    assert not notifier.enabled
    notifier.ready()  # no error, no socket
    assert notifier.time_to_beat(0.5) == 0.5


def test_a_path_and_the_variables_are_taken_from_the_environment(tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    environ = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000", "OTHER": "kept"}
    with receiver(path) as manager:
        notifier = Notifier.from_environ(environ)
        assert environ == {"OTHER": "kept"}
        assert notifier.watchdog == 1.5
        notifier.ready("serving on x")
        assert manager.recv(100) == b"READY=1\nSTATUS=serving on x"
        notifier.stopping()
        assert manager.recv(100) == b"STOPPING=1"
        notifier.close()


def test_an_abstract_name_starts_with_a_nul_byte() -> None:
    name = f"httpkit-unit-{uuid.uuid4().hex}"
    with receiver("\0" + name) as manager:
        notifier = Notifier.from_environ({"NOTIFY_SOCKET": "@" + name})
        notifier.reloading()
        message = manager.recv(100).decode().split("\n")
        assert message[0] == "RELOADING=1" and message[1].startswith("MONOTONIC_USEC=")
        notifier.close()


def test_a_relative_notify_socket_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "httpkit.error"):
        assert not Notifier.from_environ({"NOTIFY_SOCKET": "run/notify"}).enabled
    assert "NOTIFY_SOCKET: not a path or @name" in caplog.text


@pytest.mark.parametrize(
    ("usec", "pid", "period"),
    [
        ("", "", None),
        ("0", "", None),
        ("abc", "", None),
        ("1000000", "", 0.5),
        ("1000000", "1", None),
    ],
)
def test_the_watchdog_period(usec: str, pid: str, period: float | None) -> None:
    environ = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": usec, "WATCHDOG_PID": pid}
    assert Notifier.from_environ(environ).watchdog == period


def test_watchdog_pid_naming_us_keeps_the_watchdog() -> None:
    environ = {
        "NOTIFY_SOCKET": "/run/x",
        "WATCHDOG_USEC": "1000000",
        "WATCHDOG_PID": str(os.getpid()),
    }
    assert Notifier.from_environ(environ).watchdog == 0.5


def test_beats_are_sent_when_due(tmp_path: Path) -> None:
    path = str(tmp_path / "watchdog.sock")
    clock = Clock()
    with receiver(path) as manager:
        notifier = Notifier(path, watchdog=1.0, clock=clock)
        notifier.beat()
        assert manager.recv(100) == b"WATCHDOG=1"
        assert notifier.time_to_beat(5.0) == 1.0
        clock.now += 0.6
        notifier.beat()  # not due: nothing sent
        assert notifier.time_to_beat(5.0) == pytest.approx(0.4)
        assert notifier.time_to_beat(0.1) == 0.1
        clock.now += 0.4
        notifier.beat()
        assert manager.recv(100) == b"WATCHDOG=1"
        manager.settimeout(0.05)
        with pytest.raises(TimeoutError):
            manager.recv(100)
        notifier.close()


def test_a_beat_a_little_early_is_sent_all_the_same(tmp_path: Path) -> None:
    """A timer that fires a millisecond early (uvloop's) must not put the beat off to
    the next one: that would leave twice the period between two."""
    path = str(tmp_path / "watchdog.sock")
    clock = Clock()
    with receiver(path) as manager:
        notifier = Notifier(path, watchdog=0.5, clock=clock)
        notifier.beat()
        assert manager.recv(100) == b"WATCHDOG=1"
        clock.now += 0.499
        notifier.beat()
        assert manager.recv(100) == b"WATCHDOG=1"
        notifier.close()


def test_a_failed_notification_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier(str(tmp_path / "nobody-listens.sock"))
    with caplog.at_level(logging.WARNING, "httpkit.error"):
        notifier.ready()
        notifier.stopping()
    assert caplog.text.count("cannot notify systemd") == 1
    notifier.close()


def test_no_listen_fds_means_no_activation() -> None:
    environ = {"OTHER": "x"}
    assert activated_sockets(environ) == []
    assert environ == {"OTHER": "x"}


def test_listen_fds_for_another_process_is_ignored_and_removed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    environ = {"LISTEN_FDS": "2", "LISTEN_PID": "1", "LISTEN_FDNAMES": "a:b"}
    with caplog.at_level(logging.WARNING, "httpkit.error"):
        assert activated_sockets(environ) == []
    assert environ == {}
    assert "LISTEN_FDS is for process 1, not this one" in caplog.text


@pytest.mark.parametrize("count", ["0", "-1", "two", "1.0"])
def test_listen_fds_must_be_a_positive_number(count: str) -> None:
    environ = {"LISTEN_FDS": count, "LISTEN_PID": str(os.getpid())}
    with pytest.raises(ConfigError, match="LISTEN_FDS: expected a number of sockets"):
        activated_sockets(environ)
    assert environ == {}


def test_forget_activation_removes_the_variables() -> None:
    environ = {"LISTEN_FDS": "1", "LISTEN_PID": "7", "LISTEN_FDNAMES": "web", "PATH": "/bin"}
    forget_activation(environ)
    assert environ == {"PATH": "/bin"}
