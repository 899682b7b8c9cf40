"""A slow application startup (the ASGI lifespan) under ``httpkit serve``: a stop signal
during it calls the start-up off cleanly, and a worker that outlasts ``startup_timeout``
is stopped (its start-up called off), not killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SLOW_SITE = """
import asyncio, os, sys

async def app(scope, receive, send):
    if scope["type"] != "lifespan":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"up"})
        return
    await receive()
    with open(f"startup-began-{os.getpid()}", "w"):
        pass
    try:
        await asyncio.sleep(float(os.environ["SLOW_STARTUP"]))
    except asyncio.CancelledError:
        print("STARTUP CALLED OFF", file=sys.stderr, flush=True)
        raise
    await send({"type": "lifespan.startup.complete"})
    await receive()
    print("LIFESPAN SHUTDOWN", file=sys.stderr, flush=True)
    await send({"type": "lifespan.shutdown.complete"})
"""


def serve_slow(directory: Path, startup: float, *args: str) -> subprocess.Popen[str]:
    (directory / "slow_site.py").write_text(SLOW_SITE)
    return subprocess.Popen(
        [sys.executable, "-m", "httpkit", "serve", "slow_site:app", "--port", "0", *args],
        cwd=directory,
        env={**os.environ, "SLOW_STARTUP": str(startup), "PYTHONDONTWRITEBYTECODE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_startup(directory: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while not list(directory.glob("startup-began-*")):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the lifespan startup never began"
        time.sleep(0.02)


def test_sigterm_during_the_startup_calls_it_off_and_exits_0(tmp_path: Path) -> None:
    process = serve_slow(tmp_path, 30.0)
    try:
        wait_for_startup(tmp_path, process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    stopping = [line for line in stderr.splitlines() if "stopping" in line]
    assert len(stopping) == 1, stderr
    assert "SIGTERM during the start-up" in stopping[0]
    assert "STARTUP CALLED OFF" in stderr
    assert "serving on" not in stderr


def test_a_worker_slower_than_startup_timeout_is_stopped_not_killed(tmp_path: Path) -> None:
    process = serve_slow(tmp_path, 30.0, "--workers", "2", "--startup-timeout", "1")
    try:
        _, stderr = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode != 0, stderr
    assert "did not start within 1 s (startup_timeout)" in stderr
    assert "STARTUP CALLED OFF" in stderr  # SIGTERM, not SIGKILL: the worker undid it
    assert "serving on" not in stderr


def test_a_worker_within_startup_timeout_serves(tmp_path: Path) -> None:
    process = serve_slow(tmp_path, 1.5, "--workers", "2", "--startup-timeout", "60")
    try:
        deadline = time.monotonic() + 30
        assert process.stderr is not None
        while "serving on" not in process.stderr.readline():
            assert process.poll() is None and time.monotonic() < deadline
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert stderr.count("LIFESPAN SHUTDOWN") == 2
