"""Error responses: ``webob.exc`` exceptions rendered as HTML, JSON or text by Accept.

Anything that is not an HTTP exception is the application's bug: it is logged with its
traceback and the client gets a bare 500 -- the traceback goes to the client only with
``Router(debug=True)``.
"""

from __future__ import annotations

import html
import json
import logging
import traceback
from typing import Any

import webob
import webob.exc

__all__ = ["error_reply", "internal_error", "log_unexpected", "logger"]

logger = logging.getLogger("httpkit.web")

_OFFERS = ("text/html", "application/json", "text/plain")
# Headers of the exception that describe its generated body are replaced by ours.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


def error_reply(exc: webob.exc.HTTPException, request: webob.Request) -> webob.Response:
    """A response for an HTTP exception, keeping its headers (Allow, Location...)."""
    response: webob.Response = exc
    if not isinstance(exc, webob.exc.WSGIHTTPException):
        return response
    if exc.has_body or exc.empty_body:
        # The application gave its own body, or the status has none (304, 204).
        return response
    detail = exc.detail or exc.explanation or ""
    return _negotiated(exc.status, exc.title, detail, exc.headerlist, request)


def log_unexpected(error: BaseException, request: webob.Request) -> None:
    """Log an application bug with its traceback on the ``httpkit.web`` logger."""
    logger.error(
        "%s %s raised %s",
        request.method,
        request.path_qs,
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__),
    )


def internal_error(error: BaseException, request: webob.Request, debug: bool) -> webob.Response:
    """A 500 for an unexpected exception; logged here, shown only in debug mode."""
    log_unexpected(error, request)
    if debug:
        detail = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    else:
        detail = "The server could not complete the request."
    return _negotiated("500 Internal Server Error", "Internal Server Error", detail, [], request)


def _negotiated(
    status: str, title: str, detail: str, headers: list[tuple[str, str]], request: webob.Request
) -> webob.Response:
    media_type = _best_offer(request)
    code = int(status.split(" ", 1)[0])
    if media_type == "text/html":
        body = (
            f"<!DOCTYPE html>\n<html><head><title>{html.escape(status)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><pre>{html.escape(detail)}</pre></body></html>\n"
        )
        content_type = "text/html; charset=UTF-8"
    elif media_type == "application/json":
        body = json.dumps({"status": code, "title": title, "detail": detail})
        content_type = "application/json"
    else:
        body = f"{status}\n\n{detail}\n"
        content_type = "text/plain; charset=UTF-8"
    kept = [(k, v) for k, v in headers if k.lower() not in _BODY_HEADERS]
    encoded = body.encode()
    kept += [("Content-Type", content_type), ("Content-Length", str(len(encoded)))]
    response = webob.Response(status=status, headerlist=kept)
    response.app_iter = [encoded]
    return response


def _best_offer(request: webob.Request) -> str:
    accept: Any = request.accept
    offers = accept.acceptable_offers(_OFFERS)
    if not offers:
        return "text/plain"  # nothing acceptable: still say something readable
    best_quality = offers[0][1]
    tied = [str(media_type) for media_type, quality in offers if quality == best_quality]
    # Among equally acceptable types prefer one the client named itself: "*/*" (curl,
    # no header at all) gets plain text, a browser's "text/html,...,*/*" gets HTML.
    named = {str(entry[0]) for entry in getattr(accept, "parsed", None) or ()}
    for media_type in tied:
        if media_type in named:
            return media_type
    return "text/plain" if "text/plain" in tied else tied[0]
