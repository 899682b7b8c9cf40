"""The local notes app: forms and redirects, single-threaded, many tabs, a real browser."""

from __future__ import annotations

import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from example_commands import httpkit_serve
from webtest import TestApp

from examples.localapp import make_app
from httpkit.testing import live_server

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


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "notes.db"


@pytest.fixture
def client(db_path: Path) -> Iterator[TestApp]:
    guarded = make_app(str(db_path))
    yield TestApp(guarded, extra_environ=LOCAL)
    guarded.close()


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
    guarded = make_app(str(db_path))
    with live_server(guarded, threads=0) as server:
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
    guarded.close()


def test_opens_in_a_real_browser_from_the_documented_command(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    arguments = ("--threads", "0", "--host", "127.0.0.1")
    environ = {"LOCALAPP_DB": str(tmp_path / "browser.db")}
    with httpkit_serve("examples.localapp:app", tmp_path, arguments, environ) as port:
        url = f"http://127.0.0.1:{port}/"
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
