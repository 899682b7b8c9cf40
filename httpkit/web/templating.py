"""Jinja2 templates for the router (the optional extra ``httpkit[templates]``).

:class:`Templates` loads templates from a directory, from inline strings, or both, with
autoescaping on for HTML, XML and any name that does not say it is text, JSON, a
script or a style sheet.  Rendering
gives an :class:`~httpkit.web.html.HTML` over the template's ``generate()``: the page
is made in pieces as it is sent, and a page smaller than the read-ahead limit still
goes out whole with a ``Content-Length``.  Every template sees ``request`` and
``url_for`` (the request's reverse routing).

Jinja2 is imported when a :class:`Templates` is made, so the router works without it;
asking for templates without it raises an ImportError that says what to install.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from httpkit.web.html import HTML, HTML_TYPE, WHOLE_PAGE_LIMIT

if TYPE_CHECKING:
    import jinja2

    from httpkit.web.request import Request

__all__ = ["Templates"]

INSTALL_HINT = "templates need Jinja2: pip install 'httpkit[templates]'"
# Escaping is on unless a name says the template is not markup (HTML escapes would
# corrupt JSON, scripts and style sheets).
_NOT_MARKUP = ("txt", "text", "csv", "json", "js", "css")
# The usual kinds of template, whatever the machine's mime.types says.
_KINDS = {
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".csv": "text/csv",
    ".css": "text/css",
    ".js": "text/javascript",
    ".json": "application/json",
}


def _jinja() -> Any:
    try:
        import jinja2  # noqa: PLC0415 (the optional extra: imported when asked for)
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return jinja2


class Templates:
    """Jinja2 templates, rendered into :class:`HTML` responses.

    :param directory: a directory of template files (``{% extends %}`` and
        ``{% include %}`` find each other by their path below it).
    :param strings: inline templates by name, e.g. ``{"page.html": "<p>{{ x }}</p>"}``;
        they win over files of the same name.
    :param globals: names every template sees (besides ``request`` and ``url_for``).
    :param whole_limit: a page up to this many bytes is sent whole with a
        ``Content-Length``; a longer one streams (see :class:`HTML`).
    :param auto_reload: check the files for changes on every render (Jinja's default).
    :param strict: a name a template uses but its context lacks is an error (Jinja's
        ``StrictUndefined``); ``False`` renders it empty, as Jinja does by default.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        strings: Mapping[str, str] | None = None,
        globals: Mapping[str, Any] | None = None,
        whole_limit: int = WHOLE_PAGE_LIMIT,
        auto_reload: bool = True,
        strict: bool = True,
    ) -> None:
        jinja = _jinja()
        if directory is None and not strings:
            raise ValueError("Templates needs a directory, inline strings, or both")
        loaders: list[jinja2.BaseLoader] = []
        if strings:
            loaders.append(jinja.DictLoader(dict(strings)))
        if directory is not None:
            if not os.path.isdir(directory):
                raise ValueError(f"the template directory {os.fspath(directory)!r} does not exist")
            loaders.append(jinja.FileSystemLoader(directory))
        self.environment: jinja2.Environment = jinja.Environment(
            loader=loaders[0] if len(loaders) == 1 else jinja.ChoiceLoader(loaders),
            autoescape=jinja.select_autoescape(
                disabled_extensions=_NOT_MARKUP, default_for_string=True, default=True
            ),
            auto_reload=auto_reload,
            # A misspelt name is an error, not "" (unless the user asks for Jinja's way).
            undefined=jinja.StrictUndefined if strict else jinja.Undefined,
        )
        self.environment.globals.update(globals or {})
        self.whole_limit = whole_limit

    def render(
        self,
        request: Request,
        name: str,
        /,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTML:
        """The template ``name`` with ``context``, as a response a handler returns; its
        Content-Type follows the name's extension (HTML unless it says otherwise).

        Raises ``jinja2.TemplateNotFound`` for an unknown name (a 500, logged).
        """
        template = self.environment.get_template(name)
        return self._html(
            template, request, context, status=status, headers=headers, kind=content_type_of(name)
        )

    def render_string(
        self,
        request: Request,
        source: str,
        /,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTML:
        """A one-off template given as a string (compiled on every call)."""
        template = self.environment.from_string(source)
        return self._html(
            template, request, context, status=status, headers=headers, kind=HTML_TYPE
        )

    def _html(
        self,
        template: jinja2.Template,
        request: Request,
        context: dict[str, Any],
        *,
        status: int,
        headers: Mapping[str, str] | None,
        kind: str,
    ) -> HTML:
        context.setdefault("request", request)
        context.setdefault("url_for", request.url_for)
        pieces = template.generate(context)
        return HTML(
            pieces,
            status=status,
            headers=headers,
            whole_limit=self.whole_limit,
            content_type=kind,
        )


def content_type_of(name: str) -> str:
    """The Content-Type of a template's output, by its name: ``page.html`` (or a name
    without a known extension) is HTML, ``note.txt`` plain text, ``feed.atom`` Atom..."""
    extension = os.path.splitext(name)[1].lower()
    kind = _KINDS.get(extension) or mimetypes.guess_type(name, strict=False)[0]
    if kind is None or kind == "text/html":
        return HTML_TYPE
    return f"{kind}; charset=utf-8"
