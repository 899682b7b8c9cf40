"""Run h2load in HTTP/1.1 mode with pipelining, and read its report.

``h2load --h1 -m DEPTH`` keeps DEPTH requests in flight on each connection (RFC 9112
section 9.3.2: a server must answer pipelined requests in order).  A run is bounded by
``-D`` (seconds of measurement after ``--warm-up-time``) and by a subprocess timeout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass

__all__ = ["H2loadError", "H2loadResult", "parse_h2load_output", "run_h2load"]

_FINISHED = re.compile(r"^finished in \S+, (\d+(?:\.\d+)?) req/s, ", re.MULTILINE)
_REQUESTS = re.compile(
    r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
    r"(\d+) errored, (\d+) timeout",
    re.MULTILINE,
)
_STATUSES = re.compile(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", re.MULTILINE)
_REQUEST_TIME = re.compile(r"^time for request:\s+\S+\s+\S+\s+(\S+)", re.MULTILINE)
_TIME = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s)")
_SECONDS_PER_UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


class H2loadError(RuntimeError):
    """h2load could not run, or printed a report this module cannot read."""


@dataclass(frozen=True, slots=True)
class H2loadResult:
    """The figures of one h2load run."""

    requests_per_second: float
    succeeded: int
    failed: int  # failed + errored + timed out, as h2load counts them
    non_2xx: int
    mean_ms: float  # mean time for a request, queueing in the pipeline included

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def parse_h2load_output(text: str) -> H2loadResult:
    finished = _FINISHED.search(text)
    requests = _REQUESTS.search(text)
    statuses = _STATUSES.search(text)
    request_time = _REQUEST_TIME.search(text)
    if finished is None or requests is None or statuses is None or request_time is None:
        raise H2loadError(f"unexpected h2load report:\n{text}")
    mean = _TIME.fullmatch(request_time.group(1))
    if mean is None:
        raise H2loadError(f"not an h2load time: {request_time.group(1)!r}")
    counts = [int(number) for number in requests.groups()]
    status_counts = [int(number) for number in statuses.groups()]
    return H2loadResult(
        requests_per_second=float(finished.group(1)),
        succeeded=counts[3],
        failed=counts[4] + counts[5] + counts[6],
        non_2xx=sum(status_counts[1:]),
        mean_ms=float(mean.group(1)) * _SECONDS_PER_UNIT[mean.group(2)] * 1e3,
    )


def h2load_command(
    url: str, *, connections: int, depth: int, seconds: float, warmup: float, cpus: str | None
) -> list[str]:
    if not url.startswith("http://127.0.0.1:"):
        raise H2loadError(f"benchmarks stay on loopback: {url}")
    command = ["h2load", "--h1", f"-c{connections}", f"-m{depth}", f"-D{max(1, round(seconds))}"]
    command += [f"--warm-up-time={max(0, round(warmup))}", "-T5", url]
    return ["taskset", "-c", cpus, *command] if cpus is not None else command


def run_h2load(
    url: str,
    *,
    connections: int,
    depth: int,
    seconds: float,
    warmup: float = 1.0,
    cpus: str | None = None,
) -> H2loadResult:
    if shutil.which("h2load") is None:
        raise H2loadError("h2load is not installed (Debian package nghttp2-client)")
    command = h2load_command(
        url, connections=connections, depth=depth, seconds=seconds, warmup=warmup, cpus=cpus
    )
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=seconds + warmup + max(3.0, seconds),
            check=False,
        )
    except subprocess.TimeoutExpired:
        # h2load waits for every answer it asked for: a server that loses pipelined
        # requests leaves it hanging, which is a result in itself.
        raise H2loadError(f"stalled: h2load overran its {seconds} s run") from None
    if completed.returncode != 0:
        raise H2loadError(f"h2load failed ({completed.returncode}): {completed.stderr.strip()}")
    return parse_h2load_output(completed.stdout)
