"""How to start each server under test, on a given port, serving a given app.

A :class:`ServerSpec` names a server and builds its command line; the benchmark apps
live in ``bench/apps`` (put on ``PYTHONPATH`` by :func:`server_env`).  Each spec also
says which Python modules it needs, so that a benchmark skips a server that is not
installed with a message instead of failing.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["ASGI_SERVERS", "SERVERS", "ServerSpec", "missing_modules", "server_env"]

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPS_DIR = os.path.join(BENCH_DIR, "apps")
ADDRESS = "127.0.0.1"

# A command builder takes (app as MODULE:NAME, port, extra options) and returns argv.
Command = Callable[[str, int, Sequence[str]], list[str]]


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """One server configuration under test."""

    name: str  # the key in the results and the label on the charts
    description: str  # one line for the page
    command: Command
    modules: tuple[str, ...]  # importable modules it needs
    asgi: bool = False  # serves the ASGI variant of the app (uvicorn)
    cpus: str = "0"  # the cores it is pinned to; the load generator gets the others
    # Options that let it hold 10,000 idle keep-alive connections for minutes (connection
    # limits and idle timeouts raised), for the memory benchmark.
    idle_options: tuple[str, ...] = ()
    # Options that let it take a request body of many GiB, for the streaming benchmark.
    stream_options: tuple[str, ...] = ()

    def argv(self, app: str, port: int, extra: Sequence[str] = ()) -> list[str]:
        return self.command(app, port, extra)


def missing_modules(spec: ServerSpec) -> list[str]:
    return [name for name in spec.modules if importlib.util.find_spec(name) is None]


def server_env() -> dict[str, str]:
    """The environment of a server process: the bench apps importable, output unbuffered."""
    env = dict(os.environ)
    paths = [APPS_DIR, BENCH_DIR, env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def httpkit_has_workers() -> bool:
    """Whether this checkout's ``httpkit serve`` has a ``--workers`` setting."""
    completed = subprocess.run(
        [sys.executable, "-m", "httpkit", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return "--workers" in completed.stdout


def _httpkit(*options: str, checkout: str | None = None) -> Command:
    """httpkit from this checkout, or from another one (a baseline revision)."""
    if checkout is None:
        start = [sys.executable, "-m", "httpkit"]
    else:
        # The other checkout's package first on the path, whatever PYTHONPATH says.
        code = f"import sys, runpy; sys.path.insert(0, {checkout!r}); "
        code += "runpy.run_module('httpkit', run_name='__main__')"
        start = [sys.executable, "-c", code]

    def command(app: str, port: int, extra: Sequence[str]) -> list[str]:
        argv = [*start, "serve", app, "--host", ADDRESS]
        argv += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
        return [*argv, *options, *extra]

    return command


def _waitress(app: str, port: int, extra: Sequence[str]) -> list[str]:
    # waitress-serve reads options with getopt: they must come before the app.
    # Its defaults: 4 threads, as httpkit's.
    return [sys.executable, "-m", "waitress", f"--listen={ADDRESS}:{port}", *extra, app]


def _gunicorn(worker_class: str, *options: str) -> Command:
    def command(app: str, port: int, extra: Sequence[str]) -> list[str]:
        argv = [sys.executable, "-m", "gunicorn", "--bind", f"{ADDRESS}:{port}"]
        argv += ["--worker-class", worker_class, "--log-level", "warning", *options, *extra]
        return [*argv, app]

    return command


def _cheroot(app: str, port: int, extra: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "cheroot", "--bind", f"{ADDRESS}:{port}", *extra, app]


def _uvicorn(app: str, port: int, extra: Sequence[str]) -> list[str]:
    argv = [sys.executable, "-m", "uvicorn", app, "--host", ADDRESS, "--port", str(port)]
    return [*argv, "--http", "httptools", "--no-access-log", "--log-level", "warning", *extra]


def _uvicorn_h11(app: str, port: int, extra: Sequence[str]) -> list[str]:
    argv = [sys.executable, "-m", "uvicorn", app, "--host", ADDRESS, "--port", str(port)]
    return [*argv, "--http", "h11", "--no-access-log", "--log-level", "warning", *extra]


def _hypercorn(app: str, port: int, extra: Sequence[str]) -> list[str]:
    # No access log unless asked for; asyncio; --workers 0 serves in this process, as
    # the others do (its default, one worker, is a child process).
    argv = [sys.executable, "-m", "hypercorn", "--bind", f"{ADDRESS}:{port}", "--workers", "0"]
    return [*argv, "--log-level", "warning", *extra, app]


def _canned(app: str, port: int, extra: Sequence[str]) -> list[str]:
    # The ceiling: no app at all, ``app`` is ignored.
    script = os.path.join(APPS_DIR, "canned.py")
    return [sys.executable, script, "--port", str(port), *extra]


_HTTPKIT_IDLE = ("--max-connections", "10500", "--keepalive-timeout", "600")
_HTTPKIT_STREAM = ("--max-body", "17179869184")  # 16 GiB; the default is 1 GiB


# BENCH_BASELINE=/path/to/another/checkout adds that revision's httpkit beside this
# one ("httpkit@base", "httpkit-t0@base"), so that a change is measured in one run.
BASELINE = os.environ.get("BENCH_BASELINE") or None

SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec(
            "httpkit-t0",
            "httpkit, ``--threads 0`` (the app runs on the event-loop thread)",
            _httpkit("--threads", "0"),
            ("httpkit",),
            idle_options=_HTTPKIT_IDLE,
            stream_options=_HTTPKIT_STREAM,
        ),
        ServerSpec(
            "httpkit",
            "httpkit, default settings (4 threads)",
            _httpkit(),
            ("httpkit",),
            idle_options=_HTTPKIT_IDLE,
            stream_options=_HTTPKIT_STREAM,
        ),
        ServerSpec(
            "httpkit-w2",
            "httpkit, ``--workers 2`` (two processes, both cores)",
            _httpkit("--workers", "2"),
            ("httpkit",),
            cpus="0,1",
        ),
        ServerSpec(
            "waitress",
            "waitress, default settings (4 threads)",
            _waitress,
            ("waitress",),
            idle_options=("--connection-limit=10500", "--channel-timeout=600"),
            # Its default limit is exactly 1 GiB, which the 1 GiB upload reaches.
            stream_options=("--max-request-body-size=17179869184",),
        ),
        ServerSpec(
            "gunicorn-sync",
            "gunicorn, one sync worker (no keep-alive)",
            _gunicorn("sync"),
            ("gunicorn",),
        ),
        ServerSpec(
            "gunicorn-gthread",
            "gunicorn, one gthread worker with 4 threads",
            _gunicorn("gthread", "--threads", "4"),
            ("gunicorn",),
            idle_options=("--worker-connections", "10500", "--keep-alive", "600"),
        ),
        ServerSpec(
            "cheroot",
            "cheroot, default settings",
            _cheroot,
            ("cheroot",),
            idle_options=("--timeout", "600", "--request-queue-size", "1024"),
        ),
        ServerSpec(
            "uvicorn",
            "uvicorn with httptools, an ASGI hello world (the asyncio reference)",
            _uvicorn,
            ("uvicorn", "httptools"),
            asgi=True,
            idle_options=("--timeout-keep-alive", "600"),
        ),
        ServerSpec(
            "asyncio-canned",
            "a bare asyncio protocol writing a canned response (the ceiling)",
            _canned,
            (),
        ),
    )
}


# The ASGI servers side by side (bench/asgi.py, bench/callgrind.py), all on asyncio's
# own loop so that the loop is the same for each: uvloop would favour whoever spends
# more of a request inside it.
_ASYNCIO = ("--loop", "asyncio")
ASGI_SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec(
            "httpkit-asgi",
            "httpkit serving the ASGI app (a task per request on the loop)",
            _httpkit(*_ASYNCIO),
            ("httpkit",),
            asgi=True,
            stream_options=_HTTPKIT_STREAM,
        ),
        ServerSpec(
            "httpkit-t0-wsgi",
            "httpkit, ``--threads 0``, the WSGI twin of the app",
            _httpkit("--threads", "0", *_ASYNCIO),
            ("httpkit",),
            stream_options=_HTTPKIT_STREAM,
        ),
        ServerSpec(
            "uvicorn-httptools",
            "uvicorn with httptools",
            lambda app, port, extra: _uvicorn(app, port, [*_ASYNCIO, *extra]),
            ("uvicorn", "httptools"),
            asgi=True,
        ),
        ServerSpec(
            "uvicorn-h11",
            "uvicorn with h11",
            lambda app, port, extra: _uvicorn_h11(app, port, [*_ASYNCIO, *extra]),
            ("uvicorn", "h11"),
            asgi=True,
        ),
        ServerSpec(
            "hypercorn",
            "hypercorn (asyncio worker)",
            _hypercorn,
            ("hypercorn",),
            asgi=True,
        ),
    )
}


def _baseline_specs(checkout: str) -> list[ServerSpec]:
    return [
        ServerSpec(
            f"{spec.name}@base",
            f"{spec.description}, baseline revision in {checkout}",
            _httpkit(*options, checkout=checkout),
            ("httpkit",),
            idle_options=_HTTPKIT_IDLE,
            stream_options=_HTTPKIT_STREAM,
        )
        for spec, options in (
            (SERVERS["httpkit-t0"], ("--threads", "0")),
            (SERVERS["httpkit"], ()),
        )
    ]


if BASELINE is not None:
    SERVERS.update((spec.name, spec) for spec in _baseline_specs(os.path.abspath(BASELINE)))
    ASGI_SERVERS["httpkit-t0-wsgi@base"] = ServerSpec(
        "httpkit-t0-wsgi@base",
        f"httpkit, ``--threads 0``, WSGI, baseline revision in {BASELINE}",
        _httpkit("--threads", "0", *_ASYNCIO, checkout=os.path.abspath(BASELINE)),
        ("httpkit",),
    )
