"""One server, several wrk scenarios: start it, warm it up, measure, stop it.

Each measurement starts a fresh server process on a fresh free port (so one scenario's
TIME_WAIT sockets or leaked threads never affect the next), pinned to its cores, with
wrk pinned to the remaining core.
"""

from __future__ import annotations

import http.client
import os
import sys
from dataclasses import dataclass

from harness.processes import ServerProcess, free_port
from harness.servers import ServerSpec, missing_modules, server_env
from harness.wrk import WrkResult, run_wrk

__all__ = ["SCENARIOS", "Scenario", "load_cpus", "measure_server"]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A wrk load shape."""

    name: str
    connections: int
    keepalive: bool = True

    @property
    def label(self) -> str:
        kind = "keep-alive" if self.keepalive else "new connection per request"
        return f"{self.connections} conn., {kind}"


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario("c1", 1),
        Scenario("c50", 50),
        Scenario("c500", 500),
        Scenario("c50-close", 50, keepalive=False),
    )
}


def load_cpus(server_cpus: str) -> str | None:
    """The cores for the load generator: those the server does not have, if any."""
    count = os.cpu_count() or 1
    taken = {int(cpu) for cpu in server_cpus.split(",")}
    free = [str(cpu) for cpu in range(count) if cpu not in taken]
    return ",".join(free) if free else None


class WrongAnswerError(RuntimeError):
    """The server under test did not answer the benchmark's request with 200."""


def check_answer(port: int, path: str) -> None:
    """One GET before the load: a benchmark of 404s or 500s would be worthless."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200 or not body:
        raise WrongAnswerError(f"GET {path} answered {response.status} {body[:100]!r}")


def measure_server(
    spec: ServerSpec,
    app: str,
    *,
    scenarios: list[Scenario],
    seconds: float,
    path: str = "/",
    warmup: float = 1.0,
) -> dict[str, WrkResult]:
    """wrk figures for ``spec`` serving ``app`` (MODULE:NAME), one per scenario."""
    missing = missing_modules(spec)
    if missing:
        raise ImportError(f"{spec.name} needs {', '.join(missing)}")
    results: dict[str, WrkResult] = {}
    cpus = load_cpus(spec.cpus)
    for scenario in scenarios:
        port = free_port()
        with ServerProcess(spec.argv(app, port), port, cpus=spec.cpus, env=server_env()):
            check_answer(port, path)
            url = f"http://127.0.0.1:{port}{path}"
            if warmup > 0:
                run_wrk(url, connections=scenario.connections, seconds=warmup, cpus=cpus)
            results[scenario.name] = run_wrk(
                url,
                connections=scenario.connections,
                seconds=seconds,
                keepalive=scenario.keepalive,
                cpus=cpus,
            )
        result = results[scenario.name]
        print(
            f"  {spec.name:<18} {scenario.name:<10} {result.requests_per_second:>9.0f} req/s"
            f"  p99 {result.p99_ms:.2f} ms",
            file=sys.stderr,
        )
    return results
