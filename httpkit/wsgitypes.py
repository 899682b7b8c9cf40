"""The WSGI contract (PEP 3333) as types, declared once for every layer.

The server's WSGI edge, the router, the middleware in :mod:`httpkit.contrib`, the
runner and the test helpers all name an application, its ``environ`` and its
``start_response`` with these.  They agree with the types that typeshed gives Flask,
Django and friends, so those applications type-check where a :data:`WSGIApp` is
expected.  This module is on the ground floor: it imports nothing of httpkit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Protocol, TypeAlias

__all__ = ["Environ", "ExcInfo", "OptExcInfo", "StartResponse", "WSGIApp", "Write"]

#: The request's ``environ``: CGI-style keys (``str`` values) and ``wsgi.*`` objects.
Environ: TypeAlias = dict[str, Any]

#: What :func:`sys.exc_info` returns while an exception is handled.
ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]

#: What :func:`sys.exc_info` returns anywhere (all ``None`` when nothing is handled).
OptExcInfo: TypeAlias = ExcInfo | tuple[None, None, None]

#: The ``write(data)`` callable that ``start_response`` returns (the legacy
#: imperative way to send the body; returning an iterable is the better one).
Write: TypeAlias = Callable[[bytes], object]


class StartResponse(Protocol):
    """``start_response(status, headers, exc_info=None)``: begins the response.

    ``status`` is a status line such as ``"200 OK"``, ``headers`` a list of
    ``(name, value)`` pairs of ``str``; ``exc_info`` replaces a response that has not
    been sent yet (an error handler's second call).  Returns :data:`Write`.
    """

    def __call__(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: OptExcInfo | None = ...,
        /,
    ) -> Write: ...


#: A WSGI application: called with the environ and ``start_response``, returns the
#: body as an iterable of ``bytes`` (whose ``close()``, if any, the server calls).
WSGIApp: TypeAlias = Callable[[Environ, StartResponse], Iterable[bytes]]
