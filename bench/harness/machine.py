"""What the figures were measured on: machine, operating system, Python, versions, date."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import shutil
import subprocess

__all__ = ["PACKAGES", "describe_machine", "package_versions", "tool_versions"]

# Everything whose version changes the figures: httpkit, its dependencies, the peers.
PACKAGES = (
    "httpkit",
    "WebOb",
    "Routes",
    "waitress",
    "gunicorn",
    "cheroot",
    "uvicorn",
    "httptools",
    "uvloop",
    "falcon",
    "pyramid",
    "Flask",
    "h11",
    "matplotlib",
)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / (1 << 20)
    except OSError:
        pass
    return 0.0


def git_commit() -> str:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return completed.stdout.strip() or "unknown"


def describe_machine() -> dict[str, str]:
    """The facts the page's machine table shows, as display strings."""
    cores = os.cpu_count() or 0
    return {
        "CPU": cpu_model(),
        "Cores": str(cores),
        "Memory": f"{memory_gib():.1f} GiB",
        "System": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "httpkit commit": git_commit(),
        "Date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def package_versions() -> dict[str, str]:
    """Installed version of each of :data:`PACKAGES` ("not installed" otherwise)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _first_line(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return "not installed"
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (completed.stdout + completed.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def tool_versions() -> dict[str, str]:
    """The load generators' own version lines (wrk prints its version with -v)."""
    return {"wrk": _first_line(["wrk", "-v"]), "h2load": _first_line(["h2load", "--version"])}
