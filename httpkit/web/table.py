"""The route table as text, for ``httpkit routes MODULE:APP``."""

from __future__ import annotations

from httpkit.web.router import Router
from httpkit.web.routing import Route

__all__ = ["format_route_table"]

_HEADINGS = ("NAME", "METHODS", "TEMPLATE", "HANDLER")


def format_route_table(router: Router) -> str:
    """One line per route in precedence order: name, methods, template, handler.

    Mounted applications list ``*`` as their methods (they decide for themselves) and
    ``/prefix/...`` as their template.  A requirement given with ``requirements=`` is
    shown inline, as ``{id:\\d+}``, like one written in the template.
    """
    rows = [_HEADINGS]
    for route in router.routes:
        methods = route.methods
        if methods is None:
            method_text = "*" if route.kind == "mount" else "GET,HEAD,OPTIONS"
            template = route.template.rstrip("/") + "/..."
        else:
            method_text = route.endpoint.allow_header.replace(", ", ",") if route.endpoint else ""
            template = _with_requirements(route)
        rows.append((route.name or "-", method_text, template, route.handler_description))
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADINGS) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


def _with_requirements(route: Route) -> str:
    """The template with each separately given requirement written inline."""
    template = route.template
    for name, requirement in route.url_template.requirements.items():
        # An inline requirement is already in the text; a bare {name} got it from requirements=.
        template = template.replace("{" + name + "}", "{" + name + ":" + requirement.pattern + "}")
    return template
