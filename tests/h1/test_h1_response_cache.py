"""The framer remembers checked fields and status lines; nothing else may change.

A response framed with the caches warm must be byte for byte the one framed with them
cold or switched off, a refused field must stay refused however many valid ones were
seen, and the caches must stay bounded whatever an application sends.
"""

from __future__ import annotations

import os

import pytest
from h1_helpers import head, request_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpkit.errors import ResponseError
from httpkit.h1 import Request, ResponseFramer
from httpkit.h1 import response as response_module

SAME = settings(
    max_examples=int(os.environ.get("H1_EXAMPLES", "200")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
GET = request_of(head("GET / HTTP/1.1", "Host: h"))


def frame(
    headers: list[tuple[str, str]], status: int = 200, reason: str = "OK", request: Request = GET
) -> bytes | str:
    """The head framed for ``headers``, or the message of the ResponseError refusing it."""
    try:
        return ResponseFramer(request).head(status, reason, headers, body_length=2)
    except ResponseError as error:
        return str(error)


names = st.sampled_from(
    ["Date", "Server", "Content-Type", "content-length", "Connection", "X-A", "X A", "Upgrade"]
)
values = st.sampled_from(
    ["text/plain", "2", "3", " 2 ", "close", "keep-alive", "caf\xe9", "a\r\nX: y", "a\x00", ""]
)


@SAME
@given(
    st.lists(st.tuples(names, values), max_size=5),
    st.sampled_from([(200, "OK"), (404, "Not Found"), (200, "OK\r\n"), (199, "X")]),
)
def test_warm_cold_and_switched_off_caches_frame_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, headers: list[tuple[str, str]], status: tuple[int, str]
) -> None:
    warm = [frame(headers, *status) for _ in range(2)]
    with monkeypatch.context() as patch:
        patch.setattr(response_module, "_MAX_CACHED_CHARS", -1)  # nothing is stored
        patch.setattr(response_module, "_checked_fields", {})
        patch.setattr(response_module, "_status_lines", {})
        off = frame(headers, *status)
    assert warm == [off, off]


def test_a_remembered_field_is_framed_as_it_was_sent() -> None:
    fields = [("Date", "Sun, 06 Nov 1994 08:49:37 GMT"), ("Server", "httpkit")]
    for _ in range(2):
        assert frame(fields) == (
            b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: httpkit\r\n"
            b"Content-Length: 2\r\n\r\n"
        )


def test_a_remembered_content_length_still_conflicts_with_another() -> None:
    assert isinstance(frame([("Content-Length", "2")]), bytes)
    refused = frame([("Content-Length", "2"), ("Content-Length", "3")])
    assert refused == "conflicting Content-Length values 2 and '3'"


def test_a_remembered_connection_close_still_closes() -> None:
    for _ in range(2):
        framer = ResponseFramer(GET)
        assert b"Connection: close\r\n" in framer.head(200, "OK", [("Connection", "close")])
        assert framer.keep_alive is False


def test_a_remembered_status_line_is_still_refused_to_connect() -> None:
    assert isinstance(frame([], 200, "OK"), bytes)
    connect = request_of(head("CONNECT h:443 HTTP/1.1", "Host: h:443"))
    assert "tunnel" in str(frame([], 200, "OK", connect))


class Sneaky(str):
    """A str whose formatting and concatenation say something else than its characters."""

    def __str__(self) -> str:
        return "x\r\nSet-Cookie: evil=1"

    def __format__(self, spec: str) -> str:
        return str(self)

    def __add__(self, other: str) -> str:
        return str(self)


def test_str_subclasses_are_framed_by_their_characters() -> None:
    for _ in range(2):
        head_bytes = frame([(Sneaky("X-A"), Sneaky("b"))], 200, Sneaky("OK"))
        assert isinstance(head_bytes, bytes) and b"evil" not in head_bytes
        assert head_bytes.startswith(b"HTTP/1.1 200 OK\r\nX-A: b\r\n")


def test_list_fields_are_framed_like_tuples() -> None:
    as_lists = frame([["X-A", "b"], ["Content-Length", "2"]])  # type: ignore[list-item]
    assert as_lists == frame([("X-A", "b"), ("Content-Length", "2")])


def test_ever_new_values_do_not_grow_memory() -> None:
    for number in range(3 * response_module._MAX_CACHED):
        frame([("X-Request-Id", str(number))], 200, f"Reason {number}")
    assert len(response_module._checked_fields) <= response_module._MAX_CACHED
    assert len(response_module._status_lines) <= response_module._MAX_CACHED


def test_long_values_are_checked_every_time_and_never_stored() -> None:
    value = "v" * (response_module._MAX_CACHED_CHARS + 1)
    framed = frame([("X-Long", value)])
    assert isinstance(framed, bytes) and b"X-Long: " + value.encode() in framed
    assert ("X-Long", value) not in response_module._checked_fields
