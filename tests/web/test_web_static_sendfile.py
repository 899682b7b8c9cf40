"""router.static sends files with sendfile on every event loop, correctly over TLS too.

The kernel's work is counted with ``strace -f -e trace=sendfile`` around a real
``python -m httpkit serve``; what the client receives is compared byte for byte.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from httpkit import Router
from httpkit.testing import live_server

SIZE = 8 * 1024 * 1024 + 123  # larger than any socket buffer, not a multiple of a block
APP = """\
from httpkit import Router
router = Router()
router.static("/files", {root!r})
"""
LOOPS = [
    "asyncio",
    pytest.param(
        "uvloop",
        marks=pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not on Windows"),
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sendfile") / "public"
    root.mkdir()
    (root / "big.bin").write_bytes(os.urandom(SIZE))
    return root


def _strace_usable() -> str | None:
    """Why strace cannot count here (None: it can)."""
    if shutil.which("strace") is None:
        return "strace is not installed (apt-get install strace)"
    probe = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=none", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"strace cannot trace here: {probe.stderr.strip()[:200]}"
    return None


@contextmanager
def traced_server(site: Path, loop: str, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """``httpkit serve`` under strace; yields (port, trace file); stops with SIGTERM."""
    reason = _strace_usable()
    if reason is not None:
        pytest.skip(reason)
    (tmp_path / "sendfile_app.py").write_text(APP.format(root=str(site)))
    trace, log = tmp_path / f"trace-{loop}", tmp_path / f"server-{loop}.log"
    command = ["strace", "-f", "-qq", "-e", "trace=sendfile", "-o", str(trace), sys.executable]
    command += ["-m", "httpkit", "serve", "--port", "0", "--loop", loop, "sendfile_app:router"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    with log.open("w") as stderr:
        # Its own process group: whatever happens, the group is stopped as one.
        tracer = subprocess.Popen(
            command, cwd=tmp_path, env=env, stderr=stderr, start_new_session=True
        )
    try:
        yield _port(log, tracer), trace
    finally:
        _stop_traced(tracer)


def _port(log: Path, tracer: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        match = re.search(r"serving on http://[^\s:]+:(\d+)", log.read_text())
        if match:
            return int(match.group(1))
        if tracer.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"the traced server did not start:\n{log.read_text()}")


def _stop_traced(tracer: subprocess.Popen[bytes]) -> None:
    # The server is strace's child: SIGTERM to it, and strace ends with it.
    children = Path(f"/proc/{tracer.pid}/task/{tracer.pid}/children")
    pids = children.read_text().split() if children.exists() else []
    for pid in pids:
        os.kill(int(pid), signal.SIGTERM)
    try:
        tracer.wait(15)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(tracer.pid, signal.SIGKILL)  # anything left of the group
        tracer.wait(5)


def _calls(trace: Path) -> list[str]:
    return [line for line in trace.read_text().splitlines() if "sendfile(" in line]


def _download(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_static_file_goes_out_by_sendfile(site: Path, loop: str, tmp_path: Path) -> None:
    expected = (site / "big.bin").read_bytes()
    with traced_server(site, loop, tmp_path) as (port, trace):
        status, body = _download(port, "/files/big.bin")
        ranged_status, ranged = _download(port, "/files/big.bin", {"Range": "bytes=1000-"})
    assert (status, ranged_status) == (200, 206)
    assert hashlib.sha256(body).digest() == hashlib.sha256(expected).digest()
    assert ranged == expected[1000:]
    calls = _calls(trace)
    assert calls, f"no sendfile call on {loop}"
    sent = sum(int(m.group(1)) for line in calls if (m := re.search(r"\) = (\d+)$", line)))
    # Nearly all of both bodies went through the kernel (a full socket costs one block).
    assert sent > 0.9 * (2 * SIZE - 1000)


def test_slow_client_on_uvloop_gets_every_byte(site: Path) -> None:
    """The socket fills up while the client waits: back-pressure, then the rest."""
    pytest.importorskip("uvloop")
    router = Router()
    router.static("/files", str(site))
    expected = (site / "big.bin").read_bytes()
    with (
        live_server(router, loop="uvloop", threads=0) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=30) as client,
    ):
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        client.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        time.sleep(0.3)  # the server meets a full socket (EAGAIN) and must wait
        received = bytearray()
        while chunk := client.recv(1 << 20):
            received += chunk
            if len(received) < 2 * 1024 * 1024:
                time.sleep(0.001)  # slowly at first
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == expected


@pytest.mark.parametrize("loop", LOOPS)
def test_file_over_tls_is_intact(site: Path, loop: str, tmp_path: Path) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy"))
    try:
        from tls_certs import make_certificate  # noqa: PLC0415
    finally:
        sys.path.pop(0)
    cert, key = make_certificate(tmp_path, "server")
    router = Router()
    router.static("/files", str(site))
    context = ssl.create_default_context(cafile=str(cert))
    with live_server(router, loop=loop, certfile=str(cert), keyfile=str(key)) as server:
        connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=context)
        connection.request("GET", "/files/big.bin", headers={"Range": "bytes=-5000"})
        response = connection.getresponse()
        assert response.status == 206
        assert response.read() == (site / "big.bin").read_bytes()[-5000:]
        connection.request("HEAD", "/files/big.bin")
        head = connection.getresponse()
        assert head.getheader("Content-Length") == str(SIZE)
        assert head.read() == b""
        connection.close()
