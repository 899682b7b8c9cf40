"""After a 101 the bytes that followed the request belong to the new protocol."""

from __future__ import annotations

from httpkit.h1 import CLOSED, EndOfMessage, Request, ServerConnection


def test_the_bytes_after_the_request_are_handed_over_and_no_more_http_is_parsed() -> None:
    parser = ServerConnection()
    parser.receive_data(b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n\x81\x85ab")
    assert type(parser.next_event()) is Request
    assert type(parser.next_event()) is EndOfMessage
    assert parser.switch_protocols() == b"\x81\x85ab"
    parser.receive_data(b"GET / HTTP/1.1\r\n\r\n")  # a frame that looks like a request
    assert parser.next_event() is CLOSED
    assert parser.buffered == 0


def test_nothing_after_the_request_gives_nothing() -> None:
    parser = ServerConnection()
    parser.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    parser.next_event()
    parser.next_event()
    assert parser.switch_protocols() == b""
