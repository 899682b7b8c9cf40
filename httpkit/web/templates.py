"""URI templates: Routes parses them; httpkit builds the regex and the URLs from the parts.

Routes' ``Route`` passes defaults as keyword arguments beside its own (``name``,
``routepath``, ``conditions``, ``requirements``, ``_minimize``...), ``makeregexp``
matches a ``{controller}`` parameter against a list of controller names, and
``generate`` drops a ``method`` argument and builds paths with ``%``-formatting (a
literal ``%`` in a template breaks it).  So only the parsed template -- its literal
pieces, its parameters and their requirements -- is taken from Routes; any identifier
is then a parameter name like any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import routes.route

__all__ = ["Template"]

# The handler is called as handler(request, **params) or method(self, request, **params).
_CALL_NAMES = frozenset({"request", "self"})
# Characters a literal piece of a template keeps as they are (RFC 3986 pchar and '/').
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class Template:
    """A parsed template: its regex (named groups) and the URL built from parameters."""

    __slots__ = ("parts", "pattern", "requirements", "template", "variables")

    def __init__(self, template: str, requirements: Mapping[str, str] | None) -> None:
        if not isinstance(template, str) or not template.startswith("/"):
            raise ValueError(f"a route template must be a str starting with '/', not {template!r}")
        try:
            # Nothing but the template and requirements: see the module docstring.
            parsed = routes.route.Route(
                None, template, _explicit=True, requirements=dict(requirements or {})
            )
            self.requirements = {
                key: re.compile(value) for key, value in parsed.reqs.items() if value
            }
        except re.error as error:
            raise ValueError(f"bad requirement in route template {template!r}: {error}") from None
        self.template = template
        self.parts: list[str | dict[str, str]] = parsed.routelist
        self.variables = frozenset(part["name"] for part in self.parts if isinstance(part, dict))
        for variable in self.variables:
            check_parameter_name(variable, f"in template {template!r}")
        try:
            self.pattern = re.compile(self._regex())
        except re.error as error:
            raise ValueError(f"bad requirement in route template {template!r}: {error}") from None

    def _regex(self) -> str:
        pieces = []
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(re.escape(part))
                continue
            name, kind = part["name"], part["type"]
            given = self.requirements.get(name)
            if kind == ".":
                # '{.format}': an optional extension, preferably absent.
                pattern = given.pattern if given else "[^/.]+?"
                pieces.append(rf"(?:\.(?P<{name}>{pattern}))??")
                continue
            default_pattern = "[^/]+?" if kind == ":" else ".+?"
            pieces.append(f"(?P<{name}>{given.pattern if given else default_pattern})")
        # \Z, not $: '$' also matches before a final newline (a %0A in the path).
        return "".join(pieces) + r"\Z"

    def build(self, arguments: Mapping[str, Any], extras: Mapping[str, Any]) -> str:
        """The path with ``arguments`` filled in and ``extras`` as its query string."""
        pieces = []
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(quote(part, safe=_PATH_SAFE))
                continue
            name = part["name"]
            value = arguments.get(name)
            if value is None and part["type"] != ".":
                raise ValueError(f"the parameter {name!r} is missing")
            text = "" if value is None else str(value)
            requirement = self.requirements.get(name)
            if text and requirement is not None and not requirement.fullmatch(text):
                raise ValueError(
                    f"{text!r} does not match the requirement of {name!r} ({requirement.pattern})"
                )
            if part["type"] == "." and text:
                pieces.append(".")
            pieces.append(quote(text, safe="/"))
        path = "".join(pieces)
        query = _query(extras)
        return f"{path}?{query}" if query else path


def check_parameter_name(key: object, where: str) -> str:
    """A parameter name must be an identifier the handler call does not use itself."""
    if not isinstance(key, str) or not key.isidentifier():
        raise ValueError(f"{key!r} {where} cannot be a route parameter: use an identifier")
    if key in _CALL_NAMES:
        # handler(request, **params) would get two values for it: a 500 on every request.
        raise ValueError(
            f"{key!r} cannot be a route parameter ({where}): the handler is called "
            f"with the request as 'request' (and 'self' for a Handler method)"
        )
    return key


def _query(extras: Mapping[str, Any]) -> str:
    fields: list[tuple[str, str]] = []
    for key, value in extras.items():
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else (value,)
        fields.extend((key, str(item)) for item in values)
    return urlencode(fields)
