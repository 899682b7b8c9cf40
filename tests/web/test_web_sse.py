"""Server-sent events over a real server, in both execution modes, read by a real client."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
from sse_client import next_event, read_events

from httpkit.testing import live_server
from httpkit.web import Event, EventHub, EventStream, Request, Router

WAIT = 5.0
MODES = pytest.mark.parametrize("threads", [0, 4], ids=["inline", "threads"])


def wait_until(condition: object, seconds: float = WAIT) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


def hub_app(hub: EventHub, *, heartbeat: float = 15.0, retry: int | None = None) -> Router:
    router = Router()
    router.add("/events", lambda request: hub.stream(request, heartbeat=heartbeat, retry=retry))
    router.add("/hello", lambda request: "hello")
    return router


# -- the wire format ---------------------------------------------------------------------


def test_an_event_with_every_field_and_multiline_data() -> None:
    encoded = Event("one\ntwo\r\nthree\rfour", event="tick", id="7", retry=2500).encode()
    assert encoded == (
        b"event: tick\nid: 7\nretry: 2500\ndata: one\ndata: two\ndata: three\ndata: four\n\n"
    )
    assert Event("").encode() == b"data: \n\n"


@pytest.mark.parametrize("field", ["id", "event"])
@pytest.mark.parametrize("value", ["a\nevent: evil", "a\rb", "a\r\nb"])
def test_line_breaks_cannot_inject_fields(field: str, value: str) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        Event("x", **{field: value})  # type: ignore[arg-type]


def test_bad_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        Event("x", id="a\0b")
    with pytest.raises(ValueError, match="retry"):
        Event("x", retry=-1)
    with pytest.raises(TypeError, match="data"):
        Event(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="heartbeat"):
        EventStream([], heartbeat=0)


# -- streams over a real server ----------------------------------------------------------


@MODES
def test_events_reach_a_real_client(threads: int) -> None:
    hub = EventHub()
    with (
        live_server(hub_app(hub, retry=3000), threads=threads) as server,
        httpx.stream("GET", server.url + "/events", timeout=WAIT) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        events = read_events(response)
        preamble = next(events)
        # The retry field alone: a data line would give the page an empty message.
        assert (preamble.retry, preamble.fields) == (3000, ["retry"])
        assert wait_until(lambda: hub.streams == 1)
        hub.publish("line one\nline two", event="status")
        hub.publish("second", id="custom-id")
        first, second = next_event(events), next_event(events)
    assert (first.event, first.data, first.id) == ("status", "line one\nline two", "1")
    assert (second.event, second.data, second.id) == ("message", "second", "custom-id")


@MODES
def test_an_idle_stream_sends_heartbeats_and_outlives_the_timeouts(threads: int) -> None:
    """Quiet for longer than the send and keep-alive timeouts, the stream stays open:
    heartbeat comments keep it warm, and an event still arrives afterwards."""
    hub = EventHub()
    app = hub_app(hub, heartbeat=0.2)
    settings = {"send_timeout": 0.3, "keepalive_timeout": 0.3}
    with (
        live_server(app, threads=threads, **settings) as server,
        httpx.stream("GET", server.url + "/events", timeout=WAIT) as response,
    ):
        events = read_events(response)
        assert next(events).comment == "stream opened"
        started = time.monotonic()
        heartbeats = 0
        while time.monotonic() - started < 1.0:
            received = next(events)
            assert received.comment == ""
            heartbeats += 1
        hub.publish("still here")
        assert next_event(events).data == "still here"
    assert 3 <= heartbeats <= 7  # about one per 0.2 s


@MODES
def test_a_reconnection_resumes_after_last_event_id(threads: int) -> None:
    hub = EventHub()
    for number in range(5):
        hub.publish(f"event {number}")
    headers = {"Last-Event-ID": "3"}
    with (
        live_server(hub_app(hub), threads=threads) as server,
        httpx.stream("GET", server.url + "/events", headers=headers, timeout=WAIT) as response,
    ):
        events = read_events(response)
        assert [next_event(events).data for _ in range(2)] == ["event 3", "event 4"]
        hub.publish("event 5")
        assert next_event(events).data == "event 5"


def test_the_handler_gets_last_event_id() -> None:
    seen: list[str | None] = []

    def handler(request: Request) -> EventStream:
        seen.append(request.last_event_id)
        return EventStream(["done"])

    router = Router()
    router.add("/events", handler)
    with live_server(router, threads=2) as server:
        httpx.get(server.url + "/events", headers={"Last-Event-ID": "41"}, timeout=WAIT)
        httpx.get(server.url + "/events", timeout=WAIT)
    assert seen == ["41", None]


@MODES
@pytest.mark.parametrize("loop", ["asyncio", "auto"])  # auto: uvloop when installed
def test_the_stream_ends_promptly_when_the_client_goes_away(threads: int, loop: str) -> None:
    """No event and no heartbeat is due (heartbeat 60 s): the server itself notices the
    client closing and closes the stream's source at once."""
    hub = EventHub()
    with live_server(hub_app(hub, heartbeat=60.0), threads=threads, loop=loop) as server:
        for _ in range(3):
            with httpx.stream("GET", server.url + "/events", timeout=WAIT) as response:
                events = read_events(response)  # kept: dropping it would close the response
                next(events)
                assert wait_until(lambda: hub.streams == 1)
            started = time.monotonic()
            assert wait_until(lambda: hub.streams == 0, 2.0), "the stream was not closed"
            assert time.monotonic() - started < 1.0
        # A client that resets the connection instead of closing it.
        sock = socket.create_connection((server.host, server.port), WAIT)
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        assert wait_until(lambda: hub.streams == 0, 2.0)


def test_an_inline_stream_waiting_for_events_does_not_block_the_loop() -> None:
    hub = EventHub()
    with live_server(hub_app(hub, heartbeat=60.0), threads=0) as server, ExitStack() as streams:
        for _ in range(5):
            streams.enter_context(httpx.stream("GET", server.url + "/events", timeout=WAIT))
        assert wait_until(lambda: hub.streams == 5)
        started = time.monotonic()
        assert httpx.get(server.url + "/hello", timeout=WAIT).text == "hello"
        assert time.monotonic() - started < 1.0


def test_a_generator_source_runs_on_worker_threads_and_is_refused_inline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def countdown(request: Request) -> EventStream:
        def events() -> Iterator[Event | str | None]:
            yield Event("3", id="a")
            yield None  # a heartbeat
            yield "2"

        return EventStream(events())

    router = Router()
    router.add("/events", countdown)
    with live_server(router, threads=2) as server:
        body = httpx.get(server.url + "/events", timeout=WAIT).text
    assert body == ": stream opened\nid: a\ndata: 3\n\n:\ndata: 2\n\n"
    with live_server(router, threads=0) as server:
        assert httpx.get(server.url + "/events", timeout=WAIT).status_code == 500
    assert "would block the single-threaded server (--threads 0)" in caplog.text


def test_a_generator_stream_takes_a_slot_too_and_head_sends_no_body() -> None:
    release = threading.Event()

    def slow(request: Request) -> EventStream:
        def events() -> Iterator[str]:
            release.wait(WAIT)  # blocks its worker thread, as a generator does
            yield "late"

        return EventStream(events())

    router = Router()
    router.add("/events", slow)
    with live_server(router, threads=2, max_streams=1) as server, ExitStack() as streams:
        first = streams.enter_context(httpx.stream("GET", server.url + "/events", timeout=WAIT))
        assert first.status_code == 200
        assert httpx.get(server.url + "/events", timeout=WAIT).status_code == 503
        release.set()
        assert first.read().endswith(b"data: late\n\n")
        head = httpx.head(server.url + "/events", timeout=WAIT)
        assert head.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert head.content == b""


@MODES
def test_streams_past_max_streams_get_503(threads: int) -> None:
    hub = EventHub()
    with live_server(hub_app(hub, heartbeat=60.0), threads=threads, max_streams=1) as server:
        with httpx.stream("GET", server.url + "/events", timeout=WAIT) as first:
            assert first.status_code == 200
            refused = httpx.get(server.url + "/events", timeout=WAIT)
            assert refused.status_code == 503
            assert refused.headers["retry-after"]
            assert httpx.get(server.url + "/hello", timeout=WAIT).text == "hello"
        # The slot is given back when the stream ends.
        assert wait_until(lambda: hub.streams == 0)
        with httpx.stream("GET", server.url + "/events", timeout=WAIT) as again:
            assert again.status_code == 200


def test_thread_mode_keeps_half_the_threads_for_other_requests() -> None:
    hub = EventHub()
    with live_server(hub_app(hub, heartbeat=60.0), threads=4) as server, ExitStack() as streams:
        responses = [
            streams.enter_context(httpx.stream("GET", server.url + "/events", timeout=WAIT))
            for _ in range(3)
        ]
        assert [response.status_code for response in responses] == [200, 200, 503]
        assert httpx.get(server.url + "/hello", timeout=WAIT).text == "hello"


def test_one_worker_thread_still_serves_a_stream() -> None:
    # --threads 1 (the SQLite configuration): half of one thread must not mean no stream.
    hub = EventHub()
    with (
        live_server(hub_app(hub, heartbeat=60.0), threads=1) as server,
        httpx.stream("GET", server.url + "/events", timeout=WAIT) as response,
    ):
        assert response.status_code == 200
        assert wait_until(lambda: hub.streams == 1)
        hub.publish("only")
        assert next_event(read_events(response)).data == "only"


@MODES
def test_stopping_the_server_ends_open_streams(threads: int) -> None:
    hub = EventHub()
    with ExitStack() as streams:
        with live_server(hub_app(hub, heartbeat=60.0), threads=threads) as server:
            streams.enter_context(httpx.stream("GET", server.url + "/events", timeout=WAIT))
            assert wait_until(lambda: hub.streams == 1)
            started = time.monotonic()
        assert time.monotonic() - started < 2.0  # the stop did not wait for the stream
        assert hub.streams == 0


def test_events_reach_every_stream_in_the_order_published() -> None:
    hub = EventHub(history=0, max_queued=10_000)
    subscriptions = [hub.subscribe() for _ in range(3)]

    def publish_many() -> None:
        for _ in range(500):
            hub.publish("x")

    publishers = [threading.Thread(target=publish_many) for _ in range(4)]
    for thread in publishers:
        thread.start()
    for thread in publishers:
        thread.join(WAIT)
    orders = [
        [int(re.search(rb"id: (\d+)", event).group(1)) for event in subscription.take()]  # type: ignore[union-attr]
        for subscription in subscriptions
    ]
    assert orders[0] == sorted(orders[0]) and len(orders[0]) == 2000
    assert orders[0] == orders[1] == orders[2]


def test_a_slow_stream_falls_behind_and_ends_for_a_resume() -> None:
    with pytest.raises(ValueError, match="history"):
        EventHub(history=10, max_queued=3)
    hub = EventHub(history=3, max_queued=3)
    subscription = hub.subscribe()
    for number in range(5):
        hub.publish(str(number))
    assert subscription.ended
    assert len(subscription.take()) == 3  # what it had before it fell behind


def test_another_wsgi_server_blocks_in_the_subscription() -> None:
    """Under wsgiref (no httpkit.stream in the environ) the body waits by itself."""

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    hub = EventHub()
    wsgi_server = make_server("127.0.0.1", 0, hub_app(hub, heartbeat=0.2), handler_class=Quiet)
    thread = threading.Thread(target=wsgi_server.handle_request, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{wsgi_server.server_port}/events"
        with httpx.stream("GET", url, timeout=WAIT) as response:
            events = read_events(response)
            assert next(events).comment == "stream opened"
            assert next(events).comment == ""  # a heartbeat, after 0.2 s
            hub.publish("from wsgiref")
            assert next_event(events).data == "from wsgiref"
    finally:
        thread.join(WAIT)
        wsgi_server.server_close()
