"""Mounting WSGI applications (Flask, Django, Pyramid, a nested Router) under a prefix."""

from __future__ import annotations

from typing import Any

import flask
import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.test.utils import override_settings
from django.urls import path as django_path
from django.urls import reverse
from pyramid.config import Configurator
from pyramid.response import Response as PyramidResponse
from webtest import TestApp

from httpkit import Handler, Router


def django_hello(request: HttpRequest, name: str) -> HttpResponse:
    return HttpResponse(f"django {name} {reverse('django-hello', args=['x'])}")


# This module is the Django URLconf of the mounted Django app.
urlpatterns = [django_path("hello/<str:name>", django_hello, name="django-hello")]


def make_django_app() -> WSGIHandler:
    # Django's settings are process-wide: configure them only if no other test did.
    if not settings.configured:
        settings.configure(DEBUG=False, SECRET_KEY="test-only", INSTALLED_APPS=[], MIDDLEWARE=[])
    return get_wsgi_application()


def make_flask_app() -> flask.Flask:
    app = flask.Flask("mounted")

    @app.route("/hello/<name>")
    def hello(name: str) -> str:
        return f"flask {name} {flask.url_for('hello', name='x')}"

    return app


def make_pyramid_app() -> Any:
    def hello(request: Any) -> PyramidResponse:
        name = request.matchdict["name"]
        return PyramidResponse(f"pyramid {name} {request.route_path('hello', name='x')}")

    with Configurator() as config:
        config.add_route("hello", "/hello/{name}")
        config.add_view(hello, route_name="hello")
        return config.make_wsgi_app()


def make_app() -> TestApp:
    router = Router()
    router.add("/native/{name}", lambda request, name: f"native {name}")
    router.mount("/flask", make_flask_app())
    router.mount("/django", make_django_app())
    router.mount("/pyramid", make_pyramid_app())
    return TestApp(router)


def test_native_handler_beside_mounted_apps() -> None:
    assert make_app().get("/native/a").text == "native a"


def test_flask_app_under_a_prefix_builds_its_own_urls() -> None:
    assert make_app().get("/flask/hello/ann").text == "flask ann /flask/hello/x"


def test_django_app_under_a_prefix_builds_its_own_urls() -> None:
    app = make_app()
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["localhost"]):
        assert app.get("/django/hello/bob").text == "django bob /django/hello/x"


def test_pyramid_app_under_a_prefix_builds_its_own_urls() -> None:
    assert make_app().get("/pyramid/hello/cy").text == "pyramid cy /pyramid/hello/x"


def test_mounted_app_answers_its_own_404() -> None:
    response = make_app().get("/flask/nothing", status=404)
    assert "Not Found" in response.text


def test_mount_prefix_is_a_whole_segment() -> None:
    make_app().get("/flaskish/hello/x", status=404)


def test_mounted_app_sees_every_method() -> None:
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["REQUEST_METHOD"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    router = Router()
    router.mount("/any", app)
    test_app = TestApp(router)
    test_app.delete("/any/x")
    test_app.patch("/any")
    assert seen == ["DELETE", "PATCH"]


def test_nested_router_sees_the_prefix_in_script_name() -> None:
    inner = Router()
    inner.add(
        "/items/{id}",
        lambda request, id: (
            f"{request.script_name} {request.path_info} {request.url_for('item', id='9')}"
        ),
        name="item",
    )
    outer = Router()
    outer.mount("/api/v1", inner)
    app = TestApp(outer, extra_environ={"SCRIPT_NAME": "/site"})
    assert app.get("/api/v1/items/3").text == "/site/api/v1 /items/3 /site/api/v1/items/9"


def test_mount_with_non_ascii_prefix() -> None:
    inner = Router()
    inner.add("/x", lambda request: request.path_info)
    outer = Router()
    outer.mount("/café", inner)
    assert TestApp(outer).get("/caf%C3%A9/x").text == "/x"


def test_collection_adds_collection_and_member_routes() -> None:
    notes = ["first"]

    class Notes(Handler):
        def get(self, request: Any) -> list[str]:
            return [request.url_for("note", id=str(i)) for i in range(len(notes))]

        def post(self, request: Any) -> None:
            notes.append(request.text)

    class Note(Handler):
        def get(self, request: Any, id: str) -> str:
            return notes[int(id)]

    router = Router()
    router.collection("/notes", Notes, Note, name="notes", member_name="note", requirement=r"\d+")
    app = TestApp(router)
    app.post("/notes", "second", status=204)
    assert app.get("/notes").json == ["/notes/0", "/notes/1"]
    assert app.get("/notes/1").text == "second"
    app.get("/notes/x", status=404)
    assert [route.name for route in router.routes] == ["notes", "note"]


@pytest.mark.parametrize("script_name", ["", "/root", "/root/"])
def test_url_for_never_doubles_a_slash(tmp_path: Any, script_name: str) -> None:
    inner = Router()
    inner.add("/", lambda request: request.url_for("home"), name="home")
    inner.add("/x", lambda request: request.url_for("x"), name="x")
    inner.static("/static", str(tmp_path), name="static")
    inner.add(
        "/links",
        lambda request: " ".join(
            request.url_for("static", path=path) for path in ("/a.css", "a.css", "")
        ),
    )
    outer = Router()
    outer.mount("/app/", inner)
    app = TestApp(outer)
    environ = {"SCRIPT_NAME": script_name}
    prefix = script_name.rstrip("/") + "/app"
    assert app.get("/app/", extra_environ=environ).text == prefix + "/"
    assert app.get("/app/x", extra_environ=environ).text == prefix + "/x"
    links = app.get("/app/links", extra_environ=environ).text.split()
    assert links == [f"{prefix}/static/a.css"] * 2 + [f"{prefix}/static/"]
    # Served directly with a trailing-slash SCRIPT_NAME, as some servers send it.
    direct = TestApp(inner).get("/x", extra_environ=environ).text
    assert direct == script_name.rstrip("/") + "/x" and "//" not in direct
