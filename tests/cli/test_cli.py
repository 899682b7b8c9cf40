"""``httpkit serve`` / ``python -m httpkit``: options from the settings table, clear errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from server_helpers import server_process

from httpkit.cli import main
from httpkit.config import SETTINGS

HELLO_SITE = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("hello from " + environ["SCRIPT_NAME"] + environ["PATH_INFO"]).encode()]

def create_app():
    return app

not_callable = 42
"""

ROUTER_SITE = """
from httpkit.web import Router

def show_book(request, id):
    return "book " + id

router = Router()
router.add("/books/{id}", show_book, name="book")
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "hello_site.py").write_text(HELLO_SITE)
    (tmp_path / "broken_site.py").write_text("import no_such_dependency_xyz\n")
    (tmp_path / "router_site.py").write_text(ROUTER_SITE)
    return tmp_path


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "httpkit", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,  # the tests check the exit status themselves
    )


def test_help_lists_every_setting_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for setting in SETTINGS:
        assert setting.flag in text
        assert setting.env_var in text
    assert "[default: 127.0.0.1;" in text
    assert "[default: 8000;" in text
    assert "[default: 4;" in text


def test_help_says_serve_runs_wsgi_or_asgi_applications(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "serve a WSGI or ASGI application" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert text.count("Serve a WSGI or ASGI application (detected, or named by --interface).") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "hello_site:app", "--no-such-option"], "unknown option --no-such-option"),
        (["serve", "hello_site:app", "--port", "70000"], "port: must be at most 65535"),
        (["serve", "hello_site:app", "--port", "+80"], "port: expected a whole number"),
        (["serve", "hello_site:app", "--threads", "-1"], "threads: must be at least 0, got -1"),
        (["serve", "hello_site:app", "--host", "::1::2"], "host: not a valid IPv6 address"),
        (["serve", "hello_site:app", "--url-prefix", "app/"], "url_prefix: must start with /"),
        (["serve", "missing_module:app"], "cannot import 'missing_module': no such module"),
        (["serve", "broken_site:app"], "No module named 'no_such_dependency_xyz'"),
        (["serve", "hello_site:nothing"], "has no attribute 'nothing'"),
        (["serve", "hello_site:not_callable"], "not a WSGI application"),
        (["serve", "hello_site"], "expected MODULE:APP"),
        (["routes", "hello_site:app"], "not an httpkit.web.Router"),
    ],
)
def test_bad_settings_exit_with_one_clear_line(site: Path, args: list[str], message: str) -> None:
    result = run_cli(*args, cwd=site)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_environment_variable_is_reported(site: Path) -> None:
    result = run_cli("serve", "hello_site:app", cwd=site, env={"HTTPKIT_THREADS": "many"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "httpkit: error: threads: expected a whole number, got 'many'"
        " (from the environment variable HTTPKIT_THREADS)"
    )


def test_port_in_use_exits_non_zero(site: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "hello_site:app", "--port", str(port), cwd=site)
    assert result.returncode == 1
    expected = f"httpkit: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert result.stderr == expected


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def test_serve_with_options_and_environment(site: Path) -> None:
    with server_process(
        ["hello_site:create_app()", "--threads", "0", "--access-log"],
        cwd=str(site),
        env={"HTTPKIT_URL_PREFIX": "/env"},
    ) as server:
        assert fetch(server.url + "/env/page") == "hello from /env/page"
        # The command line wins over the environment.
    with server_process(
        ["hello_site:app", "--url-prefix", "/cli"],
        cwd=str(site),
        env={"HTTPKIT_URL_PREFIX": "/env"},
    ) as server:
        assert fetch(server.url + "/cli/x") == "hello from /cli/x"


def test_access_log_lines(site: Path) -> None:
    with server_process(["hello_site:app", "--access-log"], cwd=str(site)) as server:
        fetch(server.url + "/logged?q=1")
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /no version\r\nHost: x\r\n\r\n")  # no request line to log
            assert sock.recv(100).startswith(b"HTTP/1.1 400 ")
        server.process.send_signal(15)
        _, stderr = server.process.communicate(timeout=10)
    assert '"GET /logged?q=1 HTTP/1.1" 200 18' in stderr
    # Answered by the server itself, also logged, with the size of its own error body.
    assert '"-" 400 16' in stderr


def test_sigterm_stops_the_server_cleanly(site: Path) -> None:
    with server_process(["hello_site:app"], cwd=str(site)) as server:
        assert fetch(server.url + "/") == "hello from /"
    # server_process asserts the exit status 0 after SIGTERM.


def test_routes_prints_the_route_table(site: Path) -> None:
    result = run_cli("routes", "router_site:router", cwd=site)
    assert result.returncode == 0, result.stderr
    assert "/books/{id}" in result.stdout
    assert "book" in result.stdout


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_access_log_is_on_by_default_and_accurate(site: Path) -> None:
    with server_process(["hello_site:app", "--max-body", "10"], cwd=str(site)) as server:
        port = int(server.url.rsplit(":", 1)[1])
        big = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 999\r\n\r\n"
        assert _raw(port, big).startswith(b"HTTP/1.1 413 ")
        head = _raw(port, b"HEAD /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ") and head.endswith(b"\r\n\r\n")
        spaced = b"GET /spaced HTTP/1.1\r\nHost: x\r\nFoo : bar\r\n\r\n"
        assert _raw(port, spaced).startswith(b"HTTP/1.1 400 ")
        twice = b"GET /twice HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n\r\n"
        assert _raw(port, twice).startswith(b"HTTP/1.1 400 ")
        server.process.send_signal(15)
        _, stderr = server.process.communicate(timeout=10)
    # The request line of a head refused for its Content-Length, and its 413 body's size.
    assert '"POST /upload HTTP/1.1" 413 22' in stderr
    assert '"HEAD /page HTTP/1.1" 200 -' in stderr  # no body sent, like Apache
    # A head refused for a field once its request line was read logs that line too.
    assert '"GET /spaced HTTP/1.1" 400 16' in stderr
    assert '"GET /twice HTTP/1.1" 400 16' in stderr


def test_no_access_log_turns_it_off(site: Path) -> None:
    with server_process(["hello_site:app", "--no-access-log"], cwd=str(site)) as server:
        fetch(server.url + "/quiet")
        server.process.send_signal(15)
        _, stderr = server.process.communicate(timeout=10)
    assert "/quiet" not in stderr
