"""A fixed pool of worker threads with a bounded backlog.

Smaller than ``concurrent.futures.ThreadPoolExecutor``: no Future per job (the server
does not wait for results) and an exact count of outstanding jobs, so that a request is
refused with 503 at once when every thread is busy and the backlog is full.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["WorkerPool"]

error_log = logging.getLogger("httpkit.error")

_STOP = None


class WorkerPool:
    """``threads`` workers; at most ``threads + max_pending`` jobs outstanding."""

    def __init__(self, threads: int, max_pending: int, name: str = "httpkit-worker") -> None:
        if threads < 1:
            raise ValueError("a worker pool needs at least one thread")
        self.threads = threads
        self.capacity = threads + max_pending
        self._jobs: queue.SimpleQueue[tuple[Callable[[Any], None], Any] | None] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self.outstanding = 0  # submitted and not finished
        self._workers = [
            threading.Thread(target=self._work, name=f"{name}-{index}", daemon=True)
            for index in range(threads)
        ]
        for worker in self._workers:
            worker.start()

    def submit(self, function: Callable[[Any], None], argument: Any) -> bool:
        """Queue ``function(argument)``; False (and nothing queued) when the pool is full."""
        with self._lock:
            if self.outstanding >= self.capacity:
                return False
            self.outstanding += 1
        self._jobs.put((function, argument))
        return True

    def _work(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            if job is _STOP:
                return
            function, argument = job
            try:
                function(argument)
            except BaseException as error:  # a worker must outlive any job
                error_log.critical("worker job failed", exc_info=error)
            finally:
                with self._lock:
                    self.outstanding -= 1

    def shutdown(self, timeout: float = 5.0) -> None:
        """Let queued jobs finish, then stop every thread (waiting at most ``timeout``)."""
        for _ in self._workers:
            self._jobs.put(_STOP)
        for worker in self._workers:
            worker.join(timeout / len(self._workers))
