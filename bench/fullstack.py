"""Full stack: a 100-route app with method-based handlers, each framework on its usual server.

httpkit's Router on httpkit (default settings), Falcon and Pyramid on waitress, Flask on
gunicorn (one gthread worker, 4 threads): the same routes as ``bench/dispatch.py`` at
N = 100, requested at the last route by wrk with 50 keep-alive connections.  Each server
runs as its own process pinned to core 0, wrk on core 1.

    python bench/fullstack.py            # full run (about 30 s)
    python bench/fullstack.py --quick    # a seconds-long smoke run for CI

Frameworks or servers that are not importable, and a missing wrk, are skipped with a
message.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any

from harness.loadtest import SCENARIOS, Target, load_options, measure_in_turns
from harness.servers import SERVERS

# framework -> the server it usually runs on (a key of SERVERS)
STACKS = {
    "httpkit": "httpkit",
    "falcon": "waitress",
    "pyramid": "waitress",
    "flask": "gunicorn-gthread",
}
PATH = "/r100/7"  # the last of routes100's routes


def measure(seconds: float, warmup: float, rounds: int = 1) -> dict[str, Any]:
    """Figures per framework: {"server": ..., wrk figures} or {"skipped"/"failed": why}."""
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed"}
    targets = [
        Target(framework, SERVERS[server], f"routes100:{framework}", PATH)
        for framework, server in STACKS.items()
    ]
    measured = measure_in_turns(
        targets, [SCENARIOS["c50"]], seconds=seconds, warmup=warmup, rounds=rounds
    )
    return {
        framework: {"server": STACKS[framework], **figures["c50"]} if "c50" in figures else figures
        for framework, figures in measured.items()
    }


def main(argv: list[str] | None = None) -> int:
    seconds, warmup, rounds = load_options(__doc__.splitlines()[0], argv, rounds=3)
    results = measure(seconds, warmup, rounds)
    if "skipped" in results:
        print(f"full stack: skipped ({results['skipped']})")
        return 0
    print(f"{'framework':<10}{'server':<18}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for framework, figures in results.items():
        if "requests_per_second" not in figures:
            print(f"{framework:<10}{figures.get('skipped') or figures.get('failed')}")
            continue
        print(
            f"{framework:<10}{figures['server']:<18}{figures['requests_per_second']:>10.0f}"
            f"{figures['p50_ms']:>9.2f}{figures['p99_ms']:>9.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
