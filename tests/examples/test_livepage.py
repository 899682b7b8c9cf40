"""The live page: a program's state followed over server-sent events, by a real SSE
client and by headless Chromium's EventSource, reconnection included."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cdp_pipe import CHROMIUM, Browser
from example_commands import httpkit_serve

from examples.livepage import Program, make_app
from httpkit.testing import live_server
from httpkit.web import EventHub
from httpkit.wsgitypes import Environ, StartResponse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))
from sse_client import next_event, read_events

WAIT = 5.0
MODES = pytest.mark.parametrize("threads", [0, 4], ids=["inline", "threads"])


class SeenLastEventIds:
    """WSGI middleware remembering each /events request's Last-Event-ID."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.ids: list[str | None] = []
        self.lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        if environ["PATH_INFO"] == "/events":
            with self.lock:
                self.ids.append(environ.get("HTTP_LAST_EVENT_ID"))
        return self.app(environ, start_response)


def test_the_page_shows_the_state_rendered_and_escaped() -> None:
    program = Program(EventHub(), name="<Import> & co", total=10)
    program.step()
    with live_server(make_app(program), threads=0) as server:
        page = httpx.get(server.url + "/", timeout=WAIT)
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>&lt;Import&gt; &amp; co</h1>" in page.text
    assert '<span id="processed">1</span> of 10 items' in page.text
    assert 'new EventSource("/events")' in page.text


@MODES
def test_a_sse_client_follows_the_program_and_resumes(threads: int) -> None:
    program = Program(EventHub(), total=3)
    with live_server(make_app(program, retry=200), threads=threads) as server:
        with httpx.stream("GET", server.url + "/events", timeout=WAIT) as response:
            events = read_events(response)
            assert next(events).retry == 200
            program.step()
            program.step()
            states = [next_event(events) for _ in range(2)]
        assert [json.loads(state.data)["processed"] for state in states] == [1, 2]
        assert {state.event for state in states} == {"state"}
        # Gone for a while; back with the id of the last state it saw.
        program.step()
        program.step()
        headers = {"Last-Event-ID": states[-1].id or ""}
        with httpx.stream("GET", server.url + "/events", headers=headers, timeout=WAIT) as again:
            events = read_events(again)
            missed = [json.loads(next_event(events).data)["processed"] for _ in range(2)]
        assert missed == [3, 0]  # the job started over after its last item


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)
@MODES
def test_chromium_follows_live_and_resumes_after_the_stream_drops(
    threads: int, tmp_path: Path
) -> None:
    hub = EventHub()
    program = Program(hub, total=1000)
    app = SeenLastEventIds(make_app(program, retry=300))
    with live_server(app, threads=threads) as server:
        browser = Browser(tmp_path / "profile")
        try:
            browser.open(server.url + "/")
            browser.wait_for("document.body.dataset.opens === '1'")
            for _ in range(3):
                program.step()
            assert browser.wait_for("document.body.dataset.seen === '1,2,3'")
            assert browser.evaluate("document.getElementById('processed').textContent") == "3"
            # The stream drops; states published meanwhile must not be lost.
            hub.end_streams()
            for _ in range(2):
                program.step()
            browser.wait_for("document.body.dataset.opens === '2'")
            program.step()
            seen = browser.wait_for("document.body.dataset.seen.split(',').length >= 6 && "
                                    "document.body.dataset.seen")  # fmt: skip
            assert seen == "1,2,3,4,5,6"
            assert browser.evaluate("document.getElementById('connection').textContent") == "live"
        finally:
            browser.close()
    assert app.ids == [None, "3"]  # the reconnection said where it had stopped


def test_the_documented_command_serves_the_live_page(tmp_path: Path) -> None:
    with (
        httpkit_serve("examples.livepage:app", tmp_path, ("--threads", "0")) as port,
        httpx.stream("GET", f"http://127.0.0.1:{port}/events", timeout=WAIT) as response,
    ):
        events = read_events(response)
        started = time.monotonic()
        state = json.loads(next_event(events).data)  # the program publishes every second
        assert time.monotonic() - started < 3.0
    assert set(state) == {"processed", "total", "current"}
