"""The deployment users grow into: two httpkit processes behind a real nginx upstream,
sharing one PostgreSQL database.  Racing clients reach both processes, and still no
update is lost and no two members share a URI."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from atompub_helpers import ENTRY_HEADERS, entry_xml
from example_commands import ROOT

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx-light)"
)

CLIENTS = 20
ROUNDS = 3
START_SECONDS = 20.0
REQUEST_SECONDS = 30.0

# The configuration docs/deployment-atompub.rst shows, with the test's paths and ports.
NGINX_CONFIG = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 16m;

    upstream atompub {{
        server 127.0.0.1:{first};
        server 127.0.0.1:{second};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://atompub;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Only for the test: which process answered.
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start:\n{log.read_text() if log.exists() else ''}")


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


class Process:
    """A program in the background, its output in a file (a full pipe never blocks it)."""

    def __init__(
        self,
        command: list[str],
        log: Path,
        env: dict[str, str] | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.log = log
        self.stop_signal = stop_signal
        with log.open("wb") as output:
            self.popen = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=log.parent
            )

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(self.stop_signal)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


@pytest.fixture
def site(tmp_path: Path, postgres_url: str) -> Iterator[str]:
    """nginx's URL, in front of two httpkit processes on one PostgreSQL database."""
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "ATOMPUB_DB": postgres_url,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
    }
    started: list[Process] = []
    try:
        for number, port in enumerate(ports):
            command = [sys.executable, "-m", "httpkit", "serve", "examples.atompub:app"]
            command += ["--port", str(port), "--threads", "8", "--trusted-proxy", "127.0.0.1"]
            started.append(Process(command, tmp_path / f"httpkit-{number}.log", env))
            wait_for(lambda port=port: listening(port), "httpkit", started[-1].log)
        nginx_dir = tmp_path / "nginx"
        nginx_dir.mkdir()
        port = free_port()
        config = nginx_dir / "nginx.conf"
        config.write_text(
            NGINX_CONFIG.format(dir=nginx_dir, first=ports[0], second=ports[1], port=port)
        )
        assert NGINX is not None
        command = [NGINX, "-p", str(nginx_dir), "-c", str(config), "-e", "stderr"]
        # SIGQUIT: nginx's graceful stop.
        started.append(Process(command, nginx_dir / "nginx.log", stop_signal=signal.SIGQUIT))
        wait_for(lambda: listening(port), "nginx", nginx_dir / "nginx.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in reversed(started):
            process.stop()


def race(
    count: int, attempt: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """``attempt`` from ``count`` threads released at once, each with its own client."""
    start = threading.Barrier(count, timeout=REQUEST_SECONDS)
    results: list[httpx.Response | BaseException | None] = [None] * count

    def run(number: int) -> None:
        try:
            with httpx.Client(timeout=REQUEST_SECONDS) as own:
                start.wait()
                results[number] = attempt(own, number)
        except BaseException as error:  # reported below, not lost in the thread
            results[number] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_SECONDS + 5)
    responses = [r for r in results if isinstance(r, httpx.Response)]
    assert len(responses) == count, [r for r in results if not isinstance(r, httpx.Response)]
    return responses


def test_racing_edits_through_nginx_lose_no_update(site: str) -> None:
    with httpx.Client(base_url=site, timeout=REQUEST_SECONDS) as client:
        created = client.post(
            "/entries", content=entry_xml("Race"), headers={**ENTRY_HEADERS, "Slug": "race"}
        )
        assert created.status_code == 201
        url = created.headers["Location"]
        assert url == f"{site}/entries/race"
        upstreams: set[str] = set()
        for round_number in range(ROUNDS):
            etag = client.get(url).headers["ETag"]
            headers = {**ENTRY_HEADERS, "If-Match": etag}
            responses = race(
                CLIENTS,
                lambda http, n, r=round_number, h=headers: http.put(
                    url, content=entry_xml(f"Round {r} edit {n}"), headers=h
                ),
            )
            statuses = sorted(response.status_code for response in responses)
            assert statuses == [200] + [412] * (CLIENTS - 1), round_number
            upstreams |= {response.headers["X-Upstream"] for response in responses}
            (winner,) = [r for r in responses if r.status_code == 200]
            now = client.get(url)
            assert now.headers["ETag"] == winner.headers["ETag"]
            assert re.search(rb"<title>Round \d+ edit \d+</title>", now.content)
    assert len(upstreams) == 2, upstreams  # both processes took part in the races


def test_racing_posts_with_one_slug_through_nginx_get_distinct_uris(site: str) -> None:
    headers = {**ENTRY_HEADERS, "Slug": "same title"}
    responses = race(
        CLIENTS,
        lambda http, n: http.post(
            f"{site}/entries", content=entry_xml(f"Post {n}"), headers=headers
        ),
    )
    assert [response.status_code for response in responses] == [201] * CLIENTS
    locations = {response.headers["Location"] for response in responses}
    assert len(locations) == CLIENTS
    assert f"{site}/entries/same-title" in locations
    assert len({response.headers["X-Upstream"] for response in responses}) == 2
    with httpx.Client(timeout=REQUEST_SECONDS) as client:
        for location in locations:
            assert client.get(location).status_code == 200
