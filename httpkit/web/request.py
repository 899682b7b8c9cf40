"""The request object handlers receive: a ``webob.Request`` that knows its route."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import webob
import webob.exc

if TYPE_CHECKING:
    from httpkit.web.router import Router
    from httpkit.web.routing import Route

__all__ = ["LimitedInput", "Request"]


class Request(webob.Request):  # type: ignore[misc]
    """A :class:`webob.Request` with the matched route and reverse routing.

    ``route``, ``route_name`` and ``route_params`` describe the match (the params are also in
    ``request.urlvars``, WebOb's view of ``wsgiorg.routing_args``).
    """

    # Declared on the class so that WebOb stores them as plain attributes rather than
    # in the environ's ad-hoc dictionary.
    router: Router | None = None
    route: Route | None = None
    route_params: Mapping[str, Any] = {}

    @property
    def route_name(self) -> str | None:
        """The name of the matched route (None if it has none)."""
        return None if self.route is None else self.route.name

    def url_for(self, name: str, /, *, _qualified: bool = False, **params: Any) -> str:
        """The URL of the route called ``name``, with ``params`` filled in.

        The path starts with this request's ``SCRIPT_NAME``, so links stay right when
        the application is mounted under a prefix.  Parameters that the template does
        not use become the query string.  ``_qualified=True`` adds scheme and host.
        Raises :class:`LookupError` for an unknown name and :class:`ValueError` when
        the parameters do not fit the template.
        """
        if self.router is None:
            raise LookupError("this request was not dispatched by a Router")
        path = self.router.url_path(name, params)
        script_name = quote(self.environ.get("SCRIPT_NAME", "").encode("latin-1"), safe="/")
        url = script_name + path
        return self.host_url + url if _qualified else url

    @property
    def json(self) -> Any:
        """The body parsed as JSON; malformed JSON raises ``400 Bad Request``."""
        try:
            return self.json_body
        except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
            raise webob.exc.HTTPBadRequest(
                f"The request body is not valid JSON: {error}"
            ) from None


class LimitedInput:
    """A ``wsgi.input`` that refuses to give more than ``limit`` bytes: 413 instead.

    Used when the body's length is not announced (chunked), so the limit is enforced as
    the handler reads rather than trusted from a header.
    """

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream = stream
        self._remaining = limit

    def read(self, size: int = -1) -> bytes:
        want = self._remaining + 1 if size is None or size < 0 else min(size, self._remaining + 1)
        data: bytes = self._stream.read(want) if want else b""
        return self._account(data)

    def readline(self, size: int = -1) -> bytes:
        want = self._remaining + 1 if size is None or size < 0 else min(size, self._remaining + 1)
        data: bytes = self._stream.readline(want) if want else b""
        return self._account(data)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return self.read().splitlines(keepends=True)

    def __iter__(self) -> LimitedInput:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _account(self, data: bytes) -> bytes:
        self._remaining -= len(data)
        if self._remaining < 0:
            raise webob.exc.HTTPRequestEntityTooLarge("The request body is too large.")
        return data
