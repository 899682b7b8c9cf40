"""The program itself: a queue of jobs that asyncio worker tasks run step by step.

It knows nothing of the web: :mod:`examples.embedded.web` reads its state and calls
its methods, on the same event loop, so neither side needs a lock.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = ["MAX_STEPS", "Job", "JobQueue"]

MAX_STEPS = 1000


@dataclass
class Job:
    """One job: ``steps`` steps, of which ``done`` are done."""

    id: int
    name: str
    steps: int
    done: int = 0
    status: str = "queued"  # queued, running, finished
    worker: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "steps": self.steps,
            "done": self.done,
            "status": self.status,
            "worker": self.worker,
        }


class JobQueue:
    """Jobs run in order by ``workers`` tasks; each step takes ``step_seconds``.

    ``async with JobQueue(...)`` starts the workers and cancels them on leaving.  Every
    method must be called on the queue's event loop.
    """

    def __init__(self, workers: int = 2, step_seconds: float = 0.5) -> None:
        if workers < 1:
            raise ValueError(f"a job queue needs at least one worker, not {workers}")
        self.workers = workers
        self.step_seconds = step_seconds
        self.jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._waiting: asyncio.Queue[Job] = asyncio.Queue()
        self._running = asyncio.Event()  # cleared while paused
        self._running.set()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def submit(self, name: str, steps: int) -> Job:
        """Queue a new job and return it."""
        if not name.strip():
            raise ValueError("a job needs a name")
        if not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"a job has between 1 and {MAX_STEPS} steps, not {steps}")
        job = Job(next(self._ids), name.strip(), steps)
        self.jobs[job.id] = job
        self._waiting.put_nowait(job)
        return job

    def pause(self) -> None:
        """Workers finish the step they are on, then wait until :meth:`resume`."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def clear_finished(self) -> int:
        """Forget the finished jobs; how many there were."""
        finished = [job.id for job in self.jobs.values() if job.status == "finished"]
        for job_id in finished:
            del self.jobs[job_id]
        return len(finished)

    def snapshot(self) -> dict[str, Any]:
        """The whole state, as plain data (what the web side shows)."""
        counts = {"queued": 0, "running": 0, "finished": 0}
        for job in self.jobs.values():
            counts[job.status] += 1
        return {
            "workers": self.workers,
            "paused": self.paused,
            "counts": counts,
            "jobs": [job.as_dict() for job in self.jobs.values()],
        }

    async def _work(self, number: int) -> None:
        while True:
            job = await self._waiting.get()
            await self._running.wait()  # a job taken before a pause stays queued
            job.status, job.worker = "running", number
            while job.done < job.steps:
                await self._running.wait()
                await asyncio.sleep(self.step_seconds)
                job.done += 1
            job.status = "finished"

    async def __aenter__(self) -> JobQueue:
        self._tasks = [asyncio.create_task(self._work(n)) for n in range(1, self.workers + 1)]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
