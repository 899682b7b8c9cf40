"""The Pyramid application of the mounting example: links from ``request.route_path``."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator  # type: ignore[import-untyped]

__all__ = ["make_pyramid_app"]


def index(request: Any) -> dict[str, str]:
    # route_path prefixes request.script_name, i.e. the mount prefix.
    return {
        "framework": "pyramid",
        "self": request.route_path("index"),
        "hello": request.route_path("hello", name="pyramid"),
    }


def hello(request: Any) -> dict[str, str]:
    name = request.matchdict["name"]
    return {
        "framework": "pyramid",
        "greeting": f"Hello, {name}!",
        "self": request.route_path("hello", name=name),
    }


def make_pyramid_app() -> Any:
    with Configurator() as config:
        config.add_route("index", "/")
        config.add_route("hello", "/hello/{name}")
        config.add_view(index, route_name="index", renderer="json")
        config.add_view(hello, route_name="hello", renderer="json")
        return config.make_wsgi_app()
