"""The local notes app: forms and redirects, single-threaded, many tabs, a real browser."""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from webtest import TestApp

from examples.localapp import make_app
from httpkit.testing import live_server

ROOT = Path(__file__).resolve().parent.parent.parent
LOCAL = {"HTTP_HOST": "127.0.0.1:8000"}
TOKEN = re.compile(r'name="token" value="([^"]+)"')
IDLE_CONNECTIONS = 8
REQUEST_SECONDS = 5.0
BROWSER_SECONDS = 30.0
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
PORT_IN_LOG = re.compile(rb"serving on http://127\.0\.0\.1:(\d+)")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "notes.db"


@pytest.fixture
def client(db_path: Path) -> TestApp:
    return TestApp(make_app(str(db_path)), extra_environ=LOCAL)


def token_of(page_text: str) -> str:
    found = TOKEN.search(page_text)
    assert found is not None, "the page has no form token"
    return found.group(1)


def add(client: TestApp, text: str) -> object:
    token = token_of(client.get("/").text)
    return client.post("/notes", {"text": text, "token": token}, status=303)


def test_adding_a_note_redirects_to_the_list(client: TestApp) -> None:
    assert "No notes yet" in client.get("/").text
    response = add(client, "Buy <milk> & bread")
    page = response.follow(extra_environ=LOCAL)  # type: ignore[attr-defined]
    assert "Buy &lt;milk&gt; &amp; bread" in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_invalid_note_is_400_with_the_form_again(client: TestApp, db_path: Path) -> None:
    token = token_of(client.get("/").text)
    page = client.post("/notes", {"text": "   ", "token": token}, status=400)
    assert "A note needs between 1 and 500 characters" in page.text
    too_long = client.post("/notes", {"text": "x" * 501, "token": token}, status=400)
    assert 'value="' + "x" * 501 in too_long.text  # the draft is kept for editing
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM notes").fetchone() == (0,)


def test_toggle_and_delete(client: TestApp) -> None:
    add(client, "Walk the dog")
    token = token_of(client.get("/").text)
    client.post("/notes/1/toggle", {"token": token}, status=303)
    assert '<li class="done">' in client.get("/").text
    client.post("/notes/1/delete", {"token": token}, status=303)
    assert "Walk the dog" not in client.get("/").text
    client.post("/notes/1/delete", {"token": token}, status=404)


def test_forms_from_elsewhere_and_foreign_hosts_are_refused(client: TestApp) -> None:
    client.post("/notes", {"text": "csrf", "token": "guessed"}, status=403)
    client.post("/notes", {"text": "csrf"}, status=403)
    client.get("/", extra_environ={"HTTP_HOST": "attacker.example:8000"}, status=421)
    assert "csrf" not in client.get("/").text


def test_no_transaction_is_left_open_between_requests(client: TestApp, db_path: Path) -> None:
    for number in range(3):
        add(client, f"note {number}")
    # Another writer gets the lock at once (timeout 0): nothing was left uncommitted.
    with sqlite3.connect(db_path, timeout=0) as other:
        other.execute("INSERT INTO notes (text) VALUES ('from outside')")
    assert "from outside" in client.get("/").text


def test_many_idle_tabs_do_not_block_a_single_threaded_server(db_path: Path) -> None:
    with live_server(make_app(str(db_path)), threads=0) as server:
        idle: list[socket.socket] = []
        try:
            # Half the "tabs" connect and send nothing (speculative connections), half
            # load the page and keep their connection open (keep-alive).
            for number in range(IDLE_CONNECTIONS):
                sock = socket.create_connection((server.host, server.port), REQUEST_SECONDS)
                idle.append(sock)
                if number % 2:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            started = time.monotonic()
            with httpx.Client(base_url=server.url, timeout=REQUEST_SECONDS) as browser:
                token = token_of(browser.get("/").text)
                posted = browser.post("/notes", data={"text": "still responsive", "token": token})
                assert posted.status_code == 303
                assert "still responsive" in browser.get(posted.headers["Location"]).text
            assert time.monotonic() - started < REQUEST_SECONDS
        finally:
            for sock in idle:
                sock.close()


def test_opens_in_a_real_browser_from_the_documented_command(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    environ["LOCALAPP_DB"] = str(tmp_path / "browser.db")
    command = [sys.executable, "-m", "httpkit", "serve", "examples.localapp:app",
               "--threads", "0", "--host", "127.0.0.1", "--port", "0"]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{_wait_for_port(server)}/"
        with httpx.Client(timeout=REQUEST_SECONDS) as http:
            token = token_of(http.get(url).text)
            http.post(url + "notes", data={"text": "seen by chromium", "token": token})
        with tempfile.TemporaryDirectory() as profile:
            dom = subprocess.run(
                [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                capture_output=True,
                timeout=BROWSER_SECONDS,
                check=False,
            )
        assert "seen by chromium" in dom.stdout.decode(errors="replace"), dom.stderr[-2000:]
    finally:
        server.terminate()
        server.wait(10)


def _wait_for_port(process: subprocess.Popen[bytes]) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + REQUEST_SECONDS * 4
    seen = b""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
        found = PORT_IN_LOG.search(line)
        if found:
            return int(found.group(1))
    raise AssertionError(f"the server did not start: {seen.decode(errors='replace')}")
