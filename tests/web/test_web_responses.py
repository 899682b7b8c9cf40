"""Every kind of value a handler may return, and what the client receives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import webob
import webob.exc
from webtest import TestApp

from httpkit import Router


def serve(result: Any, *, call: bool = False) -> TestApp:
    """An app whose handler returns ``result`` (or what ``result()`` returns)."""
    router = Router()
    router.add("/", lambda request: result() if call else result)
    return TestApp(router)


def call_wsgi(router: Router, path: str = "/") -> tuple[dict[str, str], list[bytes]]:
    """Call the router as a WSGI server would: the headers it sent and the body pieces."""
    received: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        received.update(headers)

    result = router(webob.Request.blank(path).environ, start_response)
    try:
        return received, list(result)
    finally:
        getattr(result, "close", lambda: None)()


def test_str_is_utf8_text() -> None:
    response = serve("héllo").get("/")
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert response.body == "héllo".encode()
    assert response.headers["Content-Length"] == str(len("héllo".encode()))


def test_bytes_are_octet_stream() -> None:
    response = serve(b"\x00\x01").get("/")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.body == b"\x00\x01"


def test_dict_is_json() -> None:
    response = serve({"a": 1, "b": "ü"}).get("/")
    assert response.headers["Content-Type"] == "application/json"
    assert response.json == {"a": 1, "b": "ü"}


def test_list_of_data_is_json() -> None:
    assert serve([1, "two", None]).get("/").json == [1, "two", None]


def test_list_of_strings_without_bytes_is_json() -> None:
    assert serve(["a", "b"]).get("/").json == ["a", "b"]


def test_none_is_204_without_body() -> None:
    response = serve(None).get("/", status=204)
    assert response.body == b""


def test_webob_response_is_sent_as_is() -> None:
    response = serve(webob.Response("made", status=201, content_type="text/csv")).get("/")
    assert response.status_int == 201
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.text == "made"


def test_generator_is_streamed_without_content_length() -> None:
    def chunks() -> Iterator[str]:
        yield "one,"
        yield "two"

    router = Router()
    router.add("/", lambda request: chunks())
    headers, body = call_wsgi(router)
    assert body == [b"one,", b"two"]
    # No length: the server frames it (chunked on HTTP/1.1).
    assert "Content-Length" not in headers
    assert headers["Content-Type"] == "text/plain; charset=UTF-8"


def test_generator_of_bytes_is_binary() -> None:
    response = serve(lambda: (piece for piece in [b"a", b"b"]), call=True).get("/")
    assert response.body == b"ab"
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_head_closes_a_streamed_body_without_reading_it() -> None:
    events: list[str] = []

    def chunks() -> Iterator[str]:
        try:
            yield "first"
            events.append("second chunk produced")
            yield "second"
        finally:
            events.append("closed")

    response = serve(chunks, call=True).head("/")
    assert response.body == b""
    assert events == ["closed"]


def test_iolist_is_sent_in_pieces_with_its_length() -> None:
    iolist = [b"<p>", ["Hello, ", ["wörld"]], b"</p>"]
    router = Router()
    router.add("/", lambda request: iolist)
    headers, body = call_wsgi(router)
    assert body == [b"<p>", b"Hello, ", "wörld".encode(), b"</p>"]
    assert headers["Content-Length"] == str(sum(map(len, body)))


def test_error_inside_first_chunk_becomes_a_500() -> None:
    def chunks() -> Iterator[str]:
        raise RuntimeError("boom")
        yield "never"

    serve(chunks, call=True).get("/", status=500)


def test_raised_webob_exception_becomes_its_response() -> None:
    def forbidden() -> str:
        raise webob.exc.HTTPForbidden("no entry")

    response = serve(forbidden, call=True).get("/", status=403)
    assert "no entry" in response.text


def test_raised_redirect_keeps_location() -> None:
    def moved() -> str:
        raise webob.exc.HTTPSeeOther(location="/elsewhere")

    assert serve(moved, call=True).get("/", status=303).headers["Location"].endswith("/elsewhere")


@pytest.mark.parametrize("value", [42, 3.5, object()])
def test_unsupported_return_value_is_a_500(value: Any) -> None:
    serve(value).get("/", status=500)
