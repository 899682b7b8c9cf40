"""Routes and the index that picks the candidate routes for a path.

Routes (the library) parses each template; :mod:`httpkit.web.templates` builds the
regular expression and the URLs from the parts.  Routes does not choose between routes
here: its ``Mapper.match`` tries every route in turn and, since 2.5, prefers longer
static prefixes over definition order.  Here the rule is definition order, always, and
the candidates come from a trie keyed by the template's leading static path segments,
so the work per request depends on the path's depth, not on how many routes exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from httpkit.web.handler import Endpoint
from httpkit.web.templates import Template, check_parameter_name
from httpkit.wsgitypes import WSGIApp

__all__ = ["Route", "RouteIndex"]


class Route:
    """One entry of the route table: a handler route, a mounted app or static files."""

    __slots__ = (
        "app",
        "defaults",
        "endpoint",
        "kind",
        "name",
        "raw_prefix",
        "regex",
        "segments",
        "template",
        "url_template",
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
        self.defaults = {
            check_parameter_name(key, "as a default"): value
            for key, value in (defaults or {}).items()
        }
        if endpoint is not None:
            self.url_template = Template(template, requirements)
            self.regex = self.url_template.pattern
            self.segments = _static_segments(self.url_template.parts)
            self.raw_prefix = ""
        else:
            prefix = template.rstrip("/")
            # The mounted app is the whole subtree: the prefix itself or prefix/anything.
            self.regex = re.compile(re.escape(prefix) + r"(?:/.*)?\Z", re.DOTALL)
            self.url_template = Template(prefix + "/{path:.*}", None)
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
        """The path for ``params`` (relative to the router), or ValueError.

        Parameters the template does not use, and that are not defaults, become the
        query string; a default the template does not use must keep its value.
        """
        variables = self.url_template.variables
        for key, value in params.items():
            fixed = self.defaults.get(key, value)
            # Compared as text, the form the value takes in a URL (1 and "1" agree).
            if key not in variables and str(value) != str(fixed):
                raise ValueError(
                    f"cannot build route {self.name!r} ({self.template}): {key!r} is fixed "
                    f"to {self.defaults[key]!r} by the route's defaults, not {value!r}"
                )
        arguments = {**self.defaults, **params}
        path = arguments.get("path")
        if self.endpoint is None and isinstance(path, str):
            # A mount's or static route's template is prefix/{path}: "/style.css" and
            # "style.css" name the same file, never prefix//style.css.
            arguments["path"] = path.lstrip("/")
        extras = {
            key: value
            for key, value in params.items()
            if key not in variables and key not in self.defaults
        }
        try:
            return self.url_template.build(arguments, extras)
        except ValueError as error:
            raise ValueError(
                f"cannot build route {self.name!r} ({self.template}): {error}"
            ) from None

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
