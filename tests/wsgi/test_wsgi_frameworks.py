"""Real Flask, Django and Pyramid applications, served unchanged by ``httpkit serve``."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from server_helpers import RawClient, server_process

FLASK_SITE = """
    import flask

    app = flask.Flask(__name__)

    @app.route("/hello/<name>")
    def hello(name):
        return f"flask says hello to {name} at {flask.url_for('hello', name='x')}"

    @app.route("/form", methods=["POST"])
    def form():
        return "form " + flask.request.form["field"]

    @app.route("/stream")
    def stream():
        return flask.Response(f"line {n}\\n" for n in range(3))
"""

DJANGO_SITE = """
    from django.conf import settings
    from django.http import HttpResponse
    from django.urls import path

    settings.configure(
        DEBUG=False, SECRET_KEY="test-only", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
        INSTALLED_APPS=[], MIDDLEWARE=[],
    )

    def hello(request, name):
        return HttpResponse(f"django says hello to {name} via {request.META['SCRIPT_NAME']}")

    def form(request):
        return HttpResponse("form " + request.POST["field"])

    urlpatterns = [path("hello/<str:name>", hello), path("form", form)]

    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
"""

PYRAMID_SITE = """
    from pyramid.config import Configurator
    from pyramid.response import Response

    def hello(request):
        return Response(f"pyramid says hello to {request.matchdict['name']}")

    def form(request):
        return Response("form " + request.POST["field"])

    def create_app():
        with Configurator() as config:
            config.add_route("hello", "/hello/{name}")
            config.add_view(hello, route_name="hello")
            config.add_route("form", "/form")
            config.add_view(form, route_name="form", request_method="POST")
            return config.make_wsgi_app()
"""


def fetch(url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    with urllib.request.urlopen(url, data=data, timeout=10) as response:
        return response.status, response.read().decode()


def write_site(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(source))


def test_flask_app(tmp_path: Path) -> None:
    write_site(tmp_path, "flask_site", FLASK_SITE)
    with server_process(["flask_site:app"], cwd=str(tmp_path)) as server:
        assert fetch(server.url + "/hello/ann") == (200, "flask says hello to ann at /hello/x")
        assert fetch(server.url + "/form", {"field": "value"}) == (200, "form value")
        assert fetch(server.url + "/stream") == (200, "line 0\nline 1\nline 2\n")


def test_django_app_under_a_url_prefix(tmp_path: Path) -> None:
    write_site(tmp_path, "django_site", DJANGO_SITE)
    with server_process(
        ["django_site:application", "--threads", "0", "--url-prefix", "/site"], cwd=str(tmp_path)
    ) as server:
        assert fetch(server.url + "/site/hello/bob") == (200, "django says hello to bob via /site")
        assert fetch(server.url + "/site/form", {"field": "x y"}) == (200, "form x y")


@pytest.mark.parametrize(
    "fields",
    [b"Content-Length: 9\r\nContent-Length: 9\r\n", b"Content-Length: 9, 9\r\n"],
    ids=["two-lines", "one-list"],
)
def test_django_reads_a_body_with_a_repeated_content_length(tmp_path: Path, fields: bytes) -> None:
    # RFC 9110 8.6 lets a server accept identical repeats; Django must then be given one
    # number, not "9, 9" (which it cannot read, and answers 500).
    write_site(tmp_path, "django_site", DJANGO_SITE)
    with server_process(["django_site:application"], cwd=str(tmp_path)) as server:
        client = RawClient(urllib.parse.urlsplit(server.url).port or 80)
        try:
            client.send(
                b"POST /form HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n" + fields + b"\r\nfield=abc"
            )
            status, _, body = client.read_response()
        finally:
            client.close()
    assert (status, body) == (200, b"form abc")


def test_pyramid_app_from_a_factory(tmp_path: Path) -> None:
    write_site(tmp_path, "pyramid_site", PYRAMID_SITE)
    with server_process(["pyramid_site:create_app()"], cwd=str(tmp_path)) as server:
        assert fetch(server.url + "/hello/cy") == (200, "pyramid says hello to cy")
        assert fetch(server.url + "/form", {"field": "é"}) == (200, "form é")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_against_the_server(tmp_path: Path) -> None:
    write_site(tmp_path, "flask_site", FLASK_SITE)
    with server_process(["flask_site:app"], cwd=str(tmp_path)) as server:
        urls = [server.url + "/hello/a", server.url + "/hello/b"]
        output = subprocess.run(
            ["curl", "-sS", "--http1.1", "--max-time", "10", *urls],  # one keep-alive connection
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout
        assert output == "flask says hello to a at /hello/xflask says hello to b at /hello/x"
        upload = tmp_path / "upload.bin"
        upload.write_bytes(b"field=" + b"v" * 200_000)
        output = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "-H", "Expect: 100-continue",
             "-H", "Content-Type: application/x-www-form-urlencoded",
             "--data-binary", f"@{upload}", server.url + "/form"],
            capture_output=True, text=True, check=True, timeout=20,
        ).stdout  # fmt: skip
        assert output == "form " + "v" * 200_000
