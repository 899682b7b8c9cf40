"""Jinja options through Templates: filters, tests, environment options -- and httpkit's
own choices (loader, escaping, strict names, synchronous rendering) kept."""

from __future__ import annotations

from typing import Any

import pytest
from webtest import TestApp

from httpkit.web import Request, Router, Templates

PAGE = """<ul>
  {% for item in items %}
    <li>{{ item|shout }}{% if item is long %}!{% endif %}</li>
    {% if loop.index == 2 %}{% break %}{% endif %}
  {% endfor %}
</ul>
"""


def page_app(templates: Templates) -> TestApp:
    router = Router(templates=templates)

    def page(request: Request) -> object:
        return request.render("page.html", items=["a<b>", "hello world", "never"])

    router.add("/", page)
    return TestApp(router)


def test_filters_tests_and_environment_options_reach_the_templates() -> None:
    templates = Templates(
        strings={"page.html": PAGE},
        filters={"shout": str.upper},
        tests={"long": lambda text: len(text) > 5},
        environment_options={
            "trim_blocks": True,
            "lstrip_blocks": True,
            "extensions": ["jinja2.ext.loopcontrols"],
        },
    )
    response = page_app(templates).get("/")
    assert response.content_type == "text/html"
    # trim_blocks and lstrip_blocks: the block tags leave no lines behind; the filter's
    # output is escaped all the same; {% break %} comes from the extension.
    assert response.text == "<ul>\n    <li>A&lt;B&gt;</li>\n    <li>HELLO WORLD!</li>\n</ul>"


def test_without_the_options_jinja_keeps_the_block_lines() -> None:
    templates = Templates(
        strings={"page.html": "{% if true %}\n  x\n{% endif %}\n"},
    )
    router = Router(templates=templates)
    router.add("/", lambda request: request.render("page.html"))
    assert TestApp(router).get("/").text == "\n  x\n"


@pytest.mark.parametrize(
    ("option", "instead"),
    [
        ("loader", "strings="),
        ("autoescape", "httpkit"),
        ("undefined", "strict="),
        ("auto_reload", "auto_reload="),
        ("enable_async", "generate()"),
    ],
)
def test_httpkits_own_options_are_refused(option: str, instead: str) -> None:
    with pytest.raises(ValueError, match=f"may not set '{option}'.*{instead}"):
        Templates(strings={"a.html": ""}, environment_options={option: False})


def test_an_unknown_option_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'trim_block' is not an option of jinja2\.Environment"):
        Templates(strings={"a.html": ""}, environment_options={"trim_block": True})


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"filters": {"e": str.upper}}, ValueError, "Jinja's own escaping"),
        ({"filters": {"safe": str}}, ValueError, "Jinja's own escaping"),
        ({"filters": {"shout": "upper"}}, TypeError, "must be callable"),
        ({"tests": {"not a name": bool}}, ValueError, "use an identifier"),
        ({"filters": [str.upper]}, TypeError, "must be a mapping"),
        ({"environment_options": ["trim_blocks"]}, TypeError, "must be a mapping"),
    ],
)
def test_bad_filters_and_tests_are_refused(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Templates(strings={"a.html": ""}, **arguments)
