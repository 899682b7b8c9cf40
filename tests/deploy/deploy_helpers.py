"""``python -m httpkit serve`` as a real process: start, wait for its banner, signal it."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SITE = """
import os, time

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/slow":
        time.sleep(float(environ.get("QUERY_STRING") or "0.3"))
    if path == "/upload":
        size = 0
        while True:
            piece = environ["wsgi.input"].read(65536)
            if not piece:
                break
            size += len(piece)
        body = str(size).encode()
    elif path == "/download":
        count = int(environ.get("QUERY_STRING") or "10")
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (bytes([65 + index % 26]) * 65536 for index in range(count))
    else:
        body = " ".join([
            "pid=" + str(os.getpid()),
            "remote=" + environ["REMOTE_ADDR"],
            "scheme=" + environ["wsgi.url_scheme"],
            "host=" + environ.get("HTTP_HOST", "-"),
            "port=" + environ["SERVER_PORT"],
            "rport=" + environ["REMOTE_PORT"],
            "xff=" + environ.get("HTTP_X_FORWARDED_FOR", "-").replace(" ", ""),
            "multiprocess=" + str(environ["wsgi.multiprocess"]),
            "client=" + environ.get("SSL_CLIENT_S_DN", "-"),
            "version=" + VERSION,
        ]).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]

VERSION = "1"
"""


def write_site(directory: Path, version: str = "1") -> None:
    (directory / "deploy_site.py").write_text(
        SITE.replace('VERSION = "1"', f'VERSION = "{version}"')
    )


def fields(body: bytes) -> dict[str, str]:
    """The site's answer "pid=1 remote=..." as a dict."""
    return dict(item.split("=", 1) for item in body.decode().split())


def _listeners_named(args: list[str]) -> int:
    """How many listeners the command line asks for: each --host address and --unix path
    (one TCP listener when neither is given)."""
    pairs = itertools.pairwise(args)
    hosts = sum(len(value.split(",")) for flag, value in pairs if flag == "--host")
    unix = sum(1 for flag in args if flag == "--unix")
    return max(1, hosts + unix)


class HttpkitProcess:
    """The server in a subprocess; stderr goes to a file so a busy log never blocks it."""

    def __init__(self, args: list[str], cwd: Path, **popen: Any) -> None:
        self.log_path = cwd / f"stderr-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "httpkit", "serve", "deploy_site:app", "--port", "0", *args],
            cwd=cwd,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            **popen,
        )
        self.addresses = self._wait_for_banner(_listeners_named(args))

    @property
    def stderr(self) -> str:
        return self.log_path.read_text()

    def _wait_for_banner(self, listeners: int, timeout: float = 15.0) -> list[str]:
        """The addresses of the banner, once it names every listener: it is one line per
        listener, and the file may be read between two of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.findall(r"serving on (\S+)", self.stderr)
            if len(found) >= listeners:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server did not start:\n{self.stderr}")

    @property
    def port(self) -> int:
        return int(self.addresses[0].rsplit(":", 1)[1])

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then the exit status."""
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self._log.close()
