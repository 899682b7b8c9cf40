"""One Router serving native handlers beside Flask, Django and Pyramid applications.

Run it from a checkout::

    httpkit serve examples.mounting:app

``/`` is a native httpkit handler linking to the three mounted applications, at
``/flask/``, ``/django/`` and ``/pyramid/``.  Each application builds links to itself
with its own tool (``flask.url_for``, Django's ``reverse``, Pyramid's
``request.route_path``) and they come out with the mount prefix, because the Router
moves the prefix from ``PATH_INFO`` to ``SCRIPT_NAME`` (PEP 3333) before calling them.
"""

from __future__ import annotations

from typing import Any

from examples.mounting.django_app import make_django_app
from examples.mounting.flask_app import make_flask_app
from examples.mounting.pyramid_app import make_pyramid_app
from httpkit.web import Request, Router

__all__ = ["app", "make_app"]

FRAMEWORKS = ("flask", "django", "pyramid")


def index(request: Request) -> dict[str, Any]:
    """The native handler: links to itself and to each mounted application."""
    return {
        "framework": "httpkit",
        "self": request.url_for("index"),
        "mounted": {name: request.url_for(name, path="") for name in FRAMEWORKS},
    }


def hello(request: Request, name: str) -> dict[str, str]:
    return {
        "framework": "httpkit",
        "greeting": f"Hello, {name}!",
        "self": request.url_for("hello", name=name),
    }


def make_app() -> Router:
    router = Router(redirect_slashes=True)
    router.add("/", index, name="index")
    router.add("/hello/{name}", hello, name="hello")
    router.mount("/flask", make_flask_app(), name="flask")
    router.mount("/django", make_django_app(), name="django")
    router.mount("/pyramid", make_pyramid_app(), name="pyramid")
    return router


app = make_app()
