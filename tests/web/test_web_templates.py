"""Jinja2 templates in the router: loading, escaping, url_for and request, streaming."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import jinja2
import pytest
from webtest import TestApp

from httpkit.testing import live_server
from httpkit.web import Request, Router, Templates
from httpkit.web.html import WHOLE_PAGE_LIMIT

WAIT = 5.0


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    (tmp_path / "base.html").write_text(
        "<title>{% block title %}{% endblock %}</title><main>{% block main %}{% endblock %}</main>"
    )
    (tmp_path / "entry.html").write_text(
        '{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}'
        '{% block main %}<a href="{{ url_for("entry", id=id) }}">{{ title }}</a> '
        "for {{ request.path }}{% endblock %}"
    )
    (tmp_path / "note.txt").write_text("plain: {{ text }}")
    return tmp_path


def entry_app(templates: Templates | str | Path) -> TestApp:
    router = Router(templates=templates)

    def entry(request: Request, id: str) -> object:
        return request.render("entry.html", title="<b>Tom & Jerry</b>", id=id)

    router.add("/entries/{id}", entry, name="entry")
    return TestApp(router)


def test_a_directory_of_templates_with_inheritance(template_dir: Path) -> None:
    response = entry_app(Templates(template_dir)).get("/entries/7")
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Length"] == str(len(response.body))
    assert response.text == (
        "<title>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</title><main>"
        '<a href="/entries/7">&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</a> for /entries/7</main>'
    )


def test_the_router_takes_a_directory_path(template_dir: Path) -> None:
    assert 'href="/entries/3"' in entry_app(str(template_dir)).get("/entries/3").text


def test_url_for_keeps_the_mount_prefix(template_dir: Path) -> None:
    response = entry_app(template_dir).get("/entries/3", extra_environ={"SCRIPT_NAME": "/app"})
    assert 'href="/app/entries/3"' in response.text


def test_inline_strings_are_escaped_and_win_over_files(template_dir: Path) -> None:
    templates = Templates(template_dir, strings={"entry.html": "<p>{{ title }}</p>"})
    assert (
        entry_app(templates).get("/entries/1").text == "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>"
    )
    only_strings = Templates(strings={"page": "<p>{{ x }}</p>"})
    router = Router(templates=only_strings)
    router.add("/", lambda request: request.render("page", x="<script>"))
    assert TestApp(router).get("/").text == "<p>&lt;script&gt;</p>"


def test_text_templates_are_not_escaped_and_render_string_is(template_dir: Path) -> None:
    templates = Templates(template_dir)
    router = Router(templates=templates)
    router.add("/text", lambda request: templates.render(request, "note.txt", text="a < b"))
    router.add("/one-off", lambda request: templates.render_string(request, "{{ v }}", v="<&>"))
    client = TestApp(router)
    text = client.get("/text")
    assert text.text == "plain: a < b"
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    one_off = client.get("/one-off")
    assert one_off.text == "&lt;&amp;&gt;"
    assert one_off.headers["Content-Type"] == "text/html; charset=utf-8"


def test_a_template_of_another_kind_gets_its_content_type() -> None:
    feed = '<feed xmlns="http://www.w3.org/2005/Atom"><title>{{ title }}</title></feed>'
    router = Router(templates=Templates(strings={"feed.atom": feed, "page": "<p>{{ x }}</p>"}))
    router.add("/feed", lambda request: request.render("feed.atom", title="A & B"))
    router.add("/page", lambda request: request.render("page", x=1))
    client = TestApp(router)
    atom = client.get("/feed")
    assert atom.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert "<title>A &amp; B</title>" in atom.text
    assert client.get("/page").headers["Content-Type"] == "text/html; charset=utf-8"


def test_json_is_not_html_escaped() -> None:
    router = Router(templates=Templates(strings={"data.json": '{"name": {{ name|tojson }}}'}))
    router.add("/", lambda request: request.render("data.json", name='say "hi"'))
    response = TestApp(router).get("/")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.json == {"name": 'say "hi"'}


def test_status_and_headers_of_a_rendered_page() -> None:
    router = Router(templates=Templates(strings={"form.html": "<p>{{ error }}</p>"}))
    router.add(
        "/",
        lambda request: request.render(
            "form.html", error="too long", status=400, headers={"Cache-Control": "no-store"}
        ),
    )
    response = TestApp(router).get("/", status=400)
    assert response.text == "<p>too long</p>"
    assert response.headers["Cache-Control"] == "no-store"


def test_mistakes_in_templates_are_500s_that_say_why(caplog: pytest.LogCaptureFixture) -> None:
    router = Router(templates=Templates(strings={"page.html": "<p>{{ misspelt }}</p>"}))
    router.add("/undefined", lambda request: request.render("page.html"))
    router.add("/missing", lambda request: request.render("nowhere.html"))
    client = TestApp(router)
    client.get("/undefined", status=500)
    assert "'misspelt' is undefined" in caplog.text
    client.get("/missing", status=500)
    assert "nowhere.html" in caplog.text


def test_lenient_templates_render_a_missing_name_empty() -> None:
    templates = Templates(
        strings={"page.html": "<p>{% if error %}{{ error }}{% endif %}</p>"}, strict=False
    )
    router = Router(templates=templates)
    router.add("/", lambda request: request.render("page.html"))
    assert TestApp(router).get("/").text == "<p></p>"


def test_a_router_without_templates_says_so(caplog: pytest.LogCaptureFixture) -> None:
    router = Router()
    router.add("/", lambda request: request.render("page.html"))
    TestApp(router).get("/", status=500)
    assert "this router has no templates: make it with Router(templates=...)" in caplog.text


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        Templates("/no/such/directory")
    with pytest.raises(ValueError, match="directory, inline strings"):
        Templates()


def test_a_large_page_streams_from_generate() -> None:
    rows = WHOLE_PAGE_LIMIT // 10
    source = "<table>{% for row in rows %}<tr><td>{{ row }}</td></tr>{% endfor %}</table>"
    router = Router(templates=Templates(strings={"big.html": source}))
    router.add("/", lambda request: request.render("big.html", rows=range(rows)))
    with live_server(router, threads=0) as server:
        response = httpx.get(server.url + "/", timeout=WAIT)
    assert "content-length" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.text == jinja2.Template(source).render(rows=range(rows))


def test_without_jinja2_asking_for_templates_says_what_to_install(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["jinja2"] = None  # as if the extra were not installed
        from httpkit.web import Router, Templates
        Router()  # the router itself works without it
        try:
            Templates(strings={"a": "b"})
        except ImportError as error:
            print(error)
        """
    )
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        env=environ,
        check=True,
        cwd=tmp_path,
    )
    assert done.stdout.strip() == "templates need Jinja2: pip install 'httpkit[templates]'"
