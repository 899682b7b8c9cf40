"""Pre-fork worker processes, supervised.

The supervisor binds the listening sockets once and forks ``workers`` processes that
all accept on them (the kernel spreads connections).  It never imports the application:
each worker loads it after the fork, so replacing a worker loads the code as it is now.

* a worker that dies is logged and replaced (after a pause if it died young, so a broken
  application cannot make the supervisor fork in a tight loop);
* SIGTERM / SIGINT: every worker drains gracefully, then the supervisor exits 0;
* SIGHUP (or a changed file, with ``reload``): workers are replaced one at a time; the
  old one is told to drain only once its replacement is accepting, so no connection is
  refused.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Supervisor", "WorkerMain"]

error_log = logging.getLogger("httpkit.error")

WorkerMain = Callable[[list[socket.socket], Callable[[], None]], int]
"""Runs in a forked worker: serve on the sockets, call ``ready()`` once accepting, return
the exit status."""

READY_TIMEOUT = 30.0  # seconds a new worker has to load the application and listen
YOUNG = 1.0  # a worker that dies sooner than this after starting is restarted after a pause
RESTART_PAUSE = 1.0
STOP_MARGIN = 5.0  # seconds beyond graceful_timeout before a stuck worker is killed
TICK = 0.5  # the supervisor's wake-up period (reload checks, delayed restarts)


@dataclass
class _Worker:
    pid: int
    ready_pipe: int  # read end; the worker writes one byte when it accepts
    started: float
    ready: bool = False
    retiring: bool = False


@dataclass
class Supervisor:
    """Runs ``count`` workers of ``worker_main`` on ``sockets`` until told to stop."""

    worker_main: WorkerMain
    sockets: list[socket.socket]
    count: int
    graceful_timeout: float
    changed: Callable[[], bool] | None = None  # reload: True when the code has changed
    # Called when stopping, before the workers are told to: it closes the supervisor's
    # copy of the listening sockets, so that the kernel stops queueing connections that
    # no worker would accept (they would be reset when the last copy closes).
    stop_listening: Callable[[], None] | None = None
    workers: dict[int, _Worker] = field(default_factory=dict)
    _signals: list[int] = field(default_factory=list)
    _restart_at: list[float] = field(default_factory=list)

    def run(self, on_ready: Callable[[], None] | None = None) -> int:
        """Supervise until SIGTERM/SIGINT; the exit status (0, or a worker's start failure)."""
        wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(wakeup_write, False)
        os.set_blocking(wakeup_read, False)
        previous_fd = signal.set_wakeup_fd(wakeup_write)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(signum, self._note_signal)
        try:
            status = self._start_all()
            if status == 0:
                if on_ready is not None:
                    on_ready()
                self._supervise(wakeup_read)
            self._stop_all()
            return status
        finally:
            signal.set_wakeup_fd(previous_fd)
            os.close(wakeup_read)
            os.close(wakeup_write)

    def _note_signal(self, signum: int, frame: object) -> None:
        self._signals.append(signum)

    # -- starting ----------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        ready_read, ready_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(ready_read)
            os._exit(self._worker_process(ready_write))
        os.close(ready_write)
        worker = _Worker(pid, ready_read, time.monotonic())
        self.workers[pid] = worker
        return worker

    def _worker_process(self, ready_write: int) -> int:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)

        def ready() -> None:
            os.write(ready_write, b"R")
            os.close(ready_write)

        try:
            return self.worker_main(self.sockets, ready)
        except BaseException as error:  # the worker's exit status tells the supervisor
            error_log.critical("worker %d failed: %s", os.getpid(), error, exc_info=error)
            return 1

    def _wait_ready(self, worker: _Worker) -> bool:
        """Block until ``worker`` accepts (True) or dies or times out (False)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            readable, _, _ = select.select([worker.ready_pipe], [], [], TICK)
            if readable:
                worker.ready = os.read(worker.ready_pipe, 1) == b"R"
                return worker.ready
        return False

    def _start_all(self) -> int:
        for _ in range(self.count):
            worker = self._spawn()
            if not self._wait_ready(worker):
                return self._failed_start(worker)
        return 0

    def _failed_start(self, worker: _Worker) -> int:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGKILL)
        _, status = os.waitpid(worker.pid, 0)
        self._forget(worker)
        code = os.waitstatus_to_exitcode(status)
        return code if code > 0 else 1

    # -- supervising -------------------------------------------------------------------

    def _supervise(self, wakeup_read: int) -> None:
        while True:
            select.select([wakeup_read], [], [], TICK)
            with contextlib.suppress(BlockingIOError):
                os.read(wakeup_read, 512)
            signals, self._signals = self._signals, []
            self._reap()
            if signal.SIGTERM in signals or signal.SIGINT in signals:
                return
            if signal.SIGHUP in signals:
                error_log.warning("SIGHUP: replacing the workers one by one")
                self._replace_all()
            elif self.changed is not None and self.changed():
                error_log.warning("code changed: restarting the server")
                self._replace_all()
            self._restart_due()

    def _reap(self) -> None:
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self.workers.get(pid)
            if worker is None:
                continue
            self._forget(worker)
            if worker.retiring:
                continue
            code = os.waitstatus_to_exitcode(status)
            error_log.error("worker %d died (exit status %d); starting another", pid, code)
            young = time.monotonic() - worker.started < YOUNG
            self._restart_at.append(time.monotonic() + (RESTART_PAUSE if young else 0.0))

    def _restart_due(self) -> None:
        now = time.monotonic()
        due = [when for when in self._restart_at if when <= now]
        self._restart_at = [when for when in self._restart_at if when > now]
        for _ in due:
            worker = self._spawn()
            if not self._wait_ready(worker):
                self._failed_start(worker)
                self._restart_at.append(time.monotonic() + RESTART_PAUSE)

    def _replace_all(self) -> None:
        for old in [worker for worker in self.workers.values() if not worker.retiring]:
            new = self._spawn()
            if not self._wait_ready(new):
                error_log.error("the new worker did not start; keeping the running ones")
                self._failed_start(new)
                return
            old.retiring = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(old.pid, signal.SIGTERM)
            error_log.warning("worker %d replaced by %d", old.pid, new.pid)

    # -- stopping ----------------------------------------------------------------------

    def _stop_all(self) -> None:
        if self.stop_listening is not None:
            self.stop_listening()
        for worker in self.workers.values():
            worker.retiring = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.graceful_timeout + STOP_MARGIN
        while self.workers and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for worker in list(self.workers.values()):
            error_log.error("worker %d did not stop in time; killed", worker.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
            os.waitpid(worker.pid, 0)
            self._forget(worker)

    def _forget(self, worker: _Worker) -> None:
        self.workers.pop(worker.pid, None)
        with contextlib.suppress(OSError):
            os.close(worker.ready_pipe)
