"""wsgi.input on httpkit's server: a BodyReader over the exchange, read as the app asks.

The reader's own rules (file semantics, length, limit) are in tests/test_bodyreader.py;
here a real server hands it bodies cut into packets.
"""

from __future__ import annotations

import time
from typing import Any

import webob
import webob.dec

import httpkit.wsgi
from httpkit.bodyreader import BodyReader
from httpkit.wsgitypes import StartResponse, WSGIApp


def test_the_wsgi_edge_names_the_shared_types() -> None:
    assert httpkit.wsgi.BodyReader is BodyReader
    assert httpkit.wsgi.InputStream is BodyReader  # the former name still imports
    assert httpkit.wsgi.WSGIApp is WSGIApp
    assert httpkit.wsgi.StartResponse is StartResponse


def test_wsgi_input_is_a_body_reader(serve: Any, raw_client: Any) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [type(stream).__name__.encode(), b" ", stream.read()]

    with serve(app) as server:
        client = raw_client(server.port)
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
        assert client.read_response()[2] == b"BodyReader body"
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response()[2] == b"BodyReader "


def test_lines_and_sized_reads_of_a_body_sent_in_parts(serve: Any, raw_client: Any) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        first = stream.readline()
        sized = stream.read(6)
        rest = list(stream)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"|".join([first, sized, *rest])]

    with serve(app) as server:
        client = raw_client(server.port)
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in (b"head", b"er\nsix", b"six\nlast\n", b"tail"):
            client.send(b"%x\r\n%s\r\n" % (len(part), part))
            time.sleep(0.02)  # each part reaches the application in its own read
        client.send(b"0\r\n\r\n")
        status, _, body = client.read_response()
    assert (status, body) == (200, b"header\n|sixsix|\n|last\n|tail")


def test_webob_reads_a_body_sent_in_two_parts(serve: Any, raw_client: Any) -> None:
    @webob.dec.wsgify
    def digest(request: webob.Request) -> webob.Response:
        body = request.body
        return webob.Response(f"{len(body)} {body[:1].decode()}{body[-1:].decode()}")

    size = 80 * 1024
    head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n".encode()
    with serve(digest) as server:
        client = raw_client(server.port)
        client.send(head + b"a" + b"m" * (size // 2 - 1))
        time.sleep(0.05)  # the second half arrives in a later read
        client.send(b"m" * (size // 2 - 1) + b"z")
        status, _, body = client.read_response()
    assert (status, body) == (200, f"{size} az".encode())
