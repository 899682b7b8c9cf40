"""The request handlers see: url_for, JSON bodies, body limits, hooks."""

from __future__ import annotations

import io
from typing import Any

import pytest
import webob
from webtest import TestApp

from httpkit import Handler, Router


class Entry(Handler):
    def get(self, request: Any, id: str) -> str:
        return request.url_for("entry", id=int(id) + 1)


def test_url_for_builds_paths() -> None:
    router = Router()
    router.add(r"/entries/{id:\d+}", Entry, name="entry")
    assert TestApp(router).get("/entries/1").text == "/entries/2"


def test_url_for_honours_script_name() -> None:
    router = Router()
    router.add(r"/entries/{id:\d+}", Entry, name="entry")
    app = TestApp(router, extra_environ={"SCRIPT_NAME": "/my app"})
    assert app.get("/entries/1").text == "/my%20app/entries/2"


def test_url_for_puts_extra_params_in_the_query_and_can_be_qualified() -> None:
    router = Router()
    router.add(
        "/search",
        lambda request: request.url_for("search", q="a b", _qualified=True),
        name="search",
    )
    assert TestApp(router).get("/search").text == "http://localhost/search?q=a+b"


def test_url_for_errors_are_clear() -> None:
    router = Router()
    router.add(r"/entries/{id:\d+}", Entry, name="entry")
    seen: dict[str, Exception] = {}

    def probe(request: Any) -> str:
        for label, call in {
            "unknown": lambda: request.url_for("nope"),
            "mismatch": lambda: request.url_for("entry", id="abc"),
            "missing": lambda: request.url_for("entry"),
        }.items():
            with pytest.raises((LookupError, ValueError)) as caught:
                call()
            seen[label] = caught.value
        return "ok"

    router.add("/probe", probe)
    TestApp(router).get("/probe")
    assert isinstance(seen["unknown"], LookupError)
    assert "does not match" in str(seen["mismatch"])
    assert isinstance(seen["missing"], ValueError)


def test_request_json_parses_the_body() -> None:
    router = Router()
    router.add("/echo", lambda request: request.json, methods=["POST"])
    assert TestApp(router).post_json("/echo", {"a": [1, 2]}).json == {"a": [1, 2]}


def test_malformed_json_is_a_400() -> None:
    router = Router()
    router.add("/echo", lambda request: request.json, methods=["POST"])
    response = TestApp(router).post(
        "/echo", "{not json", content_type="application/json", status=400
    )
    assert "not valid JSON" in response.text


def test_body_over_max_body_is_413_before_the_handler_runs() -> None:
    calls: list[str] = []
    router = Router(max_body=10)
    router.add("/up", lambda request: calls.append("called") or "ok", methods=["POST"])
    app = TestApp(router)
    app.post("/up", b"x" * 11, status=413)
    assert calls == []
    assert app.post("/up", b"x" * 10).text == "ok"


def test_chunked_body_over_max_body_is_413_when_read() -> None:
    router = Router(max_body=10)
    router.add("/up", lambda request: str(len(request.body)), methods=["POST"])
    for size, status in ((10, 200), (11, 413)):
        environ = webob.Request.blank("/up", method="POST").environ
        environ.pop("CONTENT_LENGTH", None)
        environ.update(
            {
                "wsgi.input": io.BytesIO(b"y" * size),
                "wsgi.input_terminated": True,
                "HTTP_TRANSFER_ENCODING": "chunked",
            }
        )
        response = webob.Request(environ).get_response(router)
        assert response.status_int == status
    assert response.status_int == 413


def test_before_request_can_answer_early() -> None:
    router = Router()
    router.add("/private", lambda request: "secret")

    @router.before_request
    def require_token(request: Any) -> webob.Response | None:
        if request.headers.get("X-Token") != "ok":
            return webob.Response("go away", status=401)
        return None

    app = TestApp(router)
    assert app.get("/private", status=401).text == "go away"
    assert app.get("/private", headers={"X-Token": "ok"}).text == "secret"


def test_after_request_sees_every_response_including_errors() -> None:
    router = Router()
    router.add("/x", lambda request: "x")

    @router.after_request
    def stamp(request: Any, response: webob.Response) -> None:
        response.headers["X-Served-By"] = "httpkit"

    app = TestApp(router)
    assert app.get("/x").headers["X-Served-By"] == "httpkit"
    assert app.get("/x").text == "x"
    assert app.get("/missing", status=404).headers["X-Served-By"] == "httpkit"


def test_after_request_can_replace_the_response() -> None:
    router = Router()
    router.add("/x", lambda request: "x")
    router.after_request(lambda request, response: webob.Response("replaced"))
    assert TestApp(router).get("/x").text == "replaced"


def test_router_works_inside_wsgi_middleware() -> None:
    router = Router()
    router.add("/x", lambda request: request.environ["middleware.seen"])

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        environ["middleware.seen"] = "yes"
        return router(environ, start_response)

    assert TestApp(middleware).get("/x").text == "yes"
