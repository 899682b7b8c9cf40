"""The classic server recipes, written the httpkit way.

Run it from a checkout::

    httpkit serve examples.cookbook:app

* ``GET /hello`` and ``/hello/{name}`` -- a hello handler;
* ``POST /echo`` -- streams the request body back as it arrives, with its media type;
* ``/site/`` -- a static site with an index file (``examples/cookbook/site``);
* anything else -- a custom 404 page; a handler that fails gets a custom 500 page
  (``/boom`` shows it).
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from typing import Any

import webob
import webob.exc

from httpkit.web import Request, Router

__all__ = ["app", "make_app"]

SITE_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "site")
ECHO_CHUNK = 64 * 1024  # bytes read (and sent back) at a time
MAX_NAME_LENGTH = 100


def hello(request: Request, name: str = "world") -> str:
    """A plain-text greeting (a str return value becomes text/plain)."""
    if len(name) > MAX_NAME_LENGTH:
        raise webob.exc.HTTPBadRequest(f"a name has at most {MAX_NAME_LENGTH} characters")
    return f"Hello, {name}!\n"


def echo(request: Request) -> webob.Response:
    """The request body, sent back piece by piece as it is read: never held whole."""
    response = webob.Response(content_type=request.content_type or "application/octet-stream")
    if request.content_length is not None:
        response.content_length = request.content_length
    response.app_iter = _chunks(request.body_file)
    return response


def _chunks(stream: Any) -> Iterator[bytes]:
    # Reads stop at the end of the body: the stream is limited to Content-Length, or
    # ends with the last chunk of a chunked body (wsgi.input_terminated).
    # read1 gives what has arrived, so the first bytes go back before the last come in.
    read = getattr(stream, "read1", stream.read)
    while True:
        chunk = read(ECHO_CHUNK)
        if not chunk:
            return
        yield chunk


def boom(request: Request) -> str:
    """A handler with a bug, to show the custom 500 page."""
    raise RuntimeError("this handler always fails")


def not_found_page(request: Request, error: BaseException) -> webob.Response:
    path = html.escape(request.path)
    message = f"There is no page at <code>{path}</code>."
    return _page("404 Not Found", "Nothing here", message, request.url_for("site", path=""))


def server_error_page(request: Request, error: BaseException) -> webob.Response:
    # Say nothing about the cause: the traceback is in the server's log.
    home = request.url_for("site", path="")
    return _page("500 Internal Server Error", "Sorry", "Something went wrong on our side.", home)


def _page(status: str, title: str, message: str, home: str) -> webob.Response:
    body = (
        f"<!DOCTYPE html>\n<html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{message}</p>"
        f'<p><a href="{html.escape(home)}">Home</a></p></body></html>\n'
    )
    return webob.Response(
        status=status, body=body.encode(), content_type="text/html", charset="UTF-8"
    )


def make_app() -> Router:
    """The cookbook application (a fresh Router each call)."""
    router = Router()
    router.add("/hello", hello, name="hello")
    router.add("/hello/{name}", hello, name="hello_name")
    router.add("/echo", echo, methods=["POST", "PUT"])
    router.add("/boom", boom)
    router.static("/site", SITE_DIRECTORY, name="site", cache_control="public, max-age=60")
    router.error_handler(404)(not_found_page)
    router.error_handler(500)(server_error_page)
    return router


app = make_app()
