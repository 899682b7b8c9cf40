"""The environ an application sees (PEP 3333), checked through a live server."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any
from wsgiref.validate import validator

import pytest
from server_helpers import RawClient, Serve

REQUIRED_KEYS = (
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME",
    "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_PORT", "wsgi.version",
    "wsgi.url_scheme", "wsgi.input", "wsgi.errors", "wsgi.multithread", "wsgi.multiprocess",
    "wsgi.run_once", "wsgi.input_terminated", "wsgi.file_wrapper",
)  # fmt: skip


def environ_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with the environ's str, int and bool values as JSON."""
    body = environ["wsgi.input"].read()
    shown = {
        key: value
        for key, value in environ.items()
        if isinstance(value, (str, int, bool, tuple)) or key in REQUIRED_KEYS
    }
    shown = {
        key: value if not hasattr(value, "read") else "<stream>" for key, value in shown.items()
    }
    shown = {k: v if isinstance(v, (str, int, bool, tuple)) else repr(v) for k, v in shown.items()}
    shown["body"] = body.decode("latin-1")
    data = json.dumps(shown).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [data]


def fetch_environ(server: Any, raw: bytes) -> dict[str, Any]:
    client = RawClient(server.port)
    try:
        client.send(raw)
        status, _, body = client.read_response()
    finally:
        client.close()
    assert status == 200, body
    result: dict[str, Any] = json.loads(body)
    return result


def test_every_required_key_is_present(serve: Serve, threads: int) -> None:
    with serve(environ_app) as server:
        environ = fetch_environ(
            server,
            b"POST /a/b?x=1&y=%20 HTTP/1.1\r\nHost: example.org\r\n"
            b"Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc",
        )
    for key in REQUIRED_KEYS:
        assert key in environ, key
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["PATH_INFO"] == "/a/b"
    assert environ["QUERY_STRING"] == "x=1&y=%20"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "3"
    assert environ["SERVER_NAME"] == "127.0.0.1"
    assert environ["SERVER_PORT"] == str(server.port)
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["HTTP_HOST"] == "example.org"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert int(environ["REMOTE_PORT"]) > 0
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["wsgi.multithread"] is (threads > 0)
    assert environ["wsgi.input_terminated"] is True
    assert environ["body"] == "abc"


def test_path_info_is_percent_decoded_as_latin1(serve: Serve) -> None:
    with serve(environ_app) as server:
        environ = fetch_environ(server, b"GET /caf%C3%A9/a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n")
    # One character per byte: the app re-encodes latin-1 to get UTF-8 back (PEP 3333).
    assert environ["PATH_INFO"] == "/caf\u00c3\u00a9/a/b"
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == "/café/a/b"


def test_absolute_form_target_gives_the_path(serve: Serve) -> None:
    with serve(environ_app) as server:
        environ = fetch_environ(
            server, b"GET http://example.org/p/q?z=1 HTTP/1.1\r\nHost: example.org\r\n\r\n"
        )
    assert (environ["PATH_INFO"], environ["QUERY_STRING"]) == ("/p/q", "z=1")


def test_headers_with_underscores_are_dropped(serve: Serve) -> None:
    with serve(environ_app) as server:
        environ = fetch_environ(
            server,
            b"GET / HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 6.6.6.6\r\nX-Real: yes\r\n\r\n",
        )
    assert "HTTP_X_FORWARDED_FOR" not in environ
    assert environ["HTTP_X_REAL"] == "yes"


def test_repeated_headers_are_joined(serve: Serve) -> None:
    with serve(environ_app) as server:
        environ = fetch_environ(
            server,
            b"GET / HTTP/1.1\r\nHost: x\r\nAccept: a\r\nAccept: b\r\n"
            b"Cookie: c=1\r\nCookie: d=2\r\n\r\n",
        )
    assert environ["HTTP_ACCEPT"] == "a, b"
    assert environ["HTTP_COOKIE"] == "c=1; d=2"


def length_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with the CONTENT_LENGTH it was given, a space, then the body it read."""
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [environ.get("CONTENT_LENGTH", "-").encode("latin-1") + b" " + body]


@pytest.mark.parametrize(
    "fields",
    [b"Content-Length: 5\r\nContent-Length: 5\r\n", b"Content-Length: 5, 5\r\n"],
    ids=["two-lines", "one-list"],
)
def test_a_repeated_content_length_reaches_the_app_as_one_number(
    serve: Serve, raw_client: Callable[[int], RawClient], fields: bytes
) -> None:
    # RFC 9110 8.6: identical repeats are accepted; the app gets the one validated number.
    with serve(length_app) as server:
        client = raw_client(server.port)
        client.send(b"POST /up HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\nhello")
        client.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 005\r\n\r\nagain")
        answers = [client.read_response() for _ in range(2)]
    assert [(status, body) for status, _, body in answers] == [
        (200, b"5 hello"),
        (200, b"5 again"),
    ]


def test_url_prefix_becomes_script_name(serve: Serve) -> None:
    with serve(environ_app, url_prefix="/app") as server:
        environ = fetch_environ(server, b"GET /app/page HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/app", "/page")
        client = RawClient(server.port)
        client.send(b"GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, _ = client.read_response()
        client.close()
        assert status == 404


def test_chunked_upload_has_no_content_length_and_reads_whole(serve: Serve) -> None:
    with serve(environ_app) as server:
        environ = fetch_environ(
            server,
            b"PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
    assert "CONTENT_LENGTH" not in environ
    assert environ["body"] == "abcde"


def list_app(environ: dict[str, Any], start_response: Any) -> Any:
    environ["wsgi.input"].read(100)  # the validator insists on a size
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def generator_app(environ: dict[str, Any], start_response: Any) -> Any:
    lines = list(iter(environ["wsgi.input"].readline, b""))
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"o"
    yield b"k" if len(lines) < 100 else b"?"


def write_app(environ: dict[str, Any], start_response: Any) -> Any:
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"o")
    return [b"k"]


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
@pytest.mark.parametrize("app", [list_app, generator_app, write_app])
def test_wsgiref_validator_finds_nothing_wrong(serve: Serve, method: str, app: Any) -> None:
    failures: list[BaseException] = []

    def checked(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return validator(app)(environ, start_response)
        except AssertionError as error:
            failures.append(error)
            raise

    with serve(checked) as server:
        for _ in range(2):
            connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
            body = b"line one\nline two\n" if method == "POST" else None
            connection.request(method, "/v?q=1", body=body)
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == (b"" if method == "HEAD" else b"ok")
            connection.close()
    assert failures == []


def test_each_request_on_a_connection_sees_its_own_client(serve: Serve) -> None:
    # The connection's environ keys are reused from request to request; a trusted
    # proxy's per-request client address must still win, and never stick.
    with serve(environ_app, trusted_proxy="127.0.0.1") as server:
        client = RawClient(server.port)
        seen = []
        try:
            for forwarded in (
                b"X-Forwarded-For: 203.0.113.7\r\n",
                b"",
                b"X-Forwarded-For: ::1\r\n",
            ):
                client.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + forwarded + b"\r\n")
                status, _, body = client.read_response()
                assert status == 200, body
                environ = json.loads(body)
                seen.append((environ["REMOTE_ADDR"], environ["SERVER_PORT"]))
        finally:
            client.close()
    port = str(server.port)
    assert seen == [("203.0.113.7", port), ("127.0.0.1", port), ("::1", port)]
