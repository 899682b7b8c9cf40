"""``python -m examples.embedded [--host H] [--port P] [--workers N] [--step S]``."""

from __future__ import annotations

import argparse
import asyncio

from examples.embedded import run
from httpkit.errors import ConfigError


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.embedded",
        description="A job queue with a web interface served by httpkit.",
        allow_abbrev=False,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--step", type=float, default=0.5, help="seconds per job step")
    arguments = parser.parse_args()
    try:
        asyncio.run(run(arguments.host, arguments.port, arguments.workers, arguments.step))
    except (ConfigError, ValueError) as error:  # a port in use, a bad --workers
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
