"""Servers under test as real processes on a free loopback port, and their memory.

A server is started in its own session (process group), so that a forking server
(gunicorn's master and workers, httpkit's ``--workers``) is stopped as a whole: SIGTERM
to the group, SIGKILL if it has not gone after a grace period, and a check that no
process of the group is left and that the port no longer answers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from types import TracebackType

__all__ = ["ServerProcess", "StartError", "free_port", "group_memory_kib", "wait_for_port"]

HOST = "127.0.0.1"


class StartError(RuntimeError):
    """A server did not start listening in time, or exited early."""


def free_port() -> int:
    """A port the kernel considers free now (port 0 asks it to pick one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, seconds: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartError(f"exited with status {process.returncode} before listening")
        if port_answers(port):
            return
        time.sleep(0.05)
    raise StartError(f"not listening on port {port} after {seconds} s")


def _group_members(group: int) -> list[int]:
    """Process ids whose process group is ``group`` (from /proc; Linux only)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        # After the command name: state, ppid, pgrp (proc(5)).
        if int(fields[2]) == group and fields[0] != b"Z":
            members.append(int(entry))
    return members


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def group_memory_kib(group: int, *, peak: bool = False) -> int:
    """Resident memory of a process group in KiB: VmRSS now, or VmHWM (its peak).

    Summed over the group's processes; shared pages of forked workers count once per
    process, as ``ps`` would show them.
    """
    field = "VmHWM" if peak else "VmRSS"
    return sum(_status_kib(pid, field) for pid in _group_members(group))


class ServerProcess:
    """A server command run as ``with ServerProcess(argv, port) as server: ...``."""

    def __init__(
        self,
        command: Sequence[str],
        port: int,
        *,
        cpus: str | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        start_seconds: float = 20.0,
        stop_seconds: float = 10.0,
    ) -> None:
        self.command = ["taskset", "-c", cpus, *command] if cpus is not None else list(command)
        self.port = port
        self.env = env
        self.cwd = cwd
        self.start_seconds = start_seconds
        self.stop_seconds = stop_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self.log = b""
        # A file, not a pipe: a chatty server must never block on a full pipe.
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the server is not running")
        return self.process.pid

    def memory_kib(self, *, peak: bool = False) -> int:
        return group_memory_kib(self.pid, peak=peak)

    def __enter__(self) -> ServerProcess:
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,  # its own process group, stopped as one
        )
        try:
            wait_for_port(self.port, self.start_seconds, self.process)
        except StartError as error:
            self.stop()
            tail = self.log.decode(errors="replace")[-2000:]
            raise StartError(f"{' '.join(self.command)}: {error}\n{tail}") from None
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL it after the grace period; check it is gone."""
        process = self.process
        if process is None:
            return
        group = process.pid
        self._signal_group(group, signal.SIGTERM)
        try:
            process.wait(timeout=self.stop_seconds)
        except subprocess.TimeoutExpired:
            self._signal_group(group, signal.SIGKILL)
            process.wait(timeout=self.stop_seconds)
        self._output.seek(0)
        self.log = self._output.read()
        self._output.close()
        self.process = None
        deadline = time.monotonic() + self.stop_seconds
        while _group_members(group) and time.monotonic() < deadline:
            self._signal_group(group, signal.SIGKILL)  # workers orphaned by their master
            time.sleep(0.05)
        left = _group_members(group)
        if left or port_answers(self.port):
            raise RuntimeError(f"server on port {self.port} did not stop (left: {left})")

    @staticmethod
    def _signal_group(group: int, number: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(group, number)
