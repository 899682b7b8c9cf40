"""Handlers and the endpoints built from them when a route is added.

A route's handler is either a :class:`Handler` subclass (one instance per request, one
method per HTTP method), ``functools.partial`` of one (to give the instances what the
application shares, such as a store), or a plain function.  Everything that can be decided when the
route is added -- which methods are allowed, the ``Allow`` header, whether validators
exist, the bound responder per method -- is decided here, once, so the per-request path
only looks things up.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from httpkit.web.caching import CacheRules, cache_rules

__all__ = ["GET_OR_HEAD", "STANDARD_METHODS", "Endpoint", "Handler"]

# The methods a handler class is searched for, in the order the Allow header lists them.
STANDARD_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# The methods that read a representation: 304s, slash redirects and static files are
# for these alone (RFC 9110 sections 13.2.2 and 9.3.2).
GET_OR_HEAD = frozenset({"GET", "HEAD"})

# RFC 9110 section 9.1: a method name is a token (case-sensitive; we require upper case
# so that ``methods=["get"]`` is caught as a mistake instead of never matching).
_METHOD_NAME = re.compile(r"[A-Z][A-Z0-9!#$%&'*+.^_`|~-]*\Z")

Responder = Callable[..., Any]


class Handler:
    """Base class of method-based handlers.

    The router creates one instance per request and calls the method named after the
    HTTP method in lower case, with the request and the route parameters as keyword
    arguments::

        class Entry(Handler):
            def get(self, request, id): ...
            def put(self, request, id): ...

    The instance is made with no arguments, unless the route was added with
    ``functools.partial`` of the class: ``router.add("/e/{id}", partial(Entry,
    store=store), ...)`` makes each one with ``Entry(store=store)``, for a class whose
    ``__init__`` takes the application state it needs.

    Two optional *validators* enable conditional requests (RFC 9110 section 13):
    ``etag(self, request, **params)`` returns the current entity tag (a string, quoted
    or not; ``None`` when the resource does not exist) and
    ``last_modified(self, request, **params)`` returns a :class:`datetime.datetime`
    or a POSIX timestamp (or ``None``).  Both run on the same instance as the method.

    What a cache must know goes beside them, since the router answers a conditional GET
    with a 304 before the method runs (RFC 9110 section 15.4.5): ``vary`` (a field
    name or a list of them, e.g. ``("Accept",)`` for a content-negotiated resource)
    and ``cache_control`` (a ``Cache-Control`` value), the same for every request, and
    ``cache_headers(self, request, **params)``, returning a mapping of
    ``Cache-Control``, ``Content-Location``, ``Expires`` and ``Vary`` (or ``None``)
    for this request.  They go on the 304 and on the method's successful GET and HEAD
    responses alike (see :mod:`httpkit.web.caching`).
    """

    vary: ClassVar[str | tuple[str, ...] | list[str] | None] = None
    cache_control: ClassVar[str | None] = None


class Endpoint:
    """What the router calls for one route: responders by method, validators, Allow."""

    __slots__ = (
        "allow_header",
        "allowed",
        "cache",
        "etag",
        "factory",
        "handler",
        "handler_class",
        "has_validators",
        "last_modified",
        "plain",
        "responders",
    )

    def __init__(self, handler: object, methods: Iterable[str] | None) -> None:
        self.handler = handler
        # What makes the instance for a request: the class, or a partial of it.
        self.factory: Callable[[], Handler] | None = None
        self.handler_class = _handler_class(handler)
        self.etag: Callable[..., Any] | None = None
        self.last_modified: Callable[..., Any] | None = None
        self.cache: CacheRules | None = None
        if self.handler_class is not None:
            cls = self.handler_class
            self.factory = _checked_factory(handler, cls)
            self.responders = _class_responders(cls, methods)
            self.etag = getattr(cls, "etag", None)
            self.last_modified = getattr(cls, "last_modified", None)
            for validator in (self.etag, self.last_modified):
                if validator is not None:
                    _refuse_async(validator, f"{cls.__qualname__}.{validator.__name__}")
            self.cache = cache_rules(cls)
            if self.cache is not None and self.cache.hook is not None:
                _refuse_async(self.cache.hook, f"{cls.__qualname__}.cache_headers")
        elif callable(handler):
            self.responders = _function_responders(handler, methods)
        else:
            raise TypeError(f"a handler must be a Handler subclass or a callable, not {handler!r}")
        self.has_validators = self.etag is not None or self.last_modified is not None
        # Nothing to evaluate or add: the router calls the method and sends its answer.
        self.plain = not self.has_validators and self.cache is None
        # HEAD is GET without a body (RFC 9110 section 9.3.2); the body is dropped later.
        if "GET" in self.responders and "HEAD" not in self.responders:
            self.responders["HEAD"] = self.responders["GET"]
        self.allowed = frozenset(self.responders) | {"OPTIONS"}
        self.allow_header = format_allow(self.allowed)


def _handler_class(handler: object) -> type[Handler] | None:
    """The Handler subclass behind ``handler`` (itself or a partial's), else None."""
    target = handler.func if isinstance(handler, functools.partial) else handler
    if not isinstance(target, type):
        return None
    if not issubclass(target, Handler):
        raise TypeError(
            f"{target.__qualname__} is a class but not a subclass of "
            "httpkit.Handler; subclass it, or pass a function"
        )
    return target


def _checked_factory(factory: Any, cls: type[Handler]) -> Callable[[], Handler]:
    """``factory`` after checking, once, that it makes an instance with no arguments;
    otherwise every request would fail with a 500."""
    try:
        inspect.signature(factory).bind()
    except ValueError:  # a partial whose arguments __init__ does not take
        raise TypeError(
            f"{factory!r} gives {cls.__qualname__}() arguments it does not take"
        ) from None
    except TypeError as error:
        raise TypeError(
            f"{cls.__qualname__}() cannot be called without arguments ({error}); "
            f"give them with functools.partial({cls.__qualname__}, ...)"
        ) from None
    made: Callable[[], Handler] = factory
    return made


def format_allow(methods: Iterable[str]) -> str:
    """The Allow header value: standard methods in their usual order, then the rest."""
    methods = set(methods)
    ordered = [m for m in STANDARD_METHODS if m in methods]
    ordered += sorted(methods.difference(STANDARD_METHODS))
    return ", ".join(ordered)


def validate_methods(methods: Iterable[str]) -> tuple[str, ...]:
    """Check a ``methods=`` argument: a non-empty collection of upper-case tokens."""
    if isinstance(methods, str):
        raise TypeError(f"methods must be a list of method names, not the string {methods!r}")
    names = tuple(dict.fromkeys(methods))
    if not names:
        raise ValueError("methods must name at least one HTTP method")
    for name in names:
        if not isinstance(name, str) or not _METHOD_NAME.match(name):
            raise ValueError(f"{name!r} is not an upper-case HTTP method name")
    return names


def _class_responders(cls: type[Handler], methods: Iterable[str] | None) -> dict[str, Responder]:
    if methods is None:
        names = tuple(m for m in STANDARD_METHODS if callable(getattr(cls, m.lower(), None)))
        if not names:
            raise ValueError(f"{cls.__qualname__} defines none of {', '.join(STANDARD_METHODS)}")
    else:
        names = validate_methods(methods)
        missing = [m for m in names if not callable(getattr(cls, m.lower(), None))]
        if missing:
            raise ValueError(f"{cls.__qualname__} has no method for {', '.join(missing)}")
    # Plain functions taken from the class: the router calls them with a fresh instance.
    responders = {name: getattr(cls, name.lower()) for name in names}
    for name, responder in responders.items():
        _refuse_async(responder, f"{cls.__qualname__}.{name.lower()}")
    return responders


def _function_responders(
    function: Callable[..., Any], methods: Iterable[str] | None
) -> dict[str, Responder]:
    names = ("GET",) if methods is None else validate_methods(methods)
    _refuse_async(function, _describe(function))
    return dict.fromkeys(names, function)


def _refuse_async(responder: Callable[..., Any], what: str) -> None:
    """Refuse a coroutine (or async generator) function when the route is added: the
    router calls handlers as plain WSGI code, where the coroutine would never run and
    every request would fail."""
    # An object whose __call__ is async is as much an async handler as an async def.
    call: object = responder if inspect.isroutine(responder) else type(responder).__call__
    for candidate in (responder, call):
        if inspect.iscoroutinefunction(candidate) or inspect.isasyncgenfunction(candidate):
            raise TypeError(
                f"{what} is an async def handler, but the router runs handlers as plain "
                "WSGI code, where its coroutine would never run; define it with def"
            )


def _describe(function: Callable[..., Any]) -> str:
    target = function.func if isinstance(function, functools.partial) else function
    if not inspect.isroutine(target):  # a callable object: its class's __call__
        return f"{type(target).__qualname__}.__call__"
    return str(getattr(target, "__qualname__", repr(target)))
