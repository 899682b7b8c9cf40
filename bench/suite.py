"""Every benchmark in one run: raw figures as JSON, PNG charts, docs/performance.rst.

``bench/run`` calls this inside its scratch virtualenv; it also runs alone with whatever
is installed (a missing peer or load generator is skipped with a message).

    python bench/suite.py                      # full run, writes the page (about 15 min)
    python bench/suite.py --quick --docs-dir /tmp/perf   # smoke: seconds, page elsewhere
    python bench/suite.py --only server --only idle --no-docs
    python bench/suite.py --render docs/_static/perf/results.json   # re-draw, no measuring
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import dispatch
import fullstack
import parse
import pipelining
import server
import streaming
from harness.loadtest import SCENARIOS
from harness.machine import describe_machine, package_versions, tool_versions
from harness.page import render_page
from harness.report import load_results, save_results
from harness.servers import SERVERS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECTIONS = ("parse", "dispatch", "server", "idle", "fullstack", "streaming", "pipelining")


def section_runners(options: argparse.Namespace) -> dict[str, Callable[[], Any]]:
    """What each section measures, with this run's durations."""
    quick = options.quick
    seconds = 1.0 if quick else options.duration
    warmup = 0.0 if quick else options.warmup
    rounds = 1 if quick else options.rounds
    scenarios = ["c50"] if quick else list(SCENARIOS)
    servers = list(SERVERS)
    requests, repeats = (300, 2) if quick else (options.dispatch_requests, 5)
    return {
        "parse": lambda: parse.measure(0.2 if quick else options.parse_seconds),
        "dispatch": lambda: dispatch.measure(list(dispatch.BUILDERS), requests, repeats),
        "server": lambda: server.measure_throughput(servers, scenarios, seconds, warmup, rounds),
        "idle": lambda: server.measure_idle(
            ["httpkit"] if quick else list(server.IDLE_SERVERS), 500 if quick else options.idle
        ),
        "fullstack": lambda: fullstack.measure(seconds, warmup, rounds),
        "streaming": lambda: streaming.measure(
            (16 if quick else options.stream_mib) << 20,
            options.transfer_limit,
            1 if quick else 2,
        ),
        "pipelining": lambda: pipelining.measure(seconds, warmup, 1 if quick else 2),
    }


def measure_all(options: argparse.Namespace) -> tuple[dict[str, Any], dict[str, str]]:
    """The results dict, and {section: error} for sections that crashed."""
    results: dict[str, Any] = {
        "machine": describe_machine(),
        "tools": tool_versions(),
        "versions": package_versions(),
        "settings": {
            "quick": options.quick,
            "duration_s": options.duration,
            "rounds": options.rounds,
            "idle": options.idle,
            "stream_mib": 16 if options.quick else options.stream_mib,
        },
        "servers": {name: spec.description for name, spec in SERVERS.items()},
        "scenarios": {name: scenario.label for name, scenario in SCENARIOS.items()},
    }
    errors: dict[str, str] = {}
    runners = section_runners(options)
    for section in options.only or SECTIONS:
        started = time.monotonic()
        print(f"== {section}", file=sys.stderr)
        try:
            results[section] = runners[section]()
        except Exception as error:  # one broken benchmark must not lose the others' figures
            traceback.print_exc()
            errors[section] = f"{type(error).__name__}: {error}"
        print(f"== {section}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    return results, errors


def write_docs(results: dict[str, Any], docs_dir: str) -> None:
    """The charts (when matplotlib is installed) and the page."""
    chart_dir = os.path.join(docs_dir, "_static", "perf")
    try:
        from harness.charts import draw_charts  # noqa: PLC0415 (needs matplotlib)

        charts = draw_charts(results, chart_dir)
    except ImportError as error:
        print(f"charts skipped ({error}); the page shows tables only", file=sys.stderr)
        charts = []
    page = os.path.join(docs_dir, "performance.rst")
    with open(page, "w") as output:
        output.write(render_page(results, charts))
    print(f"wrote {page} and {len(charts)} charts in {chart_dir}", file=sys.stderr)


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="sections to run")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per load run")
    parser.add_argument("--rounds", type=int, default=3, help="turns each server takes")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up")
    parser.add_argument("--idle", type=int, default=10_000, help="idle connections to hold")
    parser.add_argument("--stream-mib", type=int, default=1024, help="MiB each way")
    parser.add_argument("--transfer-limit", type=float, default=120.0, help="s per transfer")
    parser.add_argument("--parse-seconds", type=float, default=3.0, help="per parser/input")
    parser.add_argument("--dispatch-requests", type=int, default=5000, help="per round")
    parser.add_argument("--docs-dir", default=os.path.join(ROOT, "docs"), help="page goes here")
    parser.add_argument("--output", help="JSON file [DOCS_DIR/_static/perf/results.json]")
    parser.add_argument("--no-docs", action="store_true", help="write the JSON only")
    parser.add_argument("--render", metavar="FILE", help="re-render the page from a JSON file")
    options = parser.parse_args(argv)
    if min(options.duration, options.idle, options.stream_mib, options.rounds) < 1:
        parser.error("--duration, --rounds, --idle and --stream-mib must be at least 1")
    if options.output is None:
        options.output = os.path.join(options.docs_dir, "_static", "perf", "results.json")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    if options.render:
        write_docs(load_results(options.render), options.docs_dir)
        return 0
    started = time.monotonic()
    results, errors = measure_all(options)
    save_results(results, options.output)
    print(f"wrote {options.output}", file=sys.stderr)
    results = load_results(options.output)  # the page reads what the JSON holds
    if not options.no_docs:
        write_docs(results, options.docs_dir)
    print(f"total {time.monotonic() - started:.0f} s", file=sys.stderr)
    for section, error in errors.items():
        print(f"{section} FAILED: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
