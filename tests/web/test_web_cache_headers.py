"""What a handler declares for caches (vary, cache_control, cache_headers) is on its 304
as on its 200 (RFC 9110 section 15.4.5), and static files say the same on theirs."""

from __future__ import annotations

import gzip
import http.client
import logging
from pathlib import Path
from typing import Any

import pytest
import webob
import webob.exc
from webtest import TestApp

from httpkit import Handler, Router
from httpkit.testing import live_server
from httpkit.web import check_preconditions

MEMBER_TYPES = ["application/atom+xml", "text/html"]
TEXT = ("Content-Type", "text/plain")


class Negotiated(Handler):
    """One resource, two representations chosen by Accept, each with its own ETag."""

    vary = ("Accept",)
    cache_control = "private, max-age=60"

    def _kind(self, request: Any) -> str:
        offers = request.accept.acceptable_offers(MEMBER_TYPES)
        return "html" if offers and offers[0][0] == "text/html" else "atom"

    def etag(self, request: Any, id: str) -> str:
        return f"{id}-v1-{self._kind(request)}"

    def cache_headers(self, request: Any, id: str) -> dict[str, str]:
        return {"Content-Location": f"/entries/{id}.{self._kind(request)}"}

    def get(self, request: Any, id: str) -> webob.Response:
        return webob.Response(f"entry {id} as {self._kind(request)}")

    def put(self, request: Any, id: str) -> str:
        return "saved"


def make_router() -> Router:
    router = Router()
    router.add("/entries/{id}", Negotiated)
    return router


CACHE_FIELDS = ("ETag", "Vary", "Cache-Control", "Content-Location")


@pytest.mark.parametrize("accept", ["text/html", "application/atom+xml"])
def test_the_304_carries_what_the_200_carries(accept: str) -> None:
    app = TestApp(make_router())
    full = app.get("/entries/7", headers={"Accept": accept})
    assert full.headers["Vary"] == "Accept"
    assert full.headers["Cache-Control"] == "private, max-age=60"
    kind = "html" if accept == "text/html" else "atom"
    assert full.headers["Content-Location"] == f"/entries/7.{kind}"
    conditional = {"Accept": accept, "If-None-Match": full.headers["ETag"]}
    not_modified = app.get("/entries/7", headers=conditional, status=304)
    for field in CACHE_FIELDS:
        assert not_modified.headers[field] == full.headers[field], field


def test_a_real_server_sends_vary_on_the_304() -> None:
    with live_server(make_router()) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("GET", "/entries/7", headers={"Accept": "text/html"})
            full = connection.getresponse()
            full.read()
            headers = {"Accept": "text/html", "If-None-Match": full.headers["ETag"]}
            connection.request("GET", "/entries/7", headers=headers)
            not_modified = connection.getresponse()
            not_modified.read()
        finally:
            connection.close()
    assert not_modified.status == 304
    assert not_modified.headers["Vary"] == "Accept"
    assert not_modified.headers["Cache-Control"] == "private, max-age=60"
    assert not_modified.headers["Content-Location"] == "/entries/7.html"


def test_head_is_described_like_get() -> None:
    response = TestApp(make_router()).head("/entries/7", headers={"Accept": "text/html"})
    assert response.headers["Vary"] == "Accept"
    assert response.headers["Content-Location"] == "/entries/7.html"


def test_writes_and_errors_get_no_cache_fields() -> None:
    app = TestApp(make_router())
    saved = app.put("/entries/7", "x")
    assert "Cache-Control" not in saved.headers and "Content-Location" not in saved.headers
    assert "Vary" not in saved.headers
    failed = app.get("/entries/7", headers={"If-Match": '"other"'}, status=412)
    assert "Cache-Control" not in failed.headers and "Content-Location" not in failed.headers


def test_the_methods_own_fields_are_kept_and_vary_is_merged() -> None:
    class Own(Handler):
        vary = "Accept, Accept-Language"
        cache_control = "max-age=60"

        def get(self, request: Any) -> webob.Response:
            headers = [("Vary", "accept, Cookie"), ("Cache-Control", "no-store"), TEXT]
            return webob.Response(b"hi", headerlist=headers)

    router = Router()
    router.add("/own", Own)
    response = TestApp(router).get("/own")
    assert response.headers["Vary"] == "accept, Cookie, Accept-Language"
    assert response.headers["Cache-Control"] == "no-store"


def test_vary_without_validators_goes_on_every_successful_read() -> None:
    class Page(Handler):
        vary = ["Accept-Language"]

        def get(self, request: Any) -> str:
            return "bonjour"

    router = Router()
    router.add("/page", Page)
    assert TestApp(router).get("/page").headers["Vary"] == "Accept-Language"


def test_a_304_raised_by_the_method_carries_the_declared_fields() -> None:
    class Checked(Handler):
        vary = ("Accept",)

        def get(self, request: Any) -> str:
            check_preconditions(request, etag="v1")
            return "the body"

    router = Router()
    router.add("/checked", Checked)
    response = TestApp(router).get("/checked", headers={"If-None-Match": '"v1"'}, status=304)
    assert response.headers["Vary"] == "Accept"
    assert response.headers["ETag"] == '"v1"'


@pytest.mark.parametrize(
    ("attributes", "error"),
    [
        ({"vary": 5}, TypeError),
        ({"vary": "Accept, Accept Language"}, ValueError),
        ({"vary": ["*", "Accept"]}, ValueError),
        ({"vary": []}, ValueError),
        ({"cache_control": "max-age=1\r\nSet-Cookie: x=1"}, ValueError),
        ({"cache_control": 60}, ValueError),
        ({"cache_headers": "Content-Location"}, TypeError),
    ],
)
def test_bad_declarations_are_refused_when_the_route_is_added(
    attributes: dict[str, Any], error: type[Exception]
) -> None:
    handler = type("Bad", (Handler,), {"get": lambda self, request: "x", **attributes})
    with pytest.raises(error, match="Bad"):
        Router().add("/bad", handler)


def test_an_async_cache_headers_is_refused() -> None:
    class Async(Handler):
        async def cache_headers(self, request: Any) -> dict[str, str]:
            return {}

        def get(self, request: Any) -> str:
            return "x"

    with pytest.raises(TypeError, match="cache_headers is an async def"):
        Router().add("/a", Async)


def test_cache_headers_may_only_give_the_fields_a_304_repeats(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Leaky(Handler):
        def cache_headers(self, request: Any) -> dict[str, str]:
            return {"Set-Cookie": "session=1"}

        def get(self, request: Any) -> str:
            return "x"

    router = Router()
    router.add("/leaky", Leaky)
    with caplog.at_level(logging.ERROR, logger="httpkit.web"):
        TestApp(router).get("/leaky", status=500)
    assert "Set-Cookie" in caplog.text and "Content-Location" in caplog.text


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    root.mkdir()
    (root / "app.js").write_bytes(b"let x = 1;\n" * 50)
    (root / "app.js.gz").write_bytes(gzip.compress(b"let x = 1;\n" * 50))
    return root


def static_app(site: Path) -> TestApp:
    router = Router()
    router.static("/s", str(site), cache_control="public, max-age=3600")
    return TestApp(router)


def test_a_static_304_carries_what_its_200_carries(site: Path) -> None:
    app = static_app(site)
    full = app.get("/s/app.js", headers={"Accept-Encoding": "gzip"})
    conditional = {"Accept-Encoding": "gzip", "If-None-Match": full.headers["ETag"]}
    not_modified = app.get("/s/app.js", headers=conditional, status=304)
    for field in ("ETag", "Vary", "Cache-Control"):
        assert not_modified.headers[field] == full.headers[field], field


def test_a_static_412_is_not_cacheable_as_the_file(site: Path) -> None:
    app = static_app(site)
    headers = {"Accept-Encoding": "gzip", "If-Match": '"other"'}
    failed = app.get("/s/app.js", headers=headers, status=412)
    assert "Cache-Control" not in failed.headers and "ETag" not in failed.headers
    assert failed.headers["Vary"] == "Accept-Encoding, Accept"  # the tag was the coding's


def test_a_static_416_error_page_is_not_labelled_compressed(site: Path) -> None:
    app = static_app(site)
    headers = {"Accept-Encoding": "gzip", "Range": "bytes=100000-"}
    # WebTest decodes a Content-Encoding: gzip body, which a plain error page is not.
    unsatisfiable = app.get("/s/app.js", headers=headers, status=416)
    assert "Content-Encoding" not in unsatisfiable.headers
    assert "Cache-Control" not in unsatisfiable.headers
    assert unsatisfiable.headers["Content-Range"].startswith("bytes */")
