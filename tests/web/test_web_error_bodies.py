"""Every status the router makes itself explains itself, in HTML, JSON and plain text."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from httpkit import Handler, Router

FORMATS = {
    "html": "text/html",
    "json": "application/json",
    "text": "text/plain",
}
# WebOb's generic wording, which says nothing useful about these statuses.
GENERIC = ("could not comply", "has been moved to\n", "has been moved to.")


class Page(Handler):
    def get(self, request: Any) -> str:
        return "page"

    def put(self, request: Any) -> str:
        return "saved"

    def etag(self, request: Any) -> str:
        return "v1"


def failing(request: Any) -> str:
    raise RuntimeError("bug")


@pytest.fixture
def app(tmp_path: Path) -> TestApp:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "index.html").write_text("<h1>sub</h1>")
    router = Router(redirect_slashes=True, max_body=10)
    router.add("/page", Page)
    router.add("/docs/", lambda request: "docs")
    router.add("/fail", failing)
    router.add("/upload", lambda request: request.body, methods=["POST"])
    router.static("/static", str(tmp_path))
    return TestApp(router)


def _body_text(response: Any, kind: str) -> str:
    """The explanation as a reader sees it, checking the format on the way."""
    content_type = response.headers["Content-Type"]
    assert content_type.startswith(FORMATS[kind])
    if kind == "json":
        return str(response.json["detail"])
    if kind == "html":
        assert response.text.startswith("<!DOCTYPE html>")
        return html.unescape(response.text)
    return str(response.text)


CASES = [
    # (method, path, extra request headers, body, status, words the body must say)
    ("POST", "/page", {}, None, 405, ["POST", "not allowed", "GET, HEAD, PUT, OPTIONS"]),
    ("GET", "/docs", {}, None, 308, ["moved permanently", "/docs/"]),
    ("GET", "/static/sub", {}, None, 308, ["moved permanently", "/static/sub/"]),
    ("GET", "/nowhere", {}, None, 404, ["no resource", "/nowhere"]),
    ("GET", "/static/absent.txt", {}, None, 404, ["no resource", "/static/absent.txt"]),
    ("PUT", "/page", {"If-Match": '"v0"'}, b"x", 412, ["not in the state", "conditions"]),
    ("POST", "/upload", {}, b"x" * 50, 413, ["larger than 10 bytes"]),
    ("GET", "/%FF", {}, None, 400, ["not valid UTF-8"]),
    ("GET", "/fail", {}, None, 500, ["could not complete the request"]),
]


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("case", CASES, ids=[f"{case[4]}-{case[1]}" for case in CASES])
def test_status_is_explained_in_every_format(
    app: TestApp, kind: str, case: tuple[Any, ...]
) -> None:
    method, path, headers, body, status, words = case
    response = app.request(
        path,
        method=method,
        headers={"Accept": FORMATS[kind], **headers},
        body=body or b"",
        expect_errors=True,
    )
    assert response.status_int == status
    text = _body_text(response, kind)
    for word in words:
        assert word.lower() in text.lower(), (word, text)
    for generic in GENERIC:
        assert generic not in text


def test_json_redirect_names_its_location(app: TestApp) -> None:
    response = app.get("/docs?x=1", headers={"Accept": "application/json"}, status=308)
    assert response.json["location"] == "/docs/?x=1"
    # WebOb makes the header absolute; both name the same place.
    assert response.headers["Location"].endswith(response.json["location"])
    assert response.json["status"] == 308


def test_html_redirect_links_to_its_location(app: TestApp) -> None:
    response = app.get("/docs", headers={"Accept": "text/html"}, status=308)
    assert '<a href="/docs/">/docs/</a>' in response.text


def test_405_json_lists_the_allowed_methods(app: TestApp) -> None:
    response = app.delete("/page", headers={"Accept": "application/json"}, status=405)
    assert response.json["allow"] == ["GET", "HEAD", "PUT", "OPTIONS"]


@pytest.mark.parametrize("path", ["/page", "/static/sub/index.html"])
def test_304_has_no_body(app: TestApp, path: str) -> None:
    etag = app.get(path).headers["ETag"]
    response = app.get(path, headers={"If-None-Match": etag, "Accept": "text/html"}, status=304)
    assert response.body == b""
