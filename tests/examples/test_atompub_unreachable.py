"""A PostgreSQL database that cannot be reached: one clear log line at start-up, and a
quick 503 with Retry-After per request -- not a 500 after a long wait."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from atompub_helpers import ENTRY_HEADERS, atompub_client, entry_xml
from example_commands import PORT_IN_LOG, ROOT, STARTUP_SECONDS, STOP_SECONDS
from webtest import TestApp

from examples.atompub import make_app
from httpkit.testing import live_server

pytest.importorskip("psycopg", reason="psycopg is not installed (the test extra has it)")

from examples.atompub.postgres_store import PostgresStore
from examples.atompub.store import without_password

QUICK = 2.0  # seconds: far below the old 10 s wait for the pool
LOGGER = "examples.atompub"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local TCP port that refuses connections: bound, never listening, so that no
    other program can take it during the test."""
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        yield reserved.getsockname()[1]


@pytest.fixture(params=["closed port", "missing socket directory"])
def unreachable(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "closed port":
        port = request.getfixturevalue("closed_port")
        return f"postgresql://blog:s3cret@127.0.0.1:{port}/blog"
    return f"postgresql://blog:s3cret@/blog?host={tmp_path / 'no-such-directory'}"


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= 30]


def test_start_up_logs_one_line_naming_the_url_without_its_password(
    unreachable: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        started = time.monotonic()
        app = make_app(unreachable)
        assert time.monotonic() - started < QUICK + 1  # (the first import of psycopg)
        client = TestApp(app)
        for _ in range(3):
            client.get("/entries", status=503)
    [line] = warnings_of(caplog)
    assert without_password(unreachable) in line
    assert "s3cret" not in caplog.text
    assert "cannot be reached" in line and "503" in line
    assert "\n" not in line
    # The 503s are not logged as application errors (no traceback per request).
    assert not [r for r in caplog.records if r.name.startswith("httpkit")]


@pytest.mark.parametrize("kind", ["wsgi", "live"])
def test_each_request_gets_a_quick_503_with_retry_after(unreachable: str, kind: str) -> None:
    with atompub_client(kind, unreachable) as client:
        for method, path in [("GET", "/entries"), ("GET", "/"), ("POST", "/entries")]:
            started = time.monotonic()
            if method == "POST":
                body, headers = entry_xml("T"), {**ENTRY_HEADERS, "Accept": "text/plain"}
                answer = client.post(path, body, headers=headers, status=503)
            else:
                answer = client.get(path, headers={"Accept": "text/plain"}, status=503)
            assert time.monotonic() - started < QUICK, (method, path)
            assert answer.headers["Retry-After"] == "5"
            assert "The database cannot be reached right now" in answer.text
            assert len(answer.body) < 200


def test_the_timeout_setting_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ATOMPUB_DB_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="ATOMPUB_DB_TIMEOUT must be a number of seconds"):
        make_app(str(tmp_path / "a.db"))
    with pytest.raises(ValueError, match="> 0"):
        make_app(str(tmp_path / "a.db"), db_timeout=0)


def test_httpkit_serve_says_so_once_and_serves_503(closed_port: int, tmp_path: Path) -> None:
    url = f"postgresql://blog:s3cret@127.0.0.1:{closed_port}/blog"
    env = {
        **os.environ,
        "ATOMPUB_DB": url,
        "ATOMPUB_DB_TIMEOUT": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
    }
    command = [sys.executable, "-m", "httpkit", "serve", "examples.atompub:app", "--port", "0"]
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as process:
        try:
            port, before = _start(process)
            for _ in range(3):
                answer = httpx.get(f"http://127.0.0.1:{port}/entries", timeout=QUICK)
                assert answer.status_code == 503
                assert answer.headers["Retry-After"] == "5"
        finally:
            process.terminate()
            after, _ = process.communicate(timeout=STOP_SECONDS)
    output = before + after
    assert output.count(b"cannot be reached") == 1, output
    assert f"postgresql://blog@127.0.0.1:{closed_port}/blog".encode() in before
    assert b"s3cret" not in output and b"Traceback" not in output


def _start(process: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    """The port the server bound, and what it wrote until then."""
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:  # and readline() returns b"" once the process exits
        line = process.stdout.readline()
        if not line:
            break
        seen += line
        found = PORT_IN_LOG.search(line)
        if found:
            return int(found.group(1)), seen
    raise AssertionError(f"the server did not start: {seen.decode(errors='replace')}")


def test_a_busy_pool_answers_503_after_its_timeout(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, max_connections=1, timeout=0.5)
    app = make_app(store=store)
    try:
        client = TestApp(app)
        client.get("/entries", status=200)
        with store.read():  # holds the pool's only connection
            started = time.monotonic()
            answer = client.get("/entries", status=503)
            assert 0.4 < time.monotonic() - started < QUICK
            assert answer.headers["Retry-After"] == "5"
        client.get("/entries", status=200)  # the pool was only busy: kept
    finally:
        store.close()


def test_the_service_recovers_when_the_database_comes_back(
    postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The database is reached through a socket directory that does not exist yet.
    real_directory = postgres_url.split("host=")[1].split("&", maxsplit=1)[0]
    later = tmp_path / "later"
    url = postgres_url.replace(real_directory, str(later))
    store = PostgresStore(url, timeout=1, retry_after=1)
    try:
        with caplog.at_level(logging.INFO), live_server(make_app(store=store)) as server:
            assert httpx.get(f"{server.url}/entries").status_code == 503
            later.mkdir()
            (later / ".s.PGSQL.5432").symlink_to(Path(real_directory) / ".s.PGSQL.5432")
            assert httpx.get(f"{server.url}/entries").status_code == 503  # within retry_after
            time.sleep(1.2)
            assert httpx.get(f"{server.url}/entries").status_code == 200
        messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
        assert len(messages) == 2 and "is reachable again" in messages[1]
    finally:
        store.close()


def test_a_server_restart_costs_no_request(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, timeout=1, retry_after=1)
    try:
        with live_server(make_app(store=store)) as server:
            assert httpx.get(f"{server.url}/entries").status_code == 200
            _terminate_backends(postgres_url)  # as a server restart does
            statuses = [httpx.get(f"{server.url}/entries").status_code for _ in range(2)]
            assert statuses == [200, 200]
    finally:
        store.close()


def _terminate_backends(url: str) -> None:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    time.sleep(0.1)  # the backends end


def test_a_password_never_reaches_the_log() -> None:
    assert without_password("postgresql://u:p@h:5432,h2/db?sslmode=require&password=q") == (
        "postgresql://u@h:5432,h2/db?sslmode=require"
    )
    assert without_password("postgresql:///db?host=/run/pg") == "postgresql:///db?host=/run/pg"
