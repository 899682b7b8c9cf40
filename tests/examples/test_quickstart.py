"""The quickstart shown in README.rst and docs/quickstart.rst does what they say."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from examples import quickstart
from httpkit.testing import live_server


@pytest.fixture(autouse=True)
def _empty_notes() -> None:
    quickstart.NOTES.clear()


def _call(
    url: str, method: str = "GET", body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_hello_and_conditional_edits_over_a_real_server() -> None:
    with live_server(quickstart.router) as server:
        assert _call(server.url + "/hello/world")[2] == b"Hello, world!"

        note = server.url + "/notes/1"
        payload = json.dumps({"text": "hi"}).encode()
        status, _, _ = _call(note, "PUT", payload, **{"Content-Type": "application/json"})
        assert status == 200
        status, headers, body = _call(note)
        assert (status, json.loads(body)) == (200, {"id": 1, "text": "hi"})
        etag = headers["ETag"]

        assert _call(note, **{"If-None-Match": etag})[0] == 304
        stale = {"If-Match": '"stale"', "Content-Type": "application/json"}
        assert _call(note, "PUT", payload, **stale)[0] == 412
        assert _call(note, "DELETE", **{"If-Match": etag})[0] == 204
        assert _call(note)[0] == 404
        status, headers, _ = _call(server.url + "/hello/world", "POST", b"")
        assert status == 405
        assert headers["Allow"] == "GET, HEAD, OPTIONS"


def test_readme_shows_the_quickstart_module_as_it_is() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.rst").read_text()
    source = (root / "examples" / "quickstart.py").read_text()
    block = readme.split(".. code-block:: python\n", 1)[1].split("\n.. ", 1)[0]
    shown = [line.strip() for line in block.splitlines() if line.strip()]
    missing = [line for line in shown if line.removesuffix(" ...") not in source]
    assert shown and missing == []


def test_a_bad_note_gets_a_400_worded_as_the_client_asks() -> None:
    with live_server(quickstart.router) as server:
        status, headers, body = _call(
            server.url + "/notes/1",
            "PUT",
            b'{"text": 5}',
            **{"Content-Type": "application/json", "Accept": "application/json"},
        )
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(body)
    assert error["status"] == 400
    assert "string" in error["detail"]
