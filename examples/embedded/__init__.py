"""An asyncio program with a web interface: a job queue that httpkit shows and changes.

Run it from a checkout::

    python -m examples.embedded

and open http://127.0.0.1:8000/ in a browser: the page follows the jobs as the
program's workers run them, and its forms add jobs, pause and resume the workers.
``--port``, ``--host``, ``--workers`` and ``--step`` (seconds per job step) change the
defaults; ``/state`` is the same state as JSON.  Ctrl-C or SIGTERM stops the program:
the server drains, then the workers stop.

The program is the job queue (:mod:`examples.embedded.jobs`); httpkit is one part of
it, started with :class:`httpkit.AsyncServer` on the program's own event loop.  With
``threads=0`` the web handlers (:mod:`examples.embedded.web`) run on that loop too,
between the workers' steps, so they touch the queue without a lock.  The server
installs no signal handler: the program decides what a signal means.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import httpkit
from examples.embedded.jobs import Job, JobQueue
from examples.embedded.web import make_web_app

__all__ = ["Job", "JobQueue", "make_web_app", "run"]


async def run(
    host: str = "127.0.0.1", port: int = 8000, workers: int = 2, step_seconds: float = 0.5
) -> None:
    """The whole program: the queue and its web interface, until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # the program's signals, not httpkit's
        loop.add_signal_handler(signum, stop.set)
    try:
        async with JobQueue(workers, step_seconds) as queue:
            web = httpkit.AsyncServer(make_web_app(queue), host=host, port=port, threads=0)
            async with web:
                print(f"job queue with {workers} workers; web interface on {web.url}/")
                sys.stdout.flush()
                await stop.wait()
                print("stopping: the web interface drains, then the workers stop")
        print("stopped")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
