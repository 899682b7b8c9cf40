"""Routes and the index that picks the candidate routes for a path.

Routes (the library) parses each template and builds its regular expression and its URL
generator; it does not choose between routes.  ``Mapper.match`` tries every route in
turn and, since 2.5, prefers longer static prefixes over definition order.  Here the
rule is definition order, always, and the candidates come from a trie keyed by the
template's leading static path segments, so the work per request depends on the path's
depth, not on how many routes exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import routes.route

from httpkit.web.handler import Endpoint

__all__ = ["Route", "RouteIndex"]

WSGIApp = Callable[..., Any]

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
# Keyword arguments that routes.route.Route reads itself and so cannot be defaults.
_RESERVED_DEFAULTS = frozenset({"conditions", "requirements"})


class Route:
    """One entry of the route table: a handler route, a mounted app or static files."""

    __slots__ = (
        "app",
        "defaults",
        "endpoint",
        "generator",
        "kind",
        "name",
        "raw_prefix",
        "regex",
        "segments",
        "template",
    )

    def __init__(
        self,
        template: str,
        *,
        name: str | None,
        endpoint: Endpoint | None = None,
        app: WSGIApp | None = None,
        kind: str = "handler",
        defaults: Mapping[str, Any] | None = None,
        requirements: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.name = name
        self.endpoint = endpoint
        self.app = app
        self.kind = kind
        self.defaults = dict(_check_defaults(defaults or {}))
        if endpoint is not None:
            self.generator = _routes_route(name, template, self.defaults, requirements)
            # Routes ends its patterns with '$', which also matches before a final
            # newline (a %0A in the path); \Z matches only at the very end.
            self.regex = re.compile(_anchored(self.generator.regexp))
            self.segments = _static_segments(self.generator.routelist)
            self.raw_prefix = ""
        else:
            prefix = template.rstrip("/")
            # The mounted app is the whole subtree: the prefix itself or prefix/anything.
            self.regex = re.compile(re.escape(prefix) + r"(?:/.*)?\Z", re.DOTALL)
            self.generator = _routes_route(name, prefix + "/{path:.*}", {"path": ""}, None)
            self.segments = prefix.split("/") if prefix else [""]
            # PATH_INFO is latin-1-decoded bytes; the prefix must be cut in that form.
            self.raw_prefix = prefix.encode("utf-8").decode("latin-1")

    @property
    def methods(self) -> frozenset[str] | None:
        """The methods this route answers; None for a mounted app (it decides)."""
        return None if self.endpoint is None else self.endpoint.allowed

    @property
    def handler_description(self) -> str:
        """What serves the route: a dotted name, or the directory of static files."""
        if self.kind == "static":
            return f"static files in {getattr(self.app, 'root', '?')}"
        endpoint = self.endpoint
        # A partial of a Handler subclass is described by its class.
        target = self.app if endpoint is None else endpoint.handler_class or endpoint.handler
        module = getattr(target, "__module__", None) or "?"
        name = getattr(target, "__qualname__", None) or type(target).__qualname__
        return f"{module}.{name}"

    def generate(self, params: Mapping[str, Any]) -> str:
        """The path for ``params`` (relative to the router), or ValueError."""
        arguments = {**self.defaults, **params}
        path = self.generator.generate(**arguments)
        if path is False:
            raise ValueError(
                f"cannot build route {self.name!r} ({self.template}) from {dict(params)!r}: "
                "a parameter is missing or does not match its requirement"
            )
        return str(path)

    def __repr__(self) -> str:
        return f"<Route {self.name or '-'} {self.template} -> {self.handler_description}>"


class _Node:
    __slots__ = ("candidates", "children")

    def __init__(self, candidates: list[Route]) -> None:
        self.children: dict[str, _Node] = {}
        # Every route whose static segments lead to this node or one of its ancestors,
        # in definition order: exactly the routes a path reaching this node can match.
        self.candidates = candidates


class RouteIndex:
    """A trie of leading static segments; each node lists its candidate routes."""

    def __init__(self) -> None:
        self._root = _Node([])

    def add(self, route: Route) -> None:
        node = self._root
        for segment in route.segments:
            child = node.children.get(segment)
            if child is None:
                child = _Node(list(node.candidates))
                node.children[segment] = child
            node = child
        # Routes are added in definition order, so appending keeps every list ordered.
        pending = [node]
        while pending:
            current = pending.pop()
            current.candidates.append(route)
            pending.extend(current.children.values())

    def candidates(self, path: str) -> list[Route]:
        """The routes that may match ``path`` (a decoded path starting with '/')."""
        node = self._root
        children = node.children
        for segment in path.split("/"):
            child = children.get(segment)
            if child is None:
                break
            node = child
            children = child.children
        return node.candidates


def _routes_route(
    name: str | None,
    template: str,
    defaults: Mapping[str, Any],
    requirements: Mapping[str, str] | None,
) -> Any:
    if not isinstance(template, str) or not template.startswith("/"):
        raise ValueError(f"a route template must be a str starting with '/', not {template!r}")
    try:
        # _explicit: no implicit controller/action defaults (those are Pylons-isms).
        route = routes.route.Route(
            name, template, _explicit=True, requirements=dict(requirements or {}), **defaults
        )
        route.makeregexp([])
    except re.error as error:
        raise ValueError(f"bad requirement in route template {template!r}: {error}") from None
    return route


def _anchored(pattern: str) -> str:
    return pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern + r"\Z"


def _static_segments(routelist: list[Any]) -> list[str]:
    """The path segments fixed by the template before its first variable.

    The list starts with "" (the text before the leading '/'), like ``path.split('/')``.
    A segment counts only when complete: in ``/entries/x{id}`` it is just "entries".
    """
    head = routelist[0] if routelist and isinstance(routelist[0], str) else ""
    pieces = head.split("/")
    if len(routelist) == 1 and isinstance(routelist[0], str):
        return pieces  # a fully static template: every segment is complete
    return pieces[:-1]


def _check_defaults(defaults: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    for key, value in defaults.items():
        if not isinstance(key, str) or not _IDENTIFIER.match(key) or key in _RESERVED_DEFAULTS:
            raise ValueError(f"{key!r} cannot be a route default: use a plain identifier")
        yield key, value
