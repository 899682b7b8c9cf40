"""Static files: the server's CPU time to send a 1 GiB file, per event loop.

Each httpkit configuration serves ``bench/apps/files.py`` (``Router.static``) in a fresh
process pinned to core 0, with ``--loop asyncio`` and with ``--loop uvloop``; the client
here, pinned to core 1, downloads a 1 GiB file once.  The figure is the server process's
CPU time (user + system, from ``/proc/PID/stat``) spent on that download: with
``sendfile`` the kernel moves the bytes and the server's share stays small, without it
every byte is read into Python and written out again.  The throughput is shown beside it.

    python bench/staticfiles.py               # 1 GiB (about half a minute)
    python bench/staticfiles.py --quick       # 32 MiB, for the smoke run
    BENCH_BASELINE=../old-checkout python bench/staticfiles.py --only httpkit \\
        --only httpkit@base                   # before and after a change, in one run
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import sys
import tempfile
import time
from typing import Any

from harness.loadtest import load_cpus
from harness.processes import ServerProcess, free_port
from harness.servers import SERVERS, missing_modules, server_env
from streaming import TransferError, pinned, read_head

STATIC_SERVERS = ("httpkit-t0", "httpkit")
LOOPS = ("asyncio", "uvloop")
MIB = 1 << 20
FILE_NAME = "big.bin"
WARM_UP_NAME, WARM_UP_SIZE = "small.bin", 4096


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (proc(5): fields 14 and 15)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def download(port: int, size: int, limit: float, name: str = FILE_NAME) -> float:
    """GET the file; seconds from request to last byte."""
    buffer = bytearray(MIB)
    started = time.monotonic()
    deadline = started + limit
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        sock.sendall(f"GET /files/{name} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        status, headers, rest = read_head(sock, deadline)
        if status != 200 or headers.get("content-length") != str(size):
            raise TransferError(f"download answered {status} {headers}")
        received = len(rest)
        while received < size:
            if time.monotonic() > deadline:
                raise TransferError(f"download overran {limit} s")
            count = sock.recv_into(buffer)
            if count == 0:
                raise TransferError(f"connection closed after {received} of {size} bytes")
            received += count
    return time.monotonic() - started


def measure_one(name: str, loop: str, directory: str, size: int, limit: float) -> dict[str, float]:
    spec = SERVERS[name]
    port = free_port()
    command = spec.argv("files:router", port, ("--loop", loop))
    env = {**server_env(), "BENCH_STATIC_DIR": directory}
    with ServerProcess(command, port, cpus=spec.cpus, env=env) as server:
        download(port, WARM_UP_SIZE, limit, WARM_UP_NAME)  # first-request imports excluded
        before = cpu_seconds(server.pid)
        with pinned(load_cpus(spec.cpus)):
            seconds = download(port, size, limit)
        spent = cpu_seconds(server.pid) - before
    return {"server_cpu_s": spent, "mib_per_s": size / MIB / seconds}


def measure(size: int, limit: float, names: tuple[str, ...]) -> dict[str, Any]:
    """Figures per "server/loop", or {"skipped"/"failed": why}."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-static-") as directory:
        with open(os.path.join(directory, FILE_NAME), "wb") as file:
            file.truncate(size)  # sparse: made at once, read from the page cache
        with open(os.path.join(directory, WARM_UP_NAME), "wb") as file:
            file.truncate(WARM_UP_SIZE)
        for name in names:
            for loop in LOOPS:
                key = f"{name}/{loop}"
                missing = missing_modules(SERVERS[name])
                if loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
                    missing.append("uvloop")
                if missing:
                    results[key] = {"skipped": f"needs {', '.join(missing)}"}
                    continue
                try:
                    results[key] = measure_one(name, loop, directory, size, limit)
                except (TransferError, OSError) as error:
                    results[key] = {"failed": f"{type(error).__name__}: {error}"}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32 MiB, for the smoke run")
    parser.add_argument("--size-mib", type=int, default=1024, help="the file's size in MiB")
    parser.add_argument("--limit", type=float, default=120.0, help="seconds per download")
    parser.add_argument("--only", action="append", choices=sorted(SERVERS), help="servers")
    options = parser.parse_args(argv)
    if options.size_mib < 1:
        parser.error("--size-mib must be at least 1")
    size = (32 if options.quick else options.size_mib) * MIB
    names = tuple(options.only) if options.only else STATIC_SERVERS
    results = measure(size, options.limit, names)
    print(f"one download of {size // MIB} MiB (Router.static)")
    print(f"{'server/loop':<28}{'server CPU s':>14}{'CPU s/GiB':>11}{'MiB/s':>9}")
    for key, figures in results.items():
        if "server_cpu_s" not in figures:
            print(f"{key:<28}  {figures.get('skipped') or figures.get('failed')}")
            continue
        per_gib = figures["server_cpu_s"] * 1024 * MIB / size
        print(
            f"{key:<28}{figures['server_cpu_s']:>14.2f}{per_gib:>11.2f}"
            f"{figures['mib_per_s']:>9.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
