"""Error responses: negotiation by Accept, debug mode, logging, custom error handlers."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import webob.exc
from webtest import TestApp

from httpkit import Router

SECRET = "password=hunter2"


def failing(request: Any) -> str:
    raise RuntimeError(SECRET)


def make_app(**options: Any) -> tuple[Router, TestApp]:
    router = Router(**options)
    router.add("/fail", failing)
    router.add("/teapot", lambda request: (_ for _ in ()).throw(webob.exc.HTTPForbidden("nope")))
    return router, TestApp(router)


def test_not_found_as_html_for_browsers() -> None:
    _, app = make_app()
    response = app.get("/missing", headers={"Accept": "text/html,*/*;q=0.8"}, status=404)
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert "<h1>Not Found</h1>" in response.text


def test_not_found_as_json_for_api_clients() -> None:
    _, app = make_app()
    response = app.get("/missing", headers={"Accept": "application/json"}, status=404)
    assert response.json["status"] == 404
    assert response.json["title"] == "Not Found"


def test_not_found_as_text_without_accept() -> None:
    _, app = make_app()
    response = app.get("/missing", status=404)
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert response.text.startswith("404 Not Found")


def test_405_in_json_keeps_allow() -> None:
    router = Router()
    router.add("/x", lambda request: "x")
    response = TestApp(router).post("/x", headers={"Accept": "application/json"}, status=405)
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json["status"] == 405


def test_unexpected_exception_is_a_500_leaking_nothing(caplog: pytest.LogCaptureFixture) -> None:
    _, app = make_app()
    with caplog.at_level(logging.ERROR, logger="httpkit.web"):
        response = app.get("/fail", headers={"Accept": "text/html"}, status=500)
    assert SECRET not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    # ...but the log has it all, with the traceback.
    record = caplog.records[-1]
    assert record.exc_info is not None
    assert SECRET in str(record.exc_info[1])


def test_debug_mode_shows_the_traceback() -> None:
    _, app = make_app(debug=True)
    response = app.get("/fail", status=500)
    assert "Traceback" in response.text
    assert SECRET in response.text


def test_error_handler_by_status() -> None:
    router, app = make_app()

    @router.error_handler(404)
    def not_found(request: Any, error: Exception) -> webob.Response:
        return webob.Response(f"no {request.path}", status=404)

    assert app.get("/missing", status=404).text == "no /missing"


def test_error_handler_by_exception_type() -> None:
    class OutOfStockError(Exception):
        pass

    router = Router()

    def buy(request: Any) -> str:
        raise OutOfStockError("widgets")

    router.add("/buy", buy)

    @router.error_handler(OutOfStockError)
    def out_of_stock(request: Any, error: Exception) -> webob.Response:
        return webob.Response(json_body={"error": str(error)}, status=409)

    assert TestApp(router).get("/buy", status=409).json == {"error": "widgets"}


def test_error_handler_for_500_sees_unexpected_errors() -> None:
    router, app = make_app()

    @router.error_handler(500)
    def oops(request: Any, error: Exception) -> webob.Response:
        return webob.Response(f"sorry ({type(error).__name__})", status=500)

    assert app.get("/fail", status=500).text == "sorry (RuntimeError)"


def test_failing_error_handler_falls_back_to_plain_500() -> None:
    router, app = make_app()

    @router.error_handler(403)
    def broken(request: Any, error: Exception) -> str:
        raise ValueError(SECRET)

    response = app.get("/teapot", status=500)
    assert SECRET not in response.text


def test_error_handler_key_is_checked() -> None:
    with pytest.raises(TypeError, match="status code or an exception type"):
        Router().error_handler("404")  # type: ignore[arg-type]


def test_error_handler_returning_a_body_keeps_the_error_status() -> None:
    router, app = make_app()
    router.error_handler(404)(lambda request, error: {"missing": request.path})
    response = app.get("/gone", status=404)
    assert response.json == {"missing": "/gone"}


def test_curl_style_accept_anything_gets_plain_text() -> None:
    _, app = make_app()
    response = app.get("/missing", headers={"Accept": "*/*"}, status=404)
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"


def test_quality_values_decide_the_format() -> None:
    _, app = make_app()
    accept = "text/html;q=0.5, application/json;q=0.9"
    response = app.get("/missing", headers={"Accept": accept}, status=404)
    assert response.json["status"] == 404


def test_head_of_an_error_has_no_body() -> None:
    _, app = make_app()
    response = app.head("/missing", status=404)
    assert response.body == b""
