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

from httpkit.web.caching import merge_vary

__all__ = ["error_reply", "internal_error", "log_expected", "log_unexpected", "logger"]

logger = logging.getLogger("httpkit.web")

_OFFERS = ("text/html", "application/problem+json", "application/json", "text/plain")
_JSON_TYPES = ("application/problem+json", "application/json")
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
    extra: dict[str, Any] = {}
    location = exc.headers.get("Location") if 300 <= exc.code < 400 else None
    allow = exc.headers.get("Allow") if exc.code == 405 else None
    if location:
        # WebOb's own text for a redirect ends before naming the new location.
        detail = f"{_moved(exc.code)} {location}"
        if exc.detail:
            detail = f"{detail}\n{exc.detail}"
        extra["location"] = location
    else:
        detail = exc.detail or _explanation(exc, request, allow)
    if allow:
        extra["allow"] = [method.strip() for method in allow.split(",") if method.strip()]
    return _negotiated(exc.status, exc.title, detail, exc.headerlist, request, extra=extra)


def _moved(code: int) -> str:
    if code in (301, 308):
        return "The resource has moved permanently to"
    if code == 303:
        return "The answer to this request is at"
    return "The resource is for now at"


def _explanation(
    exc: webob.exc.WSGIHTTPException, request: webob.Request, allow: str | None
) -> str:
    # WebOb's explanations are per family (every 4xx "could not comply..."); these are
    # the statuses the router makes itself, said specifically.
    code = exc.code
    if code == 404:
        return f"No resource exists at {request.path}."
    if code == 405:
        allowed = f"; it allows {allow}" if allow else ""
        # RFC 9110 section 15.5.6: the Allow header lists what the resource supports.
        return f"The method {request.method} is not allowed for {request.path}{allowed}."
    if code == 403:
        return f"The server may not serve {request.path}."
    if code == 413:
        return "The request body is larger than the server accepts."
    if code == 412:
        return "The resource is not in the state the request's conditions expect."
    if code == 400:
        return "The request is malformed."
    return str(exc.explanation or exc.title)


def log_unexpected(error: BaseException, request: webob.Request) -> None:
    """Log an application bug with its traceback on the ``httpkit.web`` logger."""
    logger.error(
        "%s %s raised %s",
        request.method,
        request.path_qs,
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__),
    )


def log_expected(error: BaseException, request: webob.Request) -> None:
    """One line, no traceback, for an exception its error handler says is expected."""
    logger.debug(
        "%s %s raised %s (expected): %s",
        request.method,
        request.path_qs,
        type(error).__name__,
        error,
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
    status: str,
    title: str,
    detail: str,
    headers: list[tuple[str, str]],
    request: webob.Request,
    *,
    extra: dict[str, Any] | None = None,
) -> webob.Response:
    media_type = _best_offer(request)
    code = int(status.split(" ", 1)[0])
    if media_type == "text/html":
        body = _html_page(status, title, detail, (extra or {}).get("location"))
        content_type = "text/html; charset=UTF-8"
    elif media_type in _JSON_TYPES:
        # RFC 9457's members; "about:blank" says the status code is the whole story.
        problem = {"type": "about:blank", "title": title, "status": code, "detail": detail}
        body = json.dumps({**problem, **(extra or {})})
        content_type = media_type
    else:
        body = f"{status}\n\n{detail}\n"
        content_type = "text/plain; charset=UTF-8"
    kept = [(k, v) for k, v in headers if k.lower() not in _BODY_HEADERS]
    encoded = body.encode()
    kept += [("Content-Type", content_type), ("Content-Length", str(len(encoded)))]
    # RFC 9110 section 12.5.5: the body was chosen by Accept, so caches must know.
    merge_vary(kept, ("Accept",))
    return webob.Response(status=status, headerlist=kept, app_iter=[encoded])


def _html_page(status: str, title: str, detail: str, location: str | None) -> str:
    link = ""
    if location:
        escaped = html.escape(location)
        link = f'<p><a href="{escaped}">{escaped}</a></p>'
    return (
        f"<!DOCTYPE html>\n<html><head><title>{html.escape(status)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><pre>{html.escape(detail)}</pre>{link}"
        "</body></html>\n"
    )


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
