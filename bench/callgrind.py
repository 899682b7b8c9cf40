"""Instructions per request under callgrind: a figure that the machine's load cannot move.

Each server runs the same app under ``valgrind --tool=callgrind``; after a warm-up the
counters are zeroed (``callgrind_control -z``), ``--requests`` keep-alive requests are
made one after another on one connection, and the counters are dumped: the total
divided by the count is the cost of one request, parsing to the last byte written,
event loop included.  Slow (valgrind runs Python some 50 times slower) but exact.

    python bench/callgrind.py              # httpkit (WSGI and ASGI), uvicorn, hypercorn
    python bench/callgrind.py --only httpkit-asgi --requests 500
    BENCH_BASELINE=../old-checkout python bench/callgrind.py --only httpkit-t0-wsgi \
        --only httpkit-t0-wsgi@base     # a change against another revision

Servers that are not importable and a missing valgrind are skipped with a message.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from harness.processes import free_port, wait_for_port
from harness.servers import ASGI_SERVERS, SERVERS, ServerSpec, missing_modules, server_env

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
BODY = b"Hello, world!"
START_SECONDS = 120.0  # python and its imports, under valgrind
DEFAULT_SERVERS = (
    "httpkit-t0-wsgi",
    "httpkit-asgi",
    "uvicorn-httptools",
    "uvicorn-h11",
    "hypercorn",
)
ALL_SERVERS = {**SERVERS, **ASGI_SERVERS}


def app_for(spec: ServerSpec) -> str:
    return "hello:asgi_app" if spec.asgi else "hello:app"


def request_many(port: int, count: int) -> None:
    """``count`` requests in turn on one keep-alive connection; each answer checked."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        buffered = b""
        for _ in range(count):
            sock.sendall(REQUEST)
            while not (buffered.endswith(BODY) and b"\r\n\r\n" in buffered):
                data = sock.recv(65536)
                if not data:
                    raise RuntimeError(f"connection closed; received {buffered!r}")
                buffered += data
            if not buffered.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected answer {buffered[:200]!r}")
            buffered = b""


def total_instructions(path: str) -> int:
    """The Ir total of one callgrind dump."""
    with open(path) as dump:
        for line in dump:
            match = re.match(r"(?:summary|totals):\s+(\d+)", line)
            if match:
                return int(match.group(1))
    raise RuntimeError(f"no totals in {path}")


def control(pid: int, flag: str) -> None:
    subprocess.run(
        ["callgrind_control", flag, str(pid)], check=True, timeout=60, capture_output=True
    )


def measure(spec: ServerSpec, requests: int, warmup: int, workdir: str) -> float:
    """Instructions per request of ``spec`` serving the hello-world app."""
    port = free_port()
    out = os.path.join(workdir, f"callgrind.{spec.name}.out")
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--quiet"]
    argv += spec.argv(app_for(spec), port)
    process = subprocess.Popen(argv, env=server_env(), stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port, START_SECONDS, process)
        request_many(port, warmup)
        control(process.pid, "-z")  # zero the counters
        request_many(port, requests)
        control(process.pid, "-d")  # dump them
        dumps = [path for path in glob.glob(out + ".*") if not path.endswith(".0")]
        deadline = time.monotonic() + 60
        while not dumps and time.monotonic() < deadline:
            time.sleep(0.2)
            dumps = glob.glob(out + ".*")
        return total_instructions(max(dumps, key=os.path.getmtime)) / requests
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(ALL_SERVERS), default=None)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=200)
    options = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed: nothing to measure", file=sys.stderr)
        return 0
    names = options.only or list(DEFAULT_SERVERS)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="httpkit-callgrind-") as workdir:
        for name in names:
            spec = ALL_SERVERS[name]
            missing = missing_modules(spec)
            if missing:
                print(f"{name}: skipped (needs {', '.join(missing)})", file=sys.stderr)
                continue
            figures[name] = measure(spec, options.requests, options.warmup, workdir)
            print(f"{name:24} {figures[name]:12,.0f} instructions per request", flush=True)
    reference = figures.get("uvicorn-httptools") or figures.get("uvicorn")
    if reference:
        for name, figure in figures.items():
            print(f"{name:24} {figure / reference:6.2f} x uvicorn (httptools)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
