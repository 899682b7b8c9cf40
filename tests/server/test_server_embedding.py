"""The embedding API: httpkit.serving() in a background thread, httpkit.AsyncServer on
the program's own loop, and httpkit.serve() where it cannot work (off the main thread,
inside a running loop) refused before anything is bound."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any

import pytest

import httpkit
from httpkit.errors import ConfigError


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from " + environ["PATH_INFO"].encode()]


def make_app() -> Any:
    return hello


class SlowApp:
    """Answers once :attr:`release` is set; :attr:`entered` says a request is inside."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.entered.set()
        self.release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"finished"]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def process_state() -> tuple[Any, ...]:
    """What a library must leave alone: signal dispositions and logging's set-up."""
    own = logging.getLogger("httpkit")
    return (
        tuple(signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)),
        tuple(own.handlers),
        own.level,
        own.propagate,
        tuple(logging.getLogger().handlers),
        tuple(logging.getLogger("httpkit.access").handlers),
    )


# -- httpkit.serving(): a background thread ----------------------------------------------


def test_serving_returns_once_listening_and_stops_when_the_block_ends() -> None:
    before = process_state()
    with httpkit.serving(hello, port=0, threads=2) as server:
        assert process_state() == before
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.addresses == [("127.0.0.1", server.port)]
        assert fetch(server.url + "/status") == b"hello from /status"
        port = server.port
    assert refuses_connections(port)
    assert not [t for t in threading.enumerate() if t.name == "httpkit-server"]
    assert process_state() == before


def test_leaving_the_block_lets_a_request_in_progress_finish() -> None:
    app = SlowApp()
    answers: list[bytes] = []
    with httpkit.serving(app, port=0, threads=2) as server:
        client = threading.Thread(target=lambda: answers.append(fetch(server.url + "/")))
        client.start()
        assert app.entered.wait(10)
        threading.Timer(0.3, app.release.set).start()
    client.join(10)
    assert answers == [b"finished"]


def test_stop_with_a_grace_cuts_what_outlives_it() -> None:
    app = SlowApp()
    failures: list[BaseException] = []

    def request(url: str) -> None:
        try:
            fetch(url)
        except (OSError, urllib.error.URLError) as error:
            failures.append(error)

    server = httpkit.BackgroundServer(app, port=0, threads=2)
    server.start()
    client = threading.Thread(target=request, args=(server.url + "/",))
    client.start()
    assert app.entered.wait(10)
    began = time.monotonic()
    server.stop(grace=0.3)
    assert time.monotonic() - began < 5
    app.release.set()
    client.join(10)
    assert len(failures) == 1  # the client saw its connection cut, not an answer
    server.stop()  # stopping again does nothing


def test_a_port_in_use_is_raised_in_the_callers_thread_before_the_block() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        entered = False
        with (
            pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"),
            httpkit.serving(hello, port=port),
        ):
            entered = True
        assert not entered
    assert not [t for t in threading.enumerate() if t.name == "httpkit-server"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"thread": 2}, r"unknown setting: thread \(did you mean threads\?\)"),
        ({"threads": -1}, "threads: must be at least 0, got -1"),
        ({"workers": 2}, "workers: not a setting of an embedded server"),
        ({"reload": True}, "reload: not a setting of an embedded server"),
        ({"log_level": "debug"}, "log_level: not a setting of an embedded server"),
    ],
)
def test_bad_settings_are_refused_as_serve_refuses_them(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message), httpkit.serving(hello, port=0, **settings):
        pytest.fail("the block must not run")


def test_a_factory_passed_instead_of_its_app_is_refused() -> None:
    with (
        pytest.raises(ConfigError, match=r"make_app is an application factory.*make_app\(\)"),
        httpkit.serving(make_app, port=0),
    ):
        pytest.fail("the block must not run")


def test_serving_on_a_unix_socket(tmp_path: Any) -> None:
    path = str(tmp_path / "status.sock")
    with httpkit.serving(hello, unix=path) as server:
        assert server.url == "unix:" + path
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(path)
            client.sendall(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := client.recv(4096):
                answer += chunk
        assert answer.endswith(b"hello from /x")
        with pytest.raises(RuntimeError, match="no TCP listener"):
            _ = server.port


# -- httpkit.AsyncServer: the program's own loop -----------------------------------------


async def get(port: int, path: str) -> bytes:
    """One HTTP/1.1 request with asyncio's streams: the loop stays free meanwhile."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer.partition(b"\r\n\r\n")[2]


def test_two_servers_in_the_tests_own_loop() -> None:
    seen: dict[str, Any] = {}

    def on_the_loop(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        # threads=0: the application runs on the program's loop, beside its tasks.
        seen["loop"] = asyncio.get_running_loop()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"inline"]

    async def program() -> None:
        before = process_state()  # asyncio.run's own SIGINT handler included
        async with (
            httpkit.AsyncServer(hello, port=0, threads=2) as first,
            httpkit.AsyncServer(on_the_loop, port=0, threads=0) as second,
        ):
            assert process_state() == before
            assert first.port != second.port
            assert await get(first.port, "/one") == b"hello from /one"
            assert await get(second.port, "/two") == b"inline"
            assert seen["loop"] is asyncio.get_running_loop()
            ports = (first.port, second.port)
        for port in ports:
            assert refuses_connections(port)
        assert process_state() == before

    asyncio.run(program())


def test_start_and_stop_drain_a_request_in_progress() -> None:
    app = SlowApp()

    async def program() -> None:
        server = httpkit.AsyncServer(app, port=0, threads=2)
        with pytest.raises(RuntimeError, match="not started"):
            _ = server.url
        await server.start()
        with pytest.raises(RuntimeError, match="started already"):
            await server.start()
        request = asyncio.create_task(get(server.port, "/"))
        while not app.entered.is_set():
            await asyncio.sleep(0.01)
        asyncio.get_running_loop().call_later(0.3, app.release.set)
        await server.stop()
        assert await request == b"finished"
        assert refuses_connections(server.port)
        await server.stop()  # stopping again does nothing

    asyncio.run(program())


def test_serve_forever_drains_and_stops_when_cancelled() -> None:
    async def program() -> None:
        server = httpkit.AsyncServer(hello, port=0)
        serving = asyncio.create_task(server.serve_forever())
        while True:
            try:
                port = server.port
                break
            except RuntimeError:  # not listening yet
                await asyncio.sleep(0.01)
        assert await get(port, "/") == b"hello from /"
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving
        assert refuses_connections(port)

    asyncio.run(program())


def test_a_start_up_error_is_raised_by_start_which_may_be_tried_again() -> None:
    async def program() -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            server = httpkit.AsyncServer(hello, port=port)
            with pytest.raises(ConfigError, match="cannot listen on"):
                await server.start()
        # The port is free now: a failed start may be tried again.
        async with server:
            assert await get(port, "/again") == b"hello from /again"

    asyncio.run(program())


def test_the_loop_setting_is_refused_on_the_programs_loop() -> None:
    with pytest.raises(ConfigError, match="loop: not a setting of an embedded server"):
        httpkit.AsyncServer(hello, loop="asyncio")


# -- httpkit.serve() where it cannot block ------------------------------------------------


def test_serve_off_the_main_thread_refuses_before_binding(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    raised: list[BaseException] = []

    def call_serve() -> None:
        try:
            httpkit.serve(hello, port=port)
        except BaseException as error:
            raised.append(error)

    with caplog.at_level(logging.INFO, logger="httpkit"):
        thread = threading.Thread(target=call_serve)
        thread.start()
        thread.join(10)
    assert len(raised) == 1
    assert isinstance(raised[0], RuntimeError)
    assert "only the main thread" in str(raised[0])
    assert "httpkit.serving(app, ...)" in str(raised[0])
    assert "serving on" not in caplog.text
    assert refuses_connections(port)


def test_serve_inside_a_running_loop_refuses_before_binding() -> None:
    port = free_port()

    async def program() -> None:
        with pytest.raises(RuntimeError, match=r"httpkit.AsyncServer\(app, ...\)"):
            httpkit.serve(hello, port=port)

    asyncio.run(program())
    assert refuses_connections(port)
