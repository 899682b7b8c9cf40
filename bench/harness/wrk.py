"""Run wrk against a URL and read its report.

wrk prints a human report; :func:`parse_wrk_output` reads the figures a benchmark needs
(requests per second, the latency percentiles from ``--latency``, errors) and refuses a
report it does not understand rather than guess.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass

__all__ = ["WrkError", "WrkResult", "parse_duration", "parse_wrk_output", "run_wrk"]

# wrk prints times with these units (its units.c): microseconds up to minutes and hours.
_SECONDS_PER_UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+(\S+)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in (\S+), ", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+(\d+(?:\.\d+)?)\s*$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)
_BAD_STATUS = re.compile(r"Non-2xx or 3xx responses: (\d+)")


class WrkError(RuntimeError):
    """wrk could not run, or printed a report this module cannot read."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """The figures of one wrk run."""

    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    socket_errors: int  # connect + read + write + timeout, as wrk counts them
    bad_responses: int  # responses with a status other than 2xx or 3xx

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def parse_duration(text: str) -> float:
    """``'2.03ms'`` -> 0.00203 seconds; anything else is a :class:`WrkError`."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise WrkError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _SECONDS_PER_UNIT[match.group(2)]


def parse_wrk_output(text: str) -> WrkResult:
    """Read the report of ``wrk --latency``."""
    total = _TOTAL.search(text)
    rate = _RATE.search(text)
    percentiles = {int(level): parse_duration(value) for level, value in _PERCENTILE.findall(text)}
    if total is None or rate is None or 50 not in percentiles or 99 not in percentiles:
        raise WrkError(f"unexpected wrk report (was --latency given?):\n{text}")
    socket = _SOCKET_ERRORS.search(text)
    bad = _BAD_STATUS.search(text)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=parse_duration(total.group(2)),
        requests_per_second=float(rate.group(1)),
        p50_ms=percentiles[50] * 1e3,
        p99_ms=percentiles[99] * 1e3,
        socket_errors=sum(int(count) for count in socket.groups()) if socket else 0,
        bad_responses=int(bad.group(1)) if bad else 0,
    )


def wrk_command(
    url: str,
    *,
    connections: int,
    seconds: float,
    keepalive: bool = True,
    threads: int = 1,
    cpus: str | None = None,
) -> list[str]:
    """The command line for one bounded wrk run (``cpus`` pins it with taskset)."""
    if not url.startswith("http://127.0.0.1:"):
        raise WrkError(f"benchmarks stay on loopback: {url}")
    threads = min(threads, connections)  # wrk refuses fewer connections than threads
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    command += ["--latency", "--timeout", "5s"]
    if not keepalive:
        # wrk reconnects whenever the server closes; asking it to makes every request new.
        command += ["-H", "Connection: close"]
    command.append(url)
    return ["taskset", "-c", cpus, *command] if cpus is not None else command


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    keepalive: bool = True,
    threads: int = 1,
    cpus: str | None = None,
) -> WrkResult:
    """Run wrk for ``seconds`` and return its figures; it is killed if it overruns."""
    if shutil.which("wrk") is None:
        raise WrkError("wrk is not installed (Debian package wrk)")
    command = wrk_command(
        url,
        connections=connections,
        seconds=seconds,
        keepalive=keepalive,
        threads=threads,
        cpus=cpus,
    )
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
    except subprocess.TimeoutExpired:
        raise WrkError(f"wrk overran its {seconds} s run: {' '.join(command)}") from None
    if completed.returncode != 0:
        raise WrkError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    return parse_wrk_output(completed.stdout)
