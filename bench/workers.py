"""``--workers``: throughput of one process against several on the same machine.

httpkit serves the hello-world app (``bench/apps/hello.py``, ``--threads 0``) with
``--workers 1`` and then ``--workers N`` (default 2), on every core, while wrk (one
thread) drives 50 keep-alive connections and then 50 connections that open a new
connection per request.  On a 2-core machine wrk takes one core's worth of time, so
the gain measured there is a floor; it grows with the cores left to the workers.

    python bench/workers.py                     # 5 s per run
    python bench/workers.py --duration 2 --workers 4
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from harness.processes import ServerProcess, free_port
from harness.servers import server_env
from harness.wrk import run_wrk

LOADS = (("c50", True), ("c50-close", False))


def measure(workers: int, seconds: float) -> dict[str, float]:
    """{load: requests per second} for ``workers`` processes."""
    port = free_port()
    command = [
        sys.executable, "-m", "httpkit", "serve", "hello:app", "--port", str(port),
        "--threads", "0", "--workers", str(workers),
    ]  # fmt: skip
    results: dict[str, float] = {}
    with ServerProcess(command, port, env=server_env()) as server:
        run_wrk(server.url, connections=50, seconds=1.0)  # warm-up
        for name, keepalive in LOADS:
            figures = run_wrk(server.url, connections=50, seconds=seconds, keepalive=keepalive)
            results[name] = figures.requests_per_second
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=2, help="processes to compare with 1")
    options = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): nothing measured")
        return 0
    print(f"{os.cpu_count()} cores; hello world, --threads 0, requests/s")
    baseline = measure(1, options.duration)
    several = measure(options.workers, options.duration)
    for name, _ in LOADS:
        gain = several[name] / baseline[name] if baseline[name] else 0.0
        print(
            f"{name:10}  --workers 1: {baseline[name]:9.0f}   "
            f"--workers {options.workers}: {several[name]:9.0f}   x{gain:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
