"""Running an example with its documented ``httpkit serve`` command, in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
STARTUP_SECONDS = 20.0
STOP_SECONDS = 10.0
PORT_IN_LOG = re.compile(rb"serving on http://127\.0\.0\.1:(\d+)")


@contextmanager
def httpkit_serve(
    app: str, cwd: Path, arguments: Sequence[str] = (), environ: dict[str, str] | None = None
) -> Iterator[int]:
    """Run ``httpkit serve APP --port 0 ARGUMENTS`` in ``cwd``; yield the port it bound."""
    env = {**os.environ, **(environ or {})}
    # The examples package is importable from a checkout's root, wherever cwd is.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *sys.path])
    command = [sys.executable, "-m", "httpkit", "serve", app, "--port", "0", *arguments]
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as process:
        try:
            yield _wait_for_port(process)
        finally:
            process.terminate()
            process.wait(STOP_SECONDS)


def _wait_for_port(process: subprocess.Popen[bytes]) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_SECONDS
    seen = b""
    # Bounded by the deadline and by the process: readline() returns b"" once it exits.
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
        found = PORT_IN_LOG.search(line)
        if found:
            return int(found.group(1))
    raise AssertionError(f"the server did not start: {seen.decode(errors='replace')}")
