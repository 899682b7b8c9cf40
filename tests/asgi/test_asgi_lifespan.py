"""The lifespan scope: startup and shutdown once per server (per worker process)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpkit.asgi.lifespan import Lifespan
from httpkit.embed import AsyncServer
from httpkit.errors import ConfigError
from httpkit.testing import live_server

Scope = dict[str, Any]


def lifespan_app(events: list[str], fail: str | None = None) -> Any:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    events.append("startup")
                    if fail is not None:
                        await send({"type": "lifespan.startup.failed", "message": fail})
                        return
                    scope["state"]["greeting"] = "hello from startup"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    events.append("shutdown")
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        events.append("request")
        body = scope["state"]["greeting"].encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


def test_startup_before_serving_shutdown_after_and_state_reaches_requests() -> None:
    events: list[str] = []
    with live_server(lifespan_app(events)) as server:
        assert events == ["startup"]
        assert httpx.get(server.url + "/").text == "hello from startup"
        assert httpx.get(server.url + "/").status_code == 200
    assert events == ["startup", "request", "request", "shutdown"]


def test_a_failed_startup_stops_the_start_with_its_message() -> None:
    events: list[str] = []
    failing = live_server(lifespan_app(events, fail="no database"))
    with pytest.raises(ConfigError, match="the application's startup failed: no database"):
        failing.__enter__()
    assert events == ["startup"]


def test_a_failed_startup_of_several_lines_says_its_first() -> None:
    failing = live_server(lifespan_app([], fail="no database\nat db.example:5432\n"))
    with pytest.raises(ConfigError) as failed:
        failing.__enter__()
    assert str(failed.value) == (
        "the application's startup failed: no database (its whole message at --log-level debug)"
    )


def test_an_app_without_lifespan_support_is_served(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        assert scope["type"] == "http", "only http here"
        assert "state" not in scope
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body"})

    with caplog.at_level("INFO", "httpkit.server"), live_server(app) as server:
        assert httpx.get(server.url + "/").status_code == 204
    assert "does not support the ASGI lifespan scope" in caplog.text


APP = textwrap.dedent(
    """
    import os

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].split(".")[1]
                with open(os.environ["EVENTS"], "a") as log:
                    log.write(f"{kind} {os.getpid()}\\n")
                if kind == "startup" and os.environ.get("FAIL"):
                    await send({"type": "lifespan.startup.failed", "message": "no database"})
                    return
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(os.getpid()).encode()})
    """
)


def serve(site: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "httpkit", "serve", "app:app", "--port", "0", *args],
        cwd=site,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_failed_startup_exits_with_a_clear_error(tmp_path: Path, workers: str) -> None:
    (tmp_path / "app.py").write_text(APP)
    process = serve(tmp_path, "--workers", workers, EVENTS=str(tmp_path / "events"), FAIL="1")
    _, stderr = process.communicate(timeout=20)
    assert process.returncode != 0
    assert "httpkit: error: the application's startup failed: no database" in stderr
    assert "Traceback" not in stderr


STARLETTE_APP = textwrap.dedent(
    """
    import contextlib

    from starlette.applications import Starlette

    @contextlib.asynccontextmanager
    async def lifespan(app):
        raise RuntimeError("cannot reach the database")
        yield

    app = Starlette(lifespan=lifespan)
    """
)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_startup_failed_with_a_traceback_is_one_line(tmp_path: Path, workers: str) -> None:
    pytest.importorskip("starlette")
    (tmp_path / "app.py").write_text(STARLETTE_APP)  # Starlette's message is its traceback
    process = serve(tmp_path, "--workers", workers)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (
        "httpkit: error: the application's startup failed: RuntimeError: cannot reach the "
        "database (its whole message at --log-level debug)"
    )


def test_the_whole_message_of_a_failed_startup_at_log_level_debug(tmp_path: Path) -> None:
    pytest.importorskip("starlette")
    (tmp_path / "app.py").write_text(STARLETTE_APP)
    process = serve(tmp_path, "--log-level", "debug")
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "Traceback (most recent call last):" in stderr
    assert 'raise RuntimeError("cannot reach the database")' in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("httpkit: error: the application's startup failed: RuntimeError")


def test_startup_and_shutdown_once_per_worker(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    events = tmp_path / "events"
    process = serve(tmp_path, "--workers", "2", EVENTS=str(events))
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if events.exists() and events.read_text().count("startup") == 2:
                break
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        process.terminate()
        process.communicate(timeout=20)
    lines = events.read_text().split()
    starts = sorted(lines[i + 1] for i in range(0, len(lines), 2) if lines[i] == "startup")
    stops = sorted(lines[i + 1] for i in range(0, len(lines), 2) if lines[i] == "shutdown")
    assert len(starts) == 2 and len(set(starts)) == 2  # one per worker process
    assert stops == starts


def test_cancelled_requests_clean_up_before_the_lifespan_shutdown() -> None:
    log: list[str] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            log.append("lifespan shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        try:
            while True:
                await send(
                    {"type": "http.response.body", "body": b"data: x\n\n", "more_body": True}
                )
                await asyncio.sleep(0.05)
        finally:
            await asyncio.sleep(0.05)  # e.g. recording the stream's end in a database
            log.append("request cleanup")

    async def scenario() -> None:
        server = AsyncServer(app, host="127.0.0.1", port=0, access_log=False)
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.read(100)
        await server.stop(grace=0.2)
        writer.close()

    asyncio.run(asyncio.wait_for(scenario(), 10))
    assert log == ["request cleanup", "lifespan shutdown"]


def lingering_app(events: list[str], *, fail: bool) -> Any:
    """A lifespan scope that stays in the application after the server is done with it."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await receive()
        if fail:
            await send({"type": "lifespan.startup.failed", "message": "no database"})
        else:
            await send({"type": "lifespan.startup.complete"})
            await receive()  # the shutdown, which never completes
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    return app


def test_a_lifespan_past_its_shutdown_timeout_is_cancelled_and_awaited() -> None:
    events: list[str] = []

    async def scenario() -> None:
        lifespan = Lifespan(lingering_app(events, fail=False), {})
        await lifespan.startup()
        await lifespan.shutdown(0.05)
        assert events == ["cancelled"]  # already: not at the loop's close

    asyncio.run(scenario())


def test_a_failed_startup_cancels_and_awaits_the_lifespan_scope() -> None:
    events: list[str] = []

    async def scenario() -> None:
        lifespan = Lifespan(lingering_app(events, fail=True), {})
        with pytest.raises(ConfigError, match="no database"):
            await lifespan.startup()
        assert events == ["cancelled"]

    asyncio.run(scenario())
