"""nginx (the Debian package) in front of httpkit, over TCP and over a Unix socket."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from deploy_helpers import HttpkitProcess, fields
from tls_certs import make_certificate

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx-light)"
)

Start = Callable[..., HttpkitProcess]

CONFIG = """
daemon off;
master_process off;  # one process, as the invoking user: no privileges needed
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 64m;

    upstream httpkit {{
        server {upstream} max_fails=1 fail_timeout=5s;
        keepalive 8;  # reuse upstream connections (needs HTTP/1.1 and no Connection header)
        keepalive_timeout 4s;  # below httpkit's keepalive_timeout
    }}
    server {{
        listen 127.0.0.1:{port};
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass http://httpkit;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_request_buffering off;  # stream uploads to httpkit
            proxy_buffering off;          # and downloads to the client
        }}
        location /direct {{
            # No X-Forwarded-For: the app sees nginx's own upstream connection.
            proxy_pass http://httpkit;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
        location = /health {{
            # A load balancer's probe: HEAD, often, on short connections.
            proxy_pass http://httpkit/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Nginx:
    def __init__(self, directory: Path, upstream: str) -> None:
        directory.mkdir()
        cert, key = make_certificate(directory, "nginx")
        self.port, self.tls_port = free_port(), free_port()
        self.cert = cert
        self.directory = directory
        (directory / "nginx.conf").write_text(
            CONFIG.format(
                dir=directory,
                upstream=upstream,
                port=self.port,
                tls_port=self.tls_port,
                cert=cert,
                key=key,
            )
        )
        assert NGINX is not None
        self.process = subprocess.Popen(
            [
                NGINX,
                "-p",
                str(directory),
                "-c",
                str(directory / "nginx.conf"),
                "-e",
                str(directory / "error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not start: {self.errors}")

    @property
    def errors(self) -> str:
        path = self.directory / "error.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture(params=["tcp", "unix"])
def behind_nginx(
    request: pytest.FixtureRequest, httpkit: Start, tmp_path: Path
) -> Iterator[tuple[Nginx, HttpkitProcess]]:
    if request.param == "tcp":
        server = httpkit("--trusted-proxy", "127.0.0.1", "--threads", "4")
        upstream = f"127.0.0.1:{server.port}"
    else:
        path = str(tmp_path / "httpkit.sock")
        server = httpkit("--unix", path, "--trusted-proxy", "unix", "--threads", "4")
        upstream = f"unix:{path}"
    nginx = Nginx(tmp_path / "nginx", upstream)
    yield nginx, server
    nginx.stop()


def through(
    nginx: Nginx,
    method: str = "GET",
    path: str = "/",
    body: bytes | None = None,
    tls: bool = False,
) -> tuple[http.client.HTTPResponse, bytes]:
    if tls:
        context = ssl.create_default_context(cafile=str(nginx.cert))
        context.check_hostname = False
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1",
            nginx.tls_port,
            timeout=20,
            context=context,
            source_address=("127.0.0.3", 0),
        )
    else:
        conn = http.client.HTTPConnection(
            "127.0.0.1", nginx.port, timeout=20, source_address=("127.0.0.3", 0)
        )
    conn.request(method, path, body=body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def test_client_address_and_scheme_reach_the_app(
    behind_nginx: tuple[Nginx, HttpkitProcess],
) -> None:
    nginx, _ = behind_nginx
    response, body = through(nginx)
    seen = fields(body)
    assert response.status == 200
    assert (seen["remote"], seen["scheme"]) == ("127.0.0.3", "http")
    _, body = through(nginx, tls=True)
    seen = fields(body)
    assert (seen["remote"], seen["scheme"], seen["port"]) == ("127.0.0.3", "https", "443")


def test_upstream_connections_are_kept_alive(behind_nginx: tuple[Nginx, HttpkitProcess]) -> None:
    nginx, server = behind_nginx
    bodies = [through(nginx, path="/direct")[1] for _ in range(10)]
    assert all(body.startswith(b"pid=") for body in bodies)
    if server.addresses[0].startswith("http"):  # TCP: the peer port names the connection
        upstream_ports = {fields(body)["rport"] for body in bodies}
        assert len(upstream_ports) <= 2, upstream_ports
    assert "upstream prematurely closed" not in nginx.errors


def test_large_upload_and_streamed_download(behind_nginx: tuple[Nginx, HttpkitProcess]) -> None:
    nginx, _ = behind_nginx
    upload = os.urandom(8 * 1024 * 1024)
    response, body = through(nginx, "POST", "/upload", body=upload)
    assert (response.status, body) == (200, str(len(upload)).encode())
    response, body = through(nginx, "GET", "/download?160")  # 10 MiB in 64 KiB pieces
    assert response.status == 200 and len(body) == 160 * 65536
    assert body[:1] == b"A" and body[-1:] == bytes([65 + 159 % 26])


def test_health_checks_do_not_disturb_the_server(
    behind_nginx: tuple[Nginx, HttpkitProcess],
) -> None:
    nginx, server = behind_nginx
    for _ in range(30):
        response, body = through(nginx, "HEAD", "/health")
        assert (response.status, body) == (200, b"")
    assert through(nginx)[0].status == 200
    assert "error" not in nginx.errors.lower()
    assert server.stop() == 0
    assert "ERROR" not in server.stderr
