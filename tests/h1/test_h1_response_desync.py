"""The response framer under attack: splitting, injection, and responses that desync a client.

A response desyncs its connection when the client reads a different amount of it than
the server wrote: the next response is then taken as part of this one, or the other way
round.  Each case either goes out framed exactly as RFC 9112 6.3 tells the client to
read it, or is refused with ResponseError before any byte is produced.
"""

from __future__ import annotations

import h11
import pytest
from h1_helpers import request_of

from httpkit.errors import ResponseError
from httpkit.h1 import Request, ResponseFramer


def req(line: str = "GET / HTTP/1.1", *fields: str) -> Request:
    host = [] if line.endswith("1.0") else ["Host: h"]
    return request_of("".join(f"{f}\r\n" for f in (line, *host, *fields)).encode() + b"\r\n")


INJECTIONS = [
    # (status, reason, headers): each would put a second header or response on the wire.
    (200, "OK", [("X-A", "b\r\nSet-Cookie: s=1")]),
    (200, "OK", [("X-A", "b\rSet-Cookie: s=1")]),  # bare CR: a line end for some clients
    (200, "OK", [("X-A", "b\nSet-Cookie: s=1")]),
    (200, "OK", [("X-A", "b\r\n\r\nHTTP/1.1 200 OK")]),
    (200, "OK", [("X-A", "\x00")]),
    (200, "OK", [("X-A", "\x0b")]),
    (200, "OK", [("X-A", "\x7f")]),
    (200, "OK", [("X-A\r\nSet-Cookie", "s=1")]),
    (200, "OK", [("X-A:", "b")]),
    (200, "OK", [("X-A ", "b")]),
    (200, "OK", [(" X-A", "b")]),
    (200, "OK", [("", "b")]),
    (200, "OK", [("X-\xe9", "b")]),
    (200, "OK", [("X-A", "\u2028")]),  # a line separator to some decoders; not latin-1
    (200, "OK", [(b"X-A", "b")]),  # type: ignore[list-item]
    (200, "OK", [("X-A", b"b")]),  # type: ignore[list-item]
    (200, "OK\r\nSet-Cookie: s=1", []),
    (200, "OK\n", []),
    (200, "\u0130", []),
    # Framing belongs to the framer: a second length, or a coding, would be a second
    # opinion on where the body ends.
    (200, "OK", [("Content-Length", "5"), ("Content-Length", "6")]),
    (200, "OK", [("Content-Length", "5, 6")]),
    (200, "OK", [("Content-Length", "-1")]),
    (200, "OK", [("Transfer-Encoding", "chunked")]),
    (200, "OK", [("transfer-encoding", "identity")]),
    # 1xx is interim: a client that reads a final 1xx waits for another response and
    # takes the next one as this one's (RFC 9110 15.2); 101 would switch protocols.
    (100, "Continue", []),
    (101, "Switching Protocols", [("Upgrade", "h2c")]),
    (101, "Switching Protocols", []),
    (103, "Early Hints", []),
    # RFC 9110 15: status codes outside 100..599 are invalid.
    (600, "X", []),
    (999, "X", []),
    (99, "X", []),
]


@pytest.mark.parametrize(("status", "reason", "headers"), INJECTIONS)
def test_a_response_that_could_split_or_desync_is_refused(
    status: int, reason: str, headers: list[tuple[str, str]]
) -> None:
    with pytest.raises(ResponseError):
        ResponseFramer(req()).head(status, reason, headers, body_length=0)


def test_a_2xx_answer_to_connect_is_refused() -> None:
    # RFC 9112 6.3: after a 2xx to CONNECT the client treats the connection as a tunnel
    # and ignores Content-Length; httpkit never tunnels, so such an answer cannot be sent.
    connect = req("CONNECT h:443 HTTP/1.1")
    with pytest.raises(ResponseError, match="CONNECT"):
        ResponseFramer(connect).head(200, "OK", [], body_length=0)
    framer = ResponseFramer(connect)
    head = framer.head(405, "Method Not Allowed", [("Allow", "GET")], body_length=0)
    assert head.startswith(b"HTTP/1.1 405 ") and b"Connection: close\r\n" in head
    assert framer.keep_alive is False


def read_back(request: Request, wire: bytes) -> list[tuple[int, bytes]]:
    """How h11, as a client that sent ``request`` then a GET, reads ``wire``: (status, body)."""
    client = h11.Connection(h11.CLIENT)
    headers = [(name.encode(), value.encode("latin-1")) for name, value in request.headers]
    client.send(h11.Request(method=request.method, target=request.target, headers=headers))
    client.send(h11.EndOfMessage())
    client.receive_data(wire)
    got: list[tuple[int, bytes]] = []
    body = b""
    for _ in range(100):
        event = client.next_event()
        if isinstance(event, h11.Response):
            status, body = event.status_code, b""
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            got.append((status, body))
            if client.our_state is not h11.DONE or client.their_state is not h11.DONE:
                break
            client.start_next_cycle()  # the next response on the same connection
            client.send(h11.Request(method="GET", target="/next", headers=headers))
            client.send(h11.EndOfMessage())
        else:
            break  # NEED_DATA: everything written was read
    return got


@pytest.mark.parametrize(
    ("method", "status", "body_length", "pieces", "expected_body"),
    [
        ("GET", 200, 5, [b"hel", b"lo"], b"hello"),
        ("GET", 200, None, [b"hel", b"", b"lo"], b"hello"),  # chunked
        ("HEAD", 200, 5, [b"hello"], b""),  # RFC 9110 9.3.2: no content
        ("HEAD", 200, None, [b"hello"], b""),
        ("GET", 204, None, [b"hello"], b""),  # RFC 9110 15.3.5
        ("GET", 304, 5, [b"hello"], b""),  # RFC 9110 15.4.5
        ("GET", 404, 0, [], b""),
    ],
)
def test_a_client_reads_exactly_the_response_and_then_the_next_one(
    method: str, status: int, body_length: int | None, pieces: list[bytes], expected_body: bytes
) -> None:
    request = req(f"{method} / HTTP/1.1")
    framer = ResponseFramer(request)
    wire = framer.head(status, "X", [], body_length=body_length)
    wire += b"".join(framer.body(piece) for piece in pieces) + framer.end()
    assert framer.keep_alive is True
    following = ResponseFramer(req())  # the answer to a pipelined "GET /next"
    wire += following.head(200, "OK", [], body_length=4) + following.body(b"next")
    assert read_back(request, wire) == [(status, expected_body), (200, b"next")]


def test_the_applications_content_length_must_match_the_body() -> None:
    framer = ResponseFramer(req())
    framer.head(200, "OK", [("Content-Length", "3")], body_length=5)
    with pytest.raises(ResponseError):
        framer.body(b"hello")  # more than declared: refused before any byte goes out
    short = ResponseFramer(req())
    short.head(200, "OK", [("Content-Length", "5")])
    short.body(b"hel")
    with pytest.raises(ResponseError, match="short"):
        short.end()
