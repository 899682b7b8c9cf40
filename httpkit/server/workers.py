"""Pre-fork worker processes, supervised.

The supervisor binds the listening sockets once and forks ``workers`` processes that
all accept on them (the kernel spreads connections).  It never imports the application:
each worker loads it after the fork, so replacing a worker loads the code as it is now.

* a worker that dies is logged and replaced (after a pause if it died young, so a broken
  application cannot make the supervisor fork in a tight loop) -- but not one that had
  the stop too (sent to the process group) and exited 0 before the supervisor looked;
* SIGTERM / SIGINT: every worker drains gracefully, then the supervisor exits 0.  The
  stop rule (:mod:`httpkit.server.stopping`) tells a stop delivered twice (to the whole
  process group and forwarded by us) from a deliberate second one, which cuts: the
  workers themselves only ever drain on SIGTERM/SIGINT, and cut on our SIGQUIT;
* SIGHUP (or a changed file, with ``reload``): workers are replaced one at a time; the
  old one is told to drain only once its replacement is accepting, so no connection is
  refused.

Each worker has a pipe to the supervisor: it writes ``R`` once it accepts, and
``D<count>\\n`` when it begins to drain, so that the supervisor can say once how many
requests the stop waits for.  systemd hears from the supervisor alone
(:class:`~httpkit.server.systemd.Notifier`).
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

from httpkit.server.stopping import STOP_SIGNALS, StopAction, StopRule, drain_message
from httpkit.server.systemd import Notifier

__all__ = ["Supervisor", "WorkerLink", "WorkerMain"]

error_log = logging.getLogger("httpkit.error")
server_log = logging.getLogger("httpkit.server")  # routine events: reloads, replacements


@dataclass
class WorkerLink:
    """A worker's end of its pipe to the supervisor."""

    fd: int

    def ready(self) -> None:
        """Tell the supervisor that this worker accepts connections."""
        os.write(self.fd, b"R")

    def draining(self, in_flight: int) -> None:
        """Tell the supervisor that this worker began to drain ``in_flight`` requests."""
        with contextlib.suppress(OSError):  # a supervisor gone cannot be told
            os.write(self.fd, b"D%d\n" % in_flight)


WorkerMain = Callable[[list[socket.socket], WorkerLink], int]
"""Runs in a forked worker: serve on the sockets, call ``link.ready()`` once accepting,
return the exit status."""

READY_TIMEOUT = 300.0  # default seconds a new worker has to load the application and listen
YOUNG = 1.0  # a worker that dies sooner than this after starting is restarted after a pause
RESTART_PAUSE = 1.0
STOP_MARGIN = 5.0  # seconds beyond graceful_timeout before a stuck worker is killed
TICK = 0.5  # the supervisor's wake-up period (reload checks, delayed restarts)
REPORT_WAIT = 1.0  # seconds the drain message waits for the workers' counts
STOP_TICK = 0.05


def _ignore_signal(signum: int, frame: object) -> None:
    pass


@dataclass
class _Worker:
    pid: int
    pipe: int  # read end; see the module documentation for what the worker writes
    started: float
    ready: bool = False
    retiring: bool = False
    unread: bytes = b""


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
    notifier: Notifier = field(default_factory=Notifier)
    # Seconds a new worker has to say it accepts (the startup_timeout setting): its
    # application's startup (the ASGI lifespan) may be slow.
    startup_timeout: float = READY_TIMEOUT
    rule: StopRule = field(default_factory=StopRule)
    workers: dict[int, _Worker] = field(default_factory=dict)
    _signals: list[int] = field(default_factory=list)
    _restart_at: list[float] = field(default_factory=list)
    _wakeup: int = field(default=-1, init=False)  # read end of the signal wake-up pipe
    # pid: the requests in flight it said it drains
    _in_flight: dict[int, int] = field(default_factory=dict, init=False)

    def run(self, on_ready: Callable[[], None] | None = None, systemd_status: str = "") -> int:
        """Supervise until SIGTERM/SIGINT; the exit status (0, or a worker's start failure).

        ``on_ready`` is called once every worker accepts; ``systemd_status`` is what
        systemd then shows (``systemctl status``)."""
        wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(wakeup_write, False)
        os.set_blocking(wakeup_read, False)
        self._wakeup = wakeup_read
        previous_fd = signal.set_wakeup_fd(wakeup_write)
        for signum in (*STOP_SIGNALS, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(signum, self._note_signal)
        try:
            status = self._start_all()
            if status != 0:  # the start failed: its error is the news, not the stop
                self._stop_all(cut=False, announce=False)
                return status
            if on_ready is not None:
                on_ready()
            self.notifier.ready(systemd_status)
            self._stop_all(cut=self._supervise())
            return 0
        finally:
            signal.set_wakeup_fd(previous_fd)
            os.close(wakeup_read)
            os.close(wakeup_write)

    def _note_signal(self, signum: int, frame: object) -> None:
        self._signals.append(signum)

    def _wait(self, fds: list[int], timeout: float) -> list[int]:
        """select() on ``fds`` and the signal wake-up pipe, feeding systemd's watchdog."""
        self.notifier.beat()
        readable, _, _ = select.select(
            [self._wakeup, *fds], [], [], self.notifier.time_to_beat(timeout)
        )
        self.notifier.beat()
        if self._wakeup in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wakeup, 512)
        return [fd for fd in readable if fd != self._wakeup]

    # -- starting ----------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        pipe_read, pipe_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(pipe_read)
            os._exit(self._worker_process(pipe_write))
        os.close(pipe_write)
        os.set_blocking(pipe_read, False)  # the worker's own children may hold the write end
        worker = _Worker(pid, pipe_read, time.monotonic())
        self.workers[pid] = worker
        return worker

    def _worker_process(self, pipe_write: int) -> int:
        signal.set_wakeup_fd(-1)
        for signum in (*STOP_SIGNALS, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)  # until the worker's server handles them
        # SIGHUP (a terminal hanging up on the group) is the supervisor's business.  A
        # handler, not SIG_IGN: a program the application starts must not inherit it.
        signal.signal(signal.SIGHUP, _ignore_signal)
        for worker in self.workers.values():
            os.close(worker.pipe)  # the other workers' pipes are the supervisor's
        try:
            return self.worker_main(self.sockets, WorkerLink(pipe_write))
        except BaseException as error:  # the worker's exit status tells the supervisor
            error_log.critical("worker %d failed: %s", os.getpid(), error, exc_info=error)
            return 1

    def _wait_ready(self, worker: _Worker) -> bool:
        """Block until ``worker`` accepts (True) or dies or times out (False)."""
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._wait([worker.pipe], TICK):
                with contextlib.suppress(BlockingIOError):
                    worker.ready = os.read(worker.pipe, 1) == b"R"
                    return worker.ready
        error_log.error(
            "worker %d did not start within %g s (startup_timeout); stopping it",
            worker.pid,
            self.startup_timeout,
        )
        return False

    def _start_all(self) -> int:
        for _ in range(self.count):
            worker = self._spawn()
            if not self._wait_ready(worker):
                return self._failed_start(worker)
        return 0

    def _failed_start(self, worker: _Worker) -> int:
        status = self._stop_starting(worker.pid)
        self._forget(worker)
        code = os.waitstatus_to_exitcode(status)
        return code if code > 0 else 1

    def _stop_starting(self, pid: int) -> int:
        """The wait status of a worker that failed to start, or took too long: SIGTERM
        first, so that it calls its start off and shuts down what it started (the
        ASGI lifespan), then SIGKILL after STOP_MARGIN seconds."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_MARGIN
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            self._wait([], STOP_TICK)  # not a sleep: the watchdog is fed meanwhile
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return os.waitpid(pid, 0)[1]

    # -- supervising -------------------------------------------------------------------

    def _supervise(self) -> bool:
        """Until a stop signal; True if that stop cuts (SIGQUIT) rather than drains."""
        while True:
            self._wait([], TICK)
            signals, self._signals = self._signals, []
            # The stop first: the workers may have had it too (a stop sent to the process
            # group) and exited already, which is no crash to report.
            for index, signum in enumerate(signals):
                if signum in STOP_SIGNALS:
                    self._signals[:0] = signals[index + 1 :]  # the stop's to judge
                    return self.rule.decide(signum) is StopAction.CUT
            self._reap()
            if signal.SIGHUP in signals:
                server_log.info("SIGHUP: replacing the workers one by one")
                self._replace_all()
            elif self.changed is not None and self.changed():
                server_log.info("code changed: restarting the server")
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
            code = os.waitstatus_to_exitcode(status)
            if worker.retiring or (code == 0 and self._stop_pending()):
                continue  # a worker that had the stop too drained and exited: no crash
            error_log.error("worker %d died (exit status %d); starting another", pid, code)
            young = time.monotonic() - worker.started < YOUNG
            self._restart_at.append(time.monotonic() + (RESTART_PAUSE if young else 0.0))

    def _stop_pending(self) -> bool:
        """Whether a stop signal has come, whether or not the stop has begun."""
        return self.rule.stopping or any(signum in STOP_SIGNALS for signum in self._signals)

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
        self.notifier.reloading()
        try:
            for old in [worker for worker in self.workers.values() if not worker.retiring]:
                if any(signum in STOP_SIGNALS for signum in self._signals):
                    return  # a stop came meanwhile: it stops the old and the new alike
                new = self._spawn()
                if not self._wait_ready(new):
                    if not self._stop_pending():  # else the stop called its start off
                        error_log.error("the new worker did not start; keeping the running ones")
                    self._failed_start(new)
                    return
                old.retiring = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(old.pid, signal.SIGTERM)
                server_log.info("worker %d replaced by %d", old.pid, new.pid)
        finally:
            self.notifier.ready()

    # -- stopping ----------------------------------------------------------------------

    def _stop_all(self, cut: bool, announce: bool = True) -> None:
        self.notifier.stopping()
        if self.stop_listening is not None:
            self.stop_listening()
        stopped = list(self.workers)
        for worker in self.workers.values():
            worker.retiring = True
        if cut:
            error_log.warning(
                "SIGQUIT: cutting the requests in progress in %d workers", len(stopped)
            )
        self._tell_workers(signal.SIGQUIT if cut else signal.SIGTERM)
        announce_by = time.monotonic() + REPORT_WAIT if announce and not cut else None
        deadline = time.monotonic() + self.graceful_timeout + STOP_MARGIN
        while self.workers and time.monotonic() < deadline:
            for pipe in self._wait([worker.pipe for worker in self.workers.values()], STOP_TICK):
                self._read_reports(pipe)
            self._reap()
            if announce_by is not None and self._announced(stopped, announce_by):
                announce_by = None
            if not cut and self._second_stop():
                cut, announce_by = True, None
                error_log.warning(
                    "second stop signal: cutting the requests in progress in %d workers",
                    len(self.workers),
                )
                self._tell_workers(signal.SIGQUIT)
        if announce_by is not None:
            self._announced(stopped, announce_by=0.0)  # every worker stopped at once
        self._kill_stragglers()

    def _kill_stragglers(self) -> None:
        for worker in list(self.workers.values()):
            error_log.error("worker %d did not stop in time; killed", worker.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
            os.waitpid(worker.pid, 0)
            self._forget(worker)

    def _tell_workers(self, signum: int) -> None:
        for worker in self.workers.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signum)

    def _second_stop(self) -> bool:
        signals, self._signals = self._signals, []
        actions = [self.rule.decide(signum) for signum in signals if signum in STOP_SIGNALS]
        return StopAction.CUT in actions

    def _read_reports(self, pipe: int) -> None:
        worker = next((w for w in self.workers.values() if w.pipe == pipe), None)
        if worker is None:
            return
        with contextlib.suppress(OSError):
            worker.unread += os.read(pipe, 512)
        while b"\n" in worker.unread:
            line, worker.unread = worker.unread.split(b"\n", 1)
            if line.startswith(b"D") and line[1:].isdigit():
                self._in_flight[worker.pid] = int(line[1:])

    def _announced(self, stopped: list[int], announce_by: float) -> bool:
        """Say once how many requests the stop waits for: when every worker stopped has
        told (one that exited without telling had none), or at ``announce_by``."""
        missing = [pid for pid in stopped if pid in self.workers and pid not in self._in_flight]
        if missing and time.monotonic() < announce_by:
            return False
        total = sum(self._in_flight.get(pid, 0) for pid in stopped)
        server_log.info("%s", drain_message(total, self.graceful_timeout, at_least=bool(missing)))
        return True

    def _forget(self, worker: _Worker) -> None:
        self._read_reports(worker.pipe)  # what it wrote before it exited
        self.workers.pop(worker.pid, None)
        with contextlib.suppress(OSError):
            os.close(worker.pipe)
