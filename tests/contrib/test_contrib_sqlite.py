"""httpkit.contrib.sqlite: a forgotten commit becomes a 500 and never locks the database."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from httpkit import Router
from httpkit.contrib.sqlite import ENVIRON_KEY, SQLiteGuard, connection
from httpkit.testing import live_server


def make_guard(db_path: Path) -> SQLiteGuard:
    with sqlite3.connect(db_path) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS notes (text TEXT NOT NULL)")
    router = Router()

    def add(request: Any) -> str:
        db = connection(request)
        db.execute("INSERT INTO notes VALUES (?)", (request.params["text"],))
        if request.params.get("commit") == "yes":
            db.commit()
        return "added"

    def count(request: Any) -> str:
        (total,) = connection(request).execute("SELECT count(*) FROM notes").fetchone()
        return str(total)

    def crash(request: Any) -> str:
        connection(request).execute("INSERT INTO notes VALUES ('doomed')")
        raise RuntimeError("bug after the insert")

    def stream(request: Any) -> Iterator[str]:
        db = connection(request)
        yield "first "
        db.execute("INSERT INTO notes VALUES ('streamed')")
        yield "second"

    router.add("/add", add, methods=["POST"])
    router.add("/count", count)
    router.add("/crash", crash)
    router.add("/stream", stream)
    return SQLiteGuard(router, str(db_path))


@pytest.fixture
def guard(tmp_path: Path) -> Iterator[SQLiteGuard]:
    made = make_guard(tmp_path / "notes.db")
    yield made
    made.close()


def test_a_committed_write_goes_through(guard: SQLiteGuard) -> None:
    client = TestApp(guard)
    assert client.post("/add", {"text": "hi", "commit": "yes"}).text == "added"
    assert client.get("/count").text == "1"


def test_a_forgotten_commit_is_rolled_back_logged_and_500(
    guard: SQLiteGuard, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestApp(guard)
    with caplog.at_level(logging.ERROR, logger="httpkit.contrib.sqlite"):
        response = client.post("/add", {"text": "lost"}, status=500)
    assert "rolled back" in response.text
    assert "POST /add left a database transaction open" in caplog.text
    assert client.get("/count").text == "0"
    # The lock is free: another connection can write at once.
    with sqlite3.connect(
        guard.connection().execute("PRAGMA database_list").fetchone()[2], timeout=0.1
    ) as other:
        other.execute("INSERT INTO notes VALUES ('other writer')")
    assert client.get("/count").text == "1"


def test_an_exception_mid_transaction_is_rolled_back(guard: SQLiteGuard) -> None:
    client = TestApp(guard)
    client.get("/crash", status=500)
    assert not guard.connection().in_transaction
    assert client.get("/count").text == "0"


def test_a_streamed_body_that_leaves_a_transaction_is_rolled_back_on_close(
    guard: SQLiteGuard, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestApp(guard)
    with caplog.at_level(logging.ERROR, logger="httpkit.contrib.sqlite"):
        assert client.get("/stream").text == "first second"
    assert "streamed body" in caplog.text
    assert client.get("/count").text == "0"


def test_each_thread_has_its_own_connection(guard: SQLiteGuard) -> None:
    seen: list[sqlite3.Connection] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(environ[ENVIRON_KEY])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    threaded = SQLiteGuard(app, guard.connection().execute("PRAGMA database_list").fetchone()[2])
    client = TestApp(threaded)
    client.get("/")
    client.get("/")
    worker = threading.Thread(target=client.get, args=("/",))
    worker.start()
    worker.join(10)
    assert seen[0] is seen[1]
    assert seen[2] is not seen[0]
    threaded.close()


def test_apps_that_start_the_response_late_or_write_still_work(tmp_path: Path) -> None:
    def late(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"late"

    def writer(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return [b"returned"]

    database = str(tmp_path / "x.db")
    for app, expected in ((late, "late"), (writer, "written returned")):
        guarded = SQLiteGuard(app, database)
        assert TestApp(guarded).get("/").text == expected
        guarded.close()


def test_connection_outside_the_guard_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match="wrap the application in SQLiteGuard"):
        connection({"PATH_INFO": "/"})


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="WSGI application"):
        SQLiteGuard("not an app", str(tmp_path / "x.db"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        SQLiteGuard(Router(), "")
    with pytest.raises(TypeError, match="path or a connection factory"):
        SQLiteGuard(Router(), 42)  # type: ignore[arg-type]
    broken = SQLiteGuard(Router(), lambda: "nope")  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="connection factory returned"):
        TestApp(broken).get("/")


def test_single_threaded_server_keeps_serving_after_a_forgotten_commit(tmp_path: Path) -> None:
    guard = make_guard(tmp_path / "notes.db")
    with live_server(guard, threads=0) as server:
        import httpx  # noqa: PLC0415

        with httpx.Client(base_url=server.url, timeout=5) as client:
            assert client.post("/add", data={"text": "lost"}).status_code == 500
            assert client.post("/add", data={"text": "kept", "commit": "yes"}).status_code == 200
            assert client.get("/count").text == "1"
    guard.close()


def test_guards_a_flask_app_too(tmp_path: Path) -> None:
    import flask  # noqa: PLC0415

    database = tmp_path / "flask.db"
    with sqlite3.connect(database) as setup:
        setup.execute("CREATE TABLE notes (text TEXT NOT NULL)")
    app = flask.Flask("guarded")

    @app.post("/add")
    def add() -> str:
        connection(flask.request.environ).execute("INSERT INTO notes VALUES ('x')")
        return "forgot to commit"

    guarded = SQLiteGuard(app, str(database))
    client = TestApp(guarded)
    client.post("/add", status=500)
    with sqlite3.connect(database, timeout=0) as other:
        assert other.execute("SELECT count(*) FROM notes").fetchone() == (0,)
    guarded.close()
