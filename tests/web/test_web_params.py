"""Route parameters and defaults with any name: none is reserved by Routes' internals."""

from __future__ import annotations

from typing import Any

import pytest
from webtest import TestApp

from httpkit import Router


def echo(request: Any, **params: Any) -> dict[str, Any]:
    return params


def test_default_named_name_fills_the_handler_argument() -> None:
    router = Router()
    router.add("/hello", lambda request, name: f"Hello, {name}!", defaults={"name": "world"})
    assert TestApp(router).get("/hello").text == "Hello, world!"


def test_template_parameter_with_a_default_of_the_same_name() -> None:
    router = Router()
    router.add("/hello/{name}", lambda r, name: name, defaults={"name": "world"}, name="hi")
    assert TestApp(router).get("/hello/ada").text == "ada"
    assert router.url_path("hi", {}) == "/hello/world"
    assert router.url_path("hi", {"name": "bob"}) == "/hello/bob"


# Names Routes' Route constructor, makeregexp or generate treat specially.
SPECIAL_NAMES = [
    "name",
    "routepath",
    "conditions",
    "requirements",
    "controller",
    "action",
    "id",
    "method",
    "path_info",
    "sub_domain",
    "_minimize",
    "_explicit",
    "_static",
    "_encoding",
    "_append_slash",
    "_ignore_req_list",
]


@pytest.mark.parametrize("key", SPECIAL_NAMES)
def test_any_identifier_is_a_default(key: str) -> None:
    router = Router()
    router.add("/x", echo, defaults={key: "v"}, name="x")
    assert TestApp(router).get("/x").json == {key: "v"}
    assert router.url_path("x", {}) == "/x"


@pytest.mark.parametrize("key", SPECIAL_NAMES)
def test_any_identifier_is_a_template_parameter(key: str) -> None:
    router = Router()
    router.add(f"/y/{{{key}}}", echo, name="y")
    assert TestApp(router).get("/y/abc").json == {key: "abc"}
    assert router.url_path("y", {key: "a b"}) == "/y/a%20b"


@pytest.mark.parametrize("key", ["action", "controller", "method"])
def test_extra_parameters_of_any_name_become_the_query_string(key: str) -> None:
    router = Router()
    router.add("/z", echo, name="z")
    assert router.url_path("z", {key: "list"}) == f"/z?{key}=list"


def test_default_outside_the_template_must_keep_its_value_when_building() -> None:
    router = Router()
    router.add("/feed", echo, defaults={"kind": "atom"}, name="feed")
    assert router.url_path("feed", {"kind": "atom"}) == "/feed"
    router.add("/page", echo, defaults={"number": 1}, name="page")
    assert router.url_path("page", {"number": "1"}) == "/page"
    with pytest.raises(ValueError, match="kind"):
        router.url_path("feed", {"kind": "rss"})


def test_percent_and_space_in_a_template_are_literal() -> None:
    router = Router()
    router.add("/100%/{id}", echo, name="pct")
    assert TestApp(router).get("/100%25/7").json == {"id": "7"}
    assert router.url_path("pct", {"id": "1"}) == "/100%25/1"


def test_optional_format_still_uses_its_default() -> None:
    router = Router()
    router.add("/report{.format}", echo, defaults={"format": "html"}, name="report")
    app = TestApp(router)
    assert app.get("/report").json == {"format": "html"}
    assert app.get("/report.csv").json == {"format": "csv"}
    assert router.url_path("report", {"format": "csv"}) == "/report.csv"


@pytest.mark.parametrize("key", ["request", "self"])
def test_names_the_handler_call_uses_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match=f"{key!r} cannot be a route parameter"):
        Router().add("/x", echo, defaults={key: 1})
    with pytest.raises(ValueError, match=f"{key!r} cannot be a route parameter"):
        Router().add(f"/x/{{{key}}}", echo)


@pytest.mark.parametrize("key", ["", "1x", "a-b", "a b", 3])
def test_non_identifiers_are_refused(key: Any) -> None:
    with pytest.raises(ValueError, match="identifier"):
        Router().add("/x", echo, defaults={key: 1})


def test_template_parameter_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'a-b'.*identifier"):
        Router().add("/x/{a-b}", echo)
