"""The router's checks around dispatch: path decoding, method override, mounting and
trailing-slash redirects (request bodies are in :mod:`httpkit.web.body`).  None of these
runs on the common fast path unless its feature is switched on or the request needs it."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

import webob.exc

from httpkit.wsgitypes import Environ, WSGIApp

if TYPE_CHECKING:
    from httpkit.web.request import Request
    from httpkit.web.routing import Route, RouteIndex

__all__ = ["decode_path", "mounted", "override_method", "redirect_slash"]

# Only unsafe methods can be tunnelled through POST: overriding to GET/HEAD would let a
# form post trigger a "safe" method, and PEP 3333 servers never see the real verb.
_OVERRIDABLE = frozenset({"PUT", "PATCH", "DELETE"})
# Characters left as they are in a redirect's Location (RFC 3986 pchar and '/').
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def decode_path(raw_path: str) -> str:
    """PATH_INFO is bytes decoded as latin-1 (PEP 3333); URLs mean UTF-8 (RFC 3986)."""
    try:
        return raw_path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise webob.exc.HTTPBadRequest("The request path is not valid UTF-8.") from None


def override_method(request: Request) -> str:
    """The method a POST tunnels with ``_method`` (query string or form field)."""
    environ = request.environ
    wanted = None
    query = environ.get("QUERY_STRING", "")
    if "_method" in query:
        wanted = dict(parse_qsl(query)).get("_method")
    if wanted is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        wanted = request.POST.get("_method")
    if wanted is None:
        return "POST"
    method = str(wanted).upper()
    if method not in _OVERRIDABLE:
        raise webob.exc.HTTPBadRequest(f"_method may only be PUT, PATCH or DELETE, not {wanted!r}")
    environ["httpkit.original_method"] = "POST"
    environ["REQUEST_METHOD"] = method
    return method


def mounted(route: Route, environ: Environ, raw_path: str) -> WSGIApp:
    """Move the mount prefix from PATH_INFO to SCRIPT_NAME; return the app to call."""
    prefix = route.raw_prefix
    if prefix:
        # A server's SCRIPT_NAME may end in '/' (PEP 3333 says it should not): no '//'.
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + prefix
    environ["PATH_INFO"] = raw_path[len(prefix) :]
    assert route.app is not None  # a mount's route always has its app
    return route.app


def redirect_slash(index: RouteIndex, path: str, raw_path: str, environ: Environ) -> None:
    """Raise a 308 to the other form of ``path`` if only that form has a route."""
    if path.endswith("/"):
        if path == "/":
            return
        other, raw_other = path[:-1], raw_path[:-1]
    else:
        other, raw_other = path + "/", raw_path + "/"
    if not any(route.regex.match(other) for route in index.candidates(other)):
        return
    location = quote(
        (environ.get("SCRIPT_NAME", "") + raw_other).encode("latin-1"), safe=_PATH_SAFE
    )
    query = environ.get("QUERY_STRING")
    if query:
        location += "?" + query
    # 308, not 301: RFC 9110 section 15.4.9 keeps the method and body unchanged.
    raise webob.exc.HTTPPermanentRedirect(location=location)
