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

import inspect
import mimetypes
import os
from collections.abc import Callable, Mapping
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


# Environment options that are httpkit's choices, and what sets each instead.
_OWN_OPTIONS = {
    "loader": "the directory and strings= arguments",
    "autoescape": "httpkit (on for markup, off for .txt, .json, .js... by the name)",
    "undefined": "strict=",
    "auto_reload": "auto_reload=",
    "enable_async": "httpkit (pages render with generate(), as they are sent)",
}
# Filters that escape or mark markup safe: replacing one would undo autoescaping.
_ESCAPING_FILTERS = frozenset({"e", "escape", "forceescape", "safe"})


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
    :param filters: filters by name, e.g. ``{"money": format_money}`` (Jinja's own
        escaping filters, ``e``, ``escape``, ``forceescape`` and ``safe``, stay).
    :param tests: tests by name, for ``{% if x is prime %}``.
    :param environment_options: other options of ``jinja2.Environment``, e.g.
        ``{"trim_blocks": True, "lstrip_blocks": True, "extensions": [...]}``.  Those
        httpkit sets itself -- ``loader``, ``autoescape``, ``undefined``,
        ``auto_reload``, ``enable_async`` -- are refused with a ValueError saying what
        to use instead, as is a name ``Environment`` does not take.
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
        filters: Mapping[str, Callable[..., Any]] | None = None,
        tests: Mapping[str, Callable[..., Any]] | None = None,
        environment_options: Mapping[str, Any] | None = None,
    ) -> None:
        jinja = _jinja()
        options = _checked_options(jinja, environment_options or {})
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
            **options,
        )
        self.environment.globals.update(globals or {})
        self.environment.filters.update(_checked_callables(filters, "filter"))
        self.environment.tests.update(_checked_callables(tests, "test"))
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


def _checked_options(jinja: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(options, Mapping):
        raise TypeError(f"environment_options must be a mapping, not {options!r}")
    known = inspect.signature(jinja.Environment).parameters
    for name in options:
        if name in _OWN_OPTIONS:
            raise ValueError(
                f"environment_options may not set {name!r}: it is set by {_OWN_OPTIONS[name]}"
            )
        if name not in known:
            raise ValueError(f"{name!r} is not an option of jinja2.Environment")
    return dict(options)


def _checked_callables(given: Mapping[str, Any] | None, kind: str) -> dict[str, Any]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise TypeError(f"{kind}s must be a mapping of names to functions, not {given!r}")
    for name, function in given.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{name!r} cannot name a Jinja {kind}: use an identifier")
        if not callable(function):
            raise TypeError(f"the {kind} {name!r} must be callable, not {function!r}")
        if kind == "filter" and name in _ESCAPING_FILTERS:
            raise ValueError(
                f"the filter {name!r} is Jinja's own escaping, which autoescaping relies on; "
                "give yours another name"
            )
    return dict(given)


def content_type_of(name: str) -> str:
    """The Content-Type of a template's output, by its name: ``page.html`` (or a name
    without a known extension) is HTML, ``note.txt`` plain text, ``feed.atom`` Atom..."""
    extension = os.path.splitext(name)[1].lower()
    kind = _KINDS.get(extension) or mimetypes.guess_type(name, strict=False)[0]
    if kind is None or kind == "text/html":
        return HTML_TYPE
    return f"{kind}; charset=utf-8"
