"""Matching: templates, precedence, methods, HEAD, OPTIONS, 404/405, slashes, override."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from webtest import TestApp

from httpkit import Handler, Router
from httpkit.web import format_route_table


class Entry(Handler):
    def get(self, request: Any, id: str) -> str:
        return f"entry {id}"

    def put(self, request: Any, id: str) -> str:
        return f"put {id} {request.body.decode()}"

    def delete(self, request: Any, id: str) -> None:
        return None


def hello(request: Any, name: str) -> str:
    return f"Hello, {name}!"


def make_app(**options: Any) -> TestApp:
    router = Router(**options)
    router.add(r"/entries/{id:\d+}", Entry, name="entry")
    router.add("/hello/{name}", hello, methods=["GET"])
    return TestApp(router)


def test_requirement_selects_the_route() -> None:
    app = make_app()
    assert app.get("/entries/42").text == "entry 42"
    app.get("/entries/abc", status=404)


def test_plain_function_gets_route_params() -> None:
    assert make_app().get("/hello/world").text == "Hello, world!"


def test_path_is_decoded_as_utf8() -> None:
    assert make_app().get("/hello/w%C3%B6rld").text == "Hello, wörld!"


def test_path_that_is_not_utf8_is_a_400() -> None:
    make_app().get("/hello/%FF%FE", status=400)


def test_unknown_path_is_a_404() -> None:
    make_app().get("/nothing/here", status=404)


def test_wrong_method_is_a_405_listing_allowed_methods() -> None:
    response = make_app().post("/entries/1", status=405)
    assert response.headers["Allow"] == "GET, HEAD, PUT, DELETE, OPTIONS"


def test_function_serves_only_get_by_default() -> None:
    response = make_app().delete("/hello/x", status=405)
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_head_runs_get_and_drops_the_body_keeping_headers() -> None:
    response = make_app().head("/entries/7")
    assert response.body == b""
    assert response.headers["Content-Length"] == str(len("entry 7"))
    assert response.headers["Content-Type"].startswith("text/plain")


def test_options_answers_204_with_allow() -> None:
    response = make_app().options("/entries/7", status=204)
    assert response.headers["Allow"] == "GET, HEAD, PUT, DELETE, OPTIONS"


def test_options_defined_by_the_handler_is_used() -> None:
    class Cors(Handler):
        def get(self, request: Any) -> str:
            return "x"

        def options(self, request: Any) -> str:
            return "custom options"

    router = Router()
    router.add("/cors", Cors)
    assert TestApp(router).options("/cors").text == "custom options"


def test_definition_order_wins_over_longer_static_prefix() -> None:
    router = Router()
    router.add("/pages/{name}", lambda request, name: f"generic {name}")
    router.add("/pages/about", lambda request: "specific")
    assert TestApp(router).get("/pages/about").text == "generic about"


def test_later_route_serves_a_method_the_first_does_not() -> None:
    router = Router()
    router.add("/items/{id}", lambda request, id: f"get {id}")
    router.add("/items/{id}", lambda request, id: f"post {id}", methods=["POST"])
    app = TestApp(router)
    assert app.post("/items/3").text == "post 3"
    assert app.get("/items/3").text == "get 3"
    assert app.put("/items/3", status=405).headers["Allow"] == "GET, HEAD, POST, OPTIONS"


def test_methods_restrict_a_handler_class() -> None:
    router = Router()
    router.add(r"/ro/{id}", Entry, methods=["GET"])
    app = TestApp(router)
    assert app.get("/ro/1").text == "entry 1"
    assert app.put("/ro/1", status=405).headers["Allow"] == "GET, HEAD, OPTIONS"


def test_format_extension_is_optional() -> None:
    router = Router()
    router.add("/report{.format}", lambda request, format: f"format={format}")
    app = TestApp(router)
    assert app.get("/report.csv").text == "format=csv"
    assert app.get("/report").text == "format=None"


def test_defaults_fill_missing_params() -> None:
    router = Router()
    router.add("/feed{.format}", lambda request, format: format, defaults={"format": "atom"})
    app = TestApp(router)
    assert app.get("/feed").text == "atom"
    assert app.get("/feed.rss").text == "rss"


def test_path_parameter_spans_slashes() -> None:
    router = Router()
    router.add("/files/{path:.*}", lambda request, path: path)
    assert TestApp(router).get("/files/a/b/c.txt").text == "a/b/c.txt"


def test_encoded_newline_does_not_match_end_of_template() -> None:
    make_app().get("/entries/1%0A", status=404)


def test_route_params_are_on_the_request() -> None:
    router = Router()
    router.add(
        "/who/{name}",
        lambda request, name: (
            f"{request.route_name} {dict(request.route_params)} {request.urlvars['name']}"
        ),
        name="who",
    )
    assert TestApp(router).get("/who/ann").text == "who {'name': 'ann'} ann"


def test_many_routes_still_pick_by_definition_order() -> None:
    router = Router()
    for number in range(300):
        router.add(f"/r{number}/{{id}}", lambda request, id, n=number: f"{n}:{id}")
    router.add("/{anything}/{id}", lambda request, anything, id: "catch-all")
    app = TestApp(router)
    assert app.get("/r299/x").text == "299:x"
    assert app.get("/r0/y").text == "0:y"
    assert app.get("/zzz/y").text == "catch-all"


def test_strict_trailing_slash_by_default() -> None:
    router = Router()
    router.add("/about", lambda request: "about")
    TestApp(router).get("/about/", status=404)


def test_redirect_slashes_sends_308_to_the_existing_form() -> None:
    router = Router(redirect_slashes=True)
    router.add("/about", lambda request: "about")
    router.add("/docs/", lambda request: "docs")
    app = TestApp(router)
    assert app.get("/about/?x=1", status=308).headers["Location"].endswith("/about?x=1")
    assert app.get("/docs", status=308).headers["Location"].endswith("/docs/")
    app.post("/docs", status=404)


def test_method_override_is_off_by_default() -> None:
    make_app().post("/entries/1?_method=DELETE", status=405)


def test_method_override_on_post_when_enabled() -> None:
    app = make_app(method_override=True)
    app.post("/entries/1?_method=DELETE", status=204)
    assert app.post("/entries/1", {"_method": "PUT"}).text.startswith("put 1")


def test_method_override_never_honoured_on_get() -> None:
    app = make_app(method_override=True)
    assert app.get("/entries/1?_method=DELETE").text == "entry 1"


def test_method_override_to_a_safe_method_is_refused() -> None:
    make_app(method_override=True).post("/entries/1?_method=GET", status=400)


def test_route_table_lists_routes_in_order() -> None:
    router = Router()
    router.add(r"/entries/{id:\d+}", Entry, name="entry")
    router.add("/hello/{name}", hello)
    router.mount("/legacy", lambda environ, start_response: [])
    lines = format_route_table(router).splitlines()
    assert lines[0].split() == ["NAME", "METHODS", "TEMPLATE", "HANDLER"]
    assert lines[1].split() == [
        "entry",
        "GET,HEAD,PUT,DELETE,OPTIONS",
        r"/entries/{id:\d+}",
        "test_web_dispatch.Entry",
    ]
    assert lines[2].split()[:3] == ["-", "GET,HEAD,OPTIONS", "/hello/{name}"]
    assert lines[3].split()[:3] == ["-", "*", "/legacy/..."]
    # Columns are aligned: every template starts at the same offset.
    assert len({line.index(line.split()[2]) for line in lines}) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.add("no-slash", hello), "starting with '/'"),
        (lambda r: r.add("/x", object()), "Handler subclass or a callable"),
        (lambda r: r.add("/x", dict), "not a subclass of httpkit.Handler"),
        (lambda r: r.add("/x", Entry, methods=["POST"]), "no method for POST"),
        (lambda r: r.add("/x", hello, methods="GET"), "list of method names"),
        (lambda r: r.add("/x", hello, methods=["get"]), "upper-case"),
        (lambda r: r.add("/x/{id:(}", hello), "bad requirement"),
        (lambda r: r.add("/x", hello, defaults={"request": 1}), "route parameter"),
        (lambda r: Router(max_body=-1), "max_body"),
    ],
)
def test_bad_registrations_fail_clearly(call: Any, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        call(Router())


def test_duplicate_route_names_are_refused() -> None:
    router = Router()
    router.add("/a", hello, name="a")
    with pytest.raises(ValueError, match="already exists"):
        router.add("/b", hello, name="a")


def test_handler_class_without_methods_is_refused() -> None:
    class Empty(Handler):
        pass

    with pytest.raises(ValueError, match="defines none"):
        Router().add("/e", Empty)


def test_route_table_describes_static_routes(tmp_path: Any) -> None:
    router = Router()
    router.static("/assets/", str(tmp_path), name="assets")
    last = format_route_table(router).splitlines()[-1].split()
    assert last[:3] == ["assets", "GET,HEAD,OPTIONS", "/assets/..."]
    assert last[-1] == str(tmp_path.resolve())


def test_httpkit_routes_command_prints_the_table() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    completed = subprocess.run(
        [sys.executable, "-m", "httpkit", "routes", "live_app:app"],
        cwd=here,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([here, *sys.path])},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    lines = completed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "METHODS", "TEMPLATE", "HANDLER"]
    assert lines[1].split() == [
        "entry",
        "GET,HEAD,PUT,OPTIONS",
        r"/entries/{id:\d+}",
        "live_app.Entry",
    ]
