"""The Django application of the mounting example: links from ``reverse``.

Settings are configured in code, minimally, unless the process configured Django
already; this module is also the URLconf, which every request selects for itself
(``request.urlconf``) so that it works beside another Django configuration.
"""

from __future__ import annotations

from django.conf import settings  # type: ignore[import-untyped]
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponseBase, JsonResponse  # type: ignore[import-untyped]
from django.urls import path, reverse  # type: ignore[import-untyped]

__all__ = ["make_django_app", "urlpatterns"]

URLCONF = __name__


def index(request: HttpRequest) -> JsonResponse:
    # reverse() prefixes the script prefix Django takes from SCRIPT_NAME: the mount.
    return JsonResponse(
        {
            "framework": "django",
            "self": reverse("django-index"),
            "hello": reverse("django-hello", args=["django"]),
        }
    )


def hello(request: HttpRequest, name: str) -> JsonResponse:
    return JsonResponse(
        {
            "framework": "django",
            "greeting": f"Hello, {name}!",
            "self": reverse("django-hello", args=[name]),
        }
    )


urlpatterns = [
    path("", index, name="django-index"),
    path("hello/<str:name>", hello, name="django-hello"),
]


class MountedDjango(WSGIHandler):  # type: ignore[misc]
    """Django's WSGI handler, always resolving with this module's URLconf."""

    def get_response(self, request: WSGIRequest) -> HttpResponseBase:
        request.urlconf = URLCONF
        return super().get_response(request)


def make_django_app() -> MountedDjango:
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="httpkit-mounting-example-not-secret",
            ROOT_URLCONF=URLCONF,
            ALLOWED_HOSTS=["127.0.0.1", "localhost", "[::1]"],
            INSTALLED_APPS=[],
            MIDDLEWARE=[],
        )
    import django  # type: ignore[import-untyped]  # noqa: PLC0415 (after the settings)

    django.setup(set_prefix=False)
    return MountedDjango()
