"""A Django project with its admin, and its collected static files served beside it.

Django's WSGI application does not serve static files (``runserver`` does, in
development only), so under any WSGI server the admin comes up unstyled until something
serves ``STATIC_ROOT`` at ``STATIC_URL``.  Here a Router does it: ``router.static`` for
``/static/``, then ``mount("/")`` for everything else.  From a checkout::

    export DJANGO_SETTINGS_MODULE=examples.django_static.settings
    python -m django collectstatic --noinput     # copies the admin's CSS and JS
    python -m django migrate                     # the admin's tables, to log in
    python -m django createsuperuser
    httpkit serve examples.django_static.site:app

and open http://127.0.0.1:8000/admin/.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_static.settings")

from django.conf import settings  # type: ignore[import-untyped]
from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]

from httpkit.web import Router

__all__ = ["app", "make_app"]


def make_app() -> Router:
    static_root = settings.STATIC_ROOT
    if not os.path.isdir(static_root):
        raise RuntimeError(
            f"STATIC_ROOT {static_root} does not exist: run "
            "`python -m django collectstatic` first (see this module's documentation)"
        )
    router = Router()
    # First: routes match in definition order, and the mount below takes every path.
    router.static("/static", static_root, cache_control="public, max-age=3600")
    router.mount("/", get_wsgi_application())
    return router


app = make_app()
