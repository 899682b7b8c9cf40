"""What the application declares is what goes out: a response never disagrees with its framing.

A Content-Length the body does not match is found before the head leaves (a 500) or
after (the connection is cut: the client sees a truncated response, never a byte more
than was declared).  A file's real size wins over the one declared.  The server's own
Date and Server fields give way to the application's.
"""

from __future__ import annotations

import logging
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_helpers import RawClient, Serve, hello_app

# The certificate maker lives beside the deployment tests; share it rather than copy it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy"))
from tls_certs import make_certificate

FILE_CONTENT = bytes(range(100))


def error_records(caplog: pytest.LogCaptureFixture, level: int = logging.ERROR) -> list[str]:
    """The httpkit.error records at ``level`` or above, formatted with their tracebacks."""
    formatter = logging.Formatter("%(message)s")
    return [
        formatter.format(record)
        for record in caplog.records
        if record.name == "httpkit.error" and record.levelno >= level
    ]


def read_to_eof(client: RawClient) -> bytes:
    """Everything until the server closes; fails (instead of hanging) if it never does."""
    client.sock.settimeout(3)
    try:
        while client._fill():
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the connection stayed open after {client.buffer!r}")
    data, client.buffer = client.buffer, b""
    return data


def get(port: int, path: str = "/report", method: str = "GET") -> RawClient:
    client = RawClient(port, timeout=3)
    client.send(f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return client


# -- a mismatch found before anything was sent: a complete 500 ------------------------


def list_longer(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", [("Content-Length", "8")])
    return [b"abcdefghi"]


def list_shorter(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", [("Content-Length", "10")])
    return [b"abcdefghi"]


def first_piece_longer(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Length", "8")])
    yield b"abcdefghi"
    yield b"never sent"


def write_longer(environ: dict[str, Any], start_response: Any) -> Any:
    write = start_response("200 OK", [("Content-Length", "8")])
    write(b"abcdefghi")
    return []


@pytest.mark.parametrize(
    "app",
    [list_longer, list_shorter, first_piece_longer, write_longer],
    ids=["list-longer", "list-shorter", "first-piece-longer", "write-longer"],
)
def test_content_length_mismatch_before_the_head_went_out_is_a_500(
    serve: Serve, app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpkit.error")
    with serve(app) as server:
        client = get(server.port)
        status, headers, body = client.read_response()  # not an EOF
        client.close()
        assert status == 500
        assert int(headers["content-length"]) == len(body) > 0
        assert b"abc" not in body
    records = error_records(caplog)
    assert any("GET /report" in text and "Content-Length" in text for text in records), records
    assert "after the response started" not in caplog.text


# -- a mismatch found after the head went out: a cut, never a byte too many -----------


def test_body_longer_than_declared_after_the_head_is_cut_at_the_declared_length(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "8")])
        yield b"abcd"
        yield b"efghij"

    caplog.set_level(logging.INFO, logger="httpkit.error")
    with serve(app) as server:
        client = get(server.port)
        status, headers, _ = client.read_response(head_only=True)
        assert (status, headers["content-length"]) == (200, "8")
        body = read_to_eof(client)
        client.close()
        assert body.startswith(b"abcd")
        assert b"abcdefgh".startswith(body)  # at most the 8 declared bytes
    assert any("cut" in text and "GET /report" in text for text in error_records(caplog))


def test_body_shorter_than_declared_after_the_head_ends_in_a_cut(serve: Serve) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "10")])
        yield b"abcd"

    with serve(app) as server:
        client = get(server.port)
        status, headers, _ = client.read_response(head_only=True)
        assert (status, headers["content-length"]) == (200, "10")
        assert read_to_eof(client) == b"abcd"
        client.close()


# -- wsgi.file_wrapper: the file's real size wins -------------------------------------


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(FILE_CONTENT)
    return path


def file_app(path: Path, declared: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/ok":
            return hello_app(environ, start_response)
        start_response(
            "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", declared)]
        )
        return environ["wsgi.file_wrapper"](path.open("rb"))

    return app


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize(("declared", "sent"), [(150, 100), (50, 50)], ids=["over", "under"])
def test_file_wrapper_sends_what_the_file_has_up_to_the_declared_length(
    serve: Serve, data_file: Path, *, loop: str, method: str, declared: int, sent: int
) -> None:
    with serve(file_app(data_file, str(declared)), loop=loop) as server:
        client = get(server.port, "/file", method)
        status, headers, body = client.read_response(head_only=method == "HEAD")
        assert (status, headers.get("content-length")) == (200, str(sent))
        if method == "GET":
            assert body == FILE_CONTENT[:sent]
        if headers.get("connection") != "close":
            # Kept alive, the connection is in step: the next response is the next request's.
            client.send(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, body = client.read_response()
            assert (status, body) == (200, b"Hello, world!")
        client.close()


# -- a Content-Length that is not a number, beside a file -----------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"), "server")


def connect(port: int, context: ssl.SSLContext | None) -> RawClient:
    client = RawClient(port, timeout=3)
    if context is not None:
        client.sock = context.wrap_socket(client.sock, server_hostname="127.0.0.1")
    return client


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize(
    "declared",
    ["\u00b2", "-1", "5, 5", "abc"],
    ids=["superscript-2", "minus-1", "list", "letters"],
)
def test_content_length_that_is_not_a_number_beside_a_file_is_a_500(
    serve: Serve,
    data_file: Path,
    certificate: tuple[Path, Path],
    *,
    loop: str,
    tls: bool,
    method: str,
    declared: str,
) -> None:
    settings: dict[str, Any] = {"loop": loop}
    context = None
    if tls:
        cert, key = certificate
        settings.update(certfile=str(cert), keyfile=str(key))
        context = ssl.create_default_context(cafile=str(cert))
    with serve(file_app(data_file, declared), **settings) as server:
        client = connect(server.port, context)
        client.send(f"{method} /file HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, _, _ = client.read_response(head_only=method == "HEAD")
        client.close()
        assert status == 500
        # The server is still serving.
        client = connect(server.port, context)
        client.send(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = client.read_response()
        client.close()
        assert (status, body) == (200, b"Hello, world!")


# -- Date and Server: the application's own, once --------------------------------------

APP_DATE = "Sun, 06 Nov 1994 08:49:37 GMT"


def field_values(head: bytes, name: str) -> list[str]:
    values = []
    for line in head.decode("latin-1").split("\r\n")[1:]:
        field, _, value = line.partition(":")
        if field.lower() == name.lower():
            values.append(value.strip())
    return values


def test_date_and_server_set_by_the_app_are_sent_once_with_its_values(serve: Serve) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(
            "200 OK", [("Date", APP_DATE), ("Server", "app/2.0"), ("Content-Length", "2")]
        )
        return [b"ok"]

    with serve(app) as server:
        client = get(server.port)
        head = client.read_until(b"\r\n\r\n")
        client.close()
    assert field_values(head, "Date") == [APP_DATE]
    assert field_values(head, "Server") == ["app/2.0"]


def test_empty_server_header_setting_sends_no_server_field(serve: Serve) -> None:
    with serve(hello_app, server_header="") as server:
        client = get(server.port)
        head = client.read_until(b"\r\n\r\n")
        client.close()
        assert head.startswith(b"HTTP/1.1 200 ")
        assert field_values(head, "Server") == []
        assert len(field_values(head, "Date")) == 1
        # A response the server makes itself: a 400 for whitespace before a colon.
        client = RawClient(server.port, timeout=3)
        client.send(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n")
        head = client.read_until(b"\r\n\r\n")
        client.close()
        assert head.startswith(b"HTTP/1.1 400 ")
        assert field_values(head, "Server") == []


@pytest.mark.parametrize(
    "fields",
    [
        [("Date", APP_DATE), ("Date", APP_DATE)],
        [("Content-Type", "text/plain"), ("content-type", "text/html")],
        [("Location", "/a"), ("Location", "/b")],
        [("ETag", '"a"'), ("ETag", '"a"')],
    ],
    ids=["date", "content-type", "location", "etag"],
)
def test_a_one_value_field_the_app_repeats_is_a_500(
    serve: Serve, caplog: pytest.LogCaptureFixture, fields: list[tuple[str, str]]
) -> None:
    # RFC 9110 5.3: a field whose grammar is one value appears once; the client would
    # have to guess which one counts (the request side refuses the same with a 400).
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [*fields, ("Content-Length", "2")])
        return [b"ok"]

    with serve(app) as server:
        client = get(server.port)
        head = client.read_until(b"\r\n\r\n")
        client.close()
    assert head.startswith(b"HTTP/1.1 500 ")
    assert any("given twice" in record for record in error_records(caplog))


def test_fields_that_are_lists_or_set_cookie_may_repeat(serve: Serve) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        repeated = [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Vary", "Accept")]
        start_response("200 OK", [*repeated, ("Vary", "Cookie"), ("Content-Length", "2")])
        return [b"ok"]

    with serve(app) as server:
        client = get(server.port)
        head = client.read_until(b"\r\n\r\n")
        client.close()
    assert head.startswith(b"HTTP/1.1 200 ")
    assert field_values(head, "Set-Cookie") == ["a=1", "b=2"]
    assert field_values(head, "Vary") == ["Accept", "Cookie"]
