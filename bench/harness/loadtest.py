"""Servers under wrk load: start one, check it, warm it up, measure, stop it; in turns.

Each measurement starts a fresh server process on a fresh free port (so one scenario's
TIME_WAIT sockets or leaked threads never affect the next), pinned to its cores, with
wrk pinned to the remaining core.  :func:`measure_in_turns` runs several servers in
rounds and keeps each one's best, so that ratios hold on a noisy machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
from dataclasses import dataclass
from typing import Any

from harness.processes import ServerProcess, StartError, free_port
from harness.servers import ServerSpec, missing_modules, server_env
from harness.wrk import WrkError, WrkResult, run_wrk

__all__ = [
    "SCENARIOS",
    "Scenario",
    "Target",
    "WrongAnswerError",
    "check_answer",
    "load_cpus",
    "load_options",
    "measure_in_turns",
    "measure_once",
]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A wrk load shape."""

    name: str
    connections: int
    keepalive: bool = True

    @property
    def label(self) -> str:
        kind = "keep-alive" if self.keepalive else "no keep-alive"
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


def load_options(
    description: str, argv: list[str] | None, *, rounds: int
) -> tuple[float, float, int]:
    """(seconds per run, warm-up seconds, rounds) from a load script's command line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per load run")
    parser.add_argument("--rounds", type=int, default=rounds, help="turns each server takes")
    options = parser.parse_args(argv)
    if options.quick:
        return 1.0, 0.0, 1
    return options.duration, 1.0, options.rounds


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


@dataclass(frozen=True, slots=True)
class Target:
    """What to load: a server serving an app, requested at a path."""

    name: str  # the key in the results
    spec: ServerSpec
    app: str  # MODULE:NAME
    path: str = "/"


def measure_once(target: Target, scenario: Scenario, seconds: float, warmup: float) -> WrkResult:
    """A fresh server process, a check of its answer, a warm-up, then the measured run."""
    spec = target.spec
    cpus = load_cpus(spec.cpus)
    port = free_port()
    with ServerProcess(spec.argv(target.app, port), port, cpus=spec.cpus, env=server_env()):
        check_answer(port, target.path)
        url = f"http://127.0.0.1:{port}{target.path}"
        if warmup > 0:
            run_wrk(url, connections=scenario.connections, seconds=warmup, cpus=cpus)
        return run_wrk(
            url,
            connections=scenario.connections,
            seconds=seconds,
            keepalive=scenario.keepalive,
            cpus=cpus,
        )


def measure_in_turns(
    targets: list[Target],
    scenarios: list[Scenario],
    *,
    seconds: float,
    warmup: float,
    rounds: int,
) -> dict[str, dict[str, Any]]:
    """{target: {scenario: figures}}, or {target: {"skipped" or "failed": why}}.

    The targets take turns within each round, and each keeps its best round: on a shared
    machine, a burst of someone else's work then costs every server alike, or no one.
    """
    results: dict[str, dict[str, Any]] = {}
    for target in targets:
        missing = missing_modules(target.spec)
        results[target.name] = {"skipped": f"needs {', '.join(missing)}"} if missing else {}
    for round_number in range(1, rounds + 1):
        for scenario in scenarios:
            for target in targets:
                figures = results[target.name]
                if "skipped" in figures or "failed" in figures:
                    continue
                try:
                    result = measure_once(target, scenario, seconds, warmup)
                except (WrkError, StartError, WrongAnswerError, OSError) as error:
                    results[target.name] = {"failed": str(error).splitlines()[0]}
                    print(f"  {target.name}: failed ({error})", file=sys.stderr)
                    continue
                _keep_best(figures, scenario.name, result)
                print(
                    f"  round {round_number} {target.name:<18} {scenario.name:<10}"
                    f" {result.requests_per_second:>9.0f} req/s  p99 {result.p99_ms:.2f} ms",
                    file=sys.stderr,
                )
    return results


def _keep_best(figures: dict[str, Any], scenario: str, result: WrkResult) -> None:
    """Keep the round with the highest rate; remember every round's rate too."""
    rates = [*figures.get(scenario, {}).get("round_rates", []), result.requests_per_second]
    best = figures.get(scenario)
    if best is None or result.requests_per_second > best["requests_per_second"]:
        figures[scenario] = result.as_dict()
    figures[scenario]["round_rates"] = rates
