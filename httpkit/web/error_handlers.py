"""The router's error handlers: by status code and by exception type, and which types
are *expected* (answered without a traceback in the log).

An error handler gets ``(request, error)`` and returns anything a handler may; a body
keeps the error's status and headers.  It may instead raise a ``webob.exc`` error,
which is then the answer.  Anything else it raises is a bug: a plain 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import webob
import webob.exc

from httpkit.web import error_pages
from httpkit.web.responses import Rendered, Reply, render

__all__ = ["ErrorHandlers", "ErrorKey"]

ErrorKey = int | type[BaseException]
ErrorHandler = Callable[[Any, BaseException], Any]
# Headers that describe WebOb's generated error body, not the error.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


class ErrorHandlers:
    """The error handlers of one router, and the answers they give."""

    __slots__ = ("_by_key", "_expected")

    def __init__(self) -> None:
        self._by_key: dict[ErrorKey, ErrorHandler] = {}
        self._expected: set[ErrorKey] = set()  # exception types logged without traceback

    def register(self, key: ErrorKey, function: ErrorHandler, *, expected: bool) -> None:
        """Use ``function`` for ``key``, replacing what was registered for it."""
        self._by_key[key] = function
        if expected:
            self._expected.add(key)
        else:
            self._expected.discard(key)

    def http_error(
        self, request: webob.Request, exc: webob.exc.HTTPException, *, debug: bool
    ) -> Any:
        """The answer to an HTTP error: its handler's, else the error page."""
        custom = self._by_key.get(exc.code) or self._for_type(exc)
        if custom is None:
            return error_pages.error_reply(exc, request)
        try:
            return _as_error(render(custom(request, exc)), exc)
        except webob.exc.HTTPException as answer:
            return error_pages.error_reply(answer, request)
        except Exception as error:
            return error_pages.internal_error(error, request, debug)

    def unexpected_error(self, request: webob.Request, error: Exception, *, debug: bool) -> Any:
        """The answer to any other exception: its type's handler's, the 500 handler's,
        or a plain 500; logged with its traceback unless its type is expected."""
        custom = self._for_type(error)
        if custom is None:
            custom = self._by_key.get(500)
            if custom is None:
                return error_pages.internal_error(error, request, debug)
        if self._is_expected(error):
            error_pages.log_expected(error, request)
        else:
            error_pages.log_unexpected(error, request)
        try:
            return _keep_status(render(custom(request, error)), "500 Internal Server Error")
        except webob.exc.HTTPException as answer:
            # The handler answers with an HTTP error (a 503 for a database that is down).
            return self.http_error(request, answer, debug=debug)
        except Exception as second:
            return error_pages.internal_error(second, request, debug)

    def _for_type(self, error: BaseException) -> ErrorHandler | None:
        if not self._by_key:
            return None
        for cls in type(error).__mro__:
            custom = self._by_key.get(cls)
            if custom is not None:
                return custom
        return None

    def _is_expected(self, error: BaseException) -> bool:
        # The nearest registered type decides, as it decides which handler runs.
        for cls in type(error).__mro__:
            if cls in self._by_key:
                return cls in self._expected
        return False


def _as_error(reply: Rendered, exc: webob.exc.HTTPException) -> Rendered:
    """A custom error handler's reply with the exception's status and headers."""
    reply = _keep_status(reply, exc.status)
    if isinstance(reply, Reply) and isinstance(exc, webob.exc.WSGIHTTPException):
        # A 405 must still say Allow (RFC 9110 section 15.5.6), a redirect its Location.
        present = {name.lower() for name, _ in reply.headers}
        reply.headers.extend(
            (name, value)
            for name, value in exc.headerlist
            if name.lower() not in present and name.lower() not in _BODY_HEADERS
        )
    return reply


def _keep_status(reply: Rendered, status: str) -> Rendered:
    # An error handler returning a plain body (a str, a dict...) answers with the error's
    # status, not 200; a webob.Response says its status itself.
    if isinstance(reply, Reply):
        reply.status = status
    return reply
