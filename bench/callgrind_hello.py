"""Instructions per hello-world keep-alive request, counted by callgrind (not timed).

The server runs under ``valgrind --tool=callgrind`` and serves ``N`` requests on one
keep-alive connection from a client in another process, for two values of N; the
difference of the two totals over the difference of N is the cost of one request,
without the start-up.  Instruction counts do not depend on the machine's load, so this
compares two revisions on a busy machine where timings would not:

    python bench/callgrind_hello.py                   # this checkout, threads 0 and 4
    python bench/callgrind_hello.py --tree ../old     # another revision's httpkit
    python bench/callgrind_hello.py --scenario tls --scenario tls-proxy --threads 0

The ``tls`` scenarios count a whole connection instead (the handshake, one request, the
close; ``tls-proxy`` with a PROXY v2 header before the handshake): the cost of one
connection.  Needs valgrind (``apt-get install valgrind``), and ``cryptography`` for the
TLS certificate; ``--small`` makes a smoke run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
BODY = b"Hello, world!"

SERVER = """
import sys
import httpkit.runner as runner
from httpkit.config import Settings

def app(environ, start_response):
    if environ["PATH_INFO"] == "/quit":
        loop.call_soon(loop.stop)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [b"Hello, world!"]

tls = {"certfile": sys.argv[3], "keyfile": sys.argv[4]} if len(sys.argv) > 3 else {}
if len(sys.argv) > 5:
    tls.update(trusted_proxy="127.0.0.1", proxy_protocol=True)
settings = Settings(
    port=int(sys.argv[1]), threads=int(sys.argv[2]), loop="asyncio", access_log=False, **tls
)
loop = runner.new_event_loop("asyncio")
server = runner.make_server(app, settings)
loop.run_until_complete(server.start())
print("ready", flush=True)
loop.run_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def drive(port: int, count: int) -> None:
    """``count`` requests on one connection, one at a time, then /quit."""
    with connect(port) as sock:
        for _ in range(count):
            sock.sendall(REQUEST)
            received = b""
            while not received.endswith(BODY):
                piece = sock.recv(65536)
                if not piece:
                    raise RuntimeError("the server closed the connection")
                received += piece
        sock.sendall(b"GET /quit HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        while sock.recv(65536):
            pass


PROXY_V2 = (
    b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c"  # PROXY, TCP over IPv4, 12 address bytes
    + socket.inet_aton("198.51.100.9")
    + socket.inet_aton("127.0.0.1")
    + (5555).to_bytes(2, "big")
    + (443).to_bytes(2, "big")
)


def drive_tls(port: int, count: int, cert: Path, proxy: bool) -> None:
    """``count`` TLS connections of one request each (after a PROXY header if
    ``proxy``), then /quit."""
    context = ssl.create_default_context(cafile=str(cert))
    for index in range(count + 1):
        path = "/quit" if index == count else "/"
        raw = connect(port)
        if proxy:
            raw.sendall(PROXY_V2)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".encode())
            while tls.recv(65536):
                pass


def connect(port: int) -> socket.socket:
    deadline = time.monotonic() + 120
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=120)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "deploy"))
    from tls_certs import make_certificate as make  # noqa: PLC0415 (tests' helper)

    return make(directory, "bench")


def instructions(tree: Path, threads: int, count: int, scenario: str = "hello") -> int:
    """Total instructions of a server process that answered ``count`` + 1 requests."""
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        script = Path(scratch) / "server.py"
        script.write_text(SERVER)
        env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
        extra: list[str] = []
        if scenario != "hello":
            cert, key = make_certificate(Path(scratch))
            extra = [str(cert), str(key)] + (["proxy"] if scenario == "tls-proxy" else [])
        server = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                str(script),
                str(port),
                str(threads),
                *extra,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            server.stdout.readline()  # "ready"
            if scenario == "hello":
                drive(port, count)
            else:
                drive_tls(port, count, Path(extra[0]), scenario == "tls-proxy")
            _, stderr = server.communicate(timeout=300)
        finally:
            server.kill()
        match = re.search(r"Collected : (\d+)", stderr)
        if match is None:
            raise RuntimeError(f"no instruction count from callgrind:\n{stderr[-2000:]}")
        return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--threads", type=int, action="append")
    parser.add_argument(
        "--scenario", action="append", choices=("hello", "tls", "tls-proxy"), default=[]
    )
    parser.add_argument("--small", action="store_true", help="a smoke run: few requests")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    for scenario in args.scenario or ["hello"]:
        low, high = (20, 60) if args.small else (500, 2500)
        if scenario != "hello":
            low, high = (5, 15) if args.small else (50, 250)
        unit = "request" if scenario == "hello" else "connection"
        for threads in args.threads or [0, 4]:
            first = instructions(args.tree, threads, low, scenario)
            second = instructions(args.tree, threads, high, scenario)
            per_unit = (second - first) / (high - low)
            print(f"{scenario} threads={threads}: {per_unit:,.0f} instructions per {unit}")


if __name__ == "__main__":
    main()
