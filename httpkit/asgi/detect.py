"""Telling an ASGI application from a WSGI one, without importing the ASGI edge."""

from __future__ import annotations

import inspect

__all__ = ["is_asgi_app"]


def is_asgi_app(app: object) -> bool:
    """Whether ``app`` looks like an ASGI 3 application: a coroutine function, or an
    object with an async ``__call__``, taking (scope, receive, send)."""
    call = app
    if not (inspect.isfunction(app) or inspect.ismethod(app)):
        call = getattr(app, "__call__", None)  # noqa: B004 (the method is inspected)
    if not inspect.iscoroutinefunction(call):
        return False
    try:
        parameters = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):
        return True  # no signature to read: trust the coroutine
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    return len(positional) == 3 or (variadic and len(positional) <= 3)
