"""Inline, a body above 1 MiB is spooled to a temporary file; when that fails the client hears.

A full disk or no file descriptors left is the server's trouble, not the client's
mistake: 503 with Retry-After (come back later), and a line in the error log that says
what happened, instead of a reset connection and silence.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import tempfile
from typing import Any

import pytest
from server_helpers import RawClient, echo_app

from httpkit.testing import live_server

BODY_SIZE = 3 << 19  # 1.5 MiB: above the 1 MiB kept in memory


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EMFILE], ids=["ENOSPC", "EMFILE"])
def test_body_that_cannot_be_spooled_gets_503_and_a_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    def no_temporary_file(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "TemporaryFile", no_temporary_file)
    caplog.set_level(logging.INFO, logger="httpkit.error")
    with live_server(echo_app, threads=0) as server:
        client = RawClient(server.port, timeout=3)
        client.send(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % BODY_SIZE)
        # The answer may come before the whole body was sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            client.send(b"u" * BODY_SIZE)
        status, headers, _ = client.read_response()
        client.close()
    assert status == 503
    assert headers.get("retry-after", "").isdigit()
    formatter = logging.Formatter("%(message)s")
    logged = [
        formatter.format(record)
        for record in caplog.records
        if record.name == "httpkit.error" and record.levelno >= logging.WARNING
    ]
    assert any(os.strerror(code) in text for text in logged), logged
