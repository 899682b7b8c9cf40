"""The request object handlers receive: a ``webob.Request`` that knows its route."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

import webob
import webob.exc

if TYPE_CHECKING:
    from httpkit.web.html import HTML
    from httpkit.web.router import Router
    from httpkit.web.routing import Route

__all__ = ["Request"]


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
    #: The temporary files WebOb made to hold a copy of a large body (``request.body``,
    #: ``request.POST``); the router closes them once the response is closed.
    temporary_files: list[IO[bytes]] | None = None

    @property
    def route_name(self) -> str | None:
        """The name of the matched route (None if it has none)."""
        return None if self.route is None else self.route.name

    def url_for(self, name: str, /, *, _qualified: bool = False, **params: Any) -> str:
        """The URL of the route called ``name``, with ``params`` filled in.

        The path starts with this request's ``SCRIPT_NAME``, so links stay right when
        the application is mounted under a prefix (:meth:`Router.mount`, or a server's
        own script name); it never holds ``//``, whatever slashes ``SCRIPT_NAME`` and a
        mount's or static route's ``path`` parameter begin or end with.  Parameters
        that the template does not use become the query string.  ``_qualified=True``
        adds scheme and host.  Raises :class:`LookupError` for an unknown name and
        :class:`ValueError` when the parameters do not fit the template.
        """
        if self.router is None:
            raise LookupError("this request was not dispatched by a Router")
        path = self.router.url_path(name, params)
        script_name = quote(self.environ.get("SCRIPT_NAME", "").encode("latin-1"), safe="/")
        # PEP 3333: SCRIPT_NAME never ends in '/', but a server or mount may send one;
        # the route's path starts with '/', and '//' would name another resource.
        url = script_name.rstrip("/") + path
        return self.host_url + url if _qualified else url

    @property
    def last_event_id(self) -> str | None:
        """The ``Last-Event-ID`` a reconnecting ``EventSource`` sends: the ``id`` of the
        last server-sent event it received (None on a first connection)."""
        value: str | None = self.environ.get("HTTP_LAST_EVENT_ID")
        return value

    def render(self, name: str, /, **context: Any) -> HTML:
        """The router's template ``name`` with ``context`` (see
        :meth:`httpkit.web.Templates.render`; ``status=`` and ``headers=`` too)."""
        templates = None if self.router is None else self.router.templates
        if templates is None:
            raise LookupError(
                "this router has no templates: make it with Router(templates=...) "
                "(pip install 'httpkit[templates]')"
            )
        return templates.render(self, name, **context)

    @property
    def json(self) -> Any:
        """The body parsed as JSON; malformed JSON raises ``400 Bad Request``."""
        try:
            return self.json_body
        except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
            raise webob.exc.HTTPBadRequest(
                f"The request body is not valid JSON: {error}"
            ) from None

    def make_tempfile(self) -> IO[bytes]:
        """WebOb's temporary file for a large body, remembered so that it gets closed."""
        file: IO[bytes] = super().make_tempfile()
        if self.temporary_files is None:
            self.temporary_files = []
        self.temporary_files.append(file)
        return file

    def copy_body(self) -> None:
        """WebOb's copy of the body, closing its temporary file if the copy fails.

        The copy stops partway when the body is over ``max_body`` (413) or the client
        goes away; WebOb would leave the half-written file open.
        """
        try:
            super().copy_body()
        except BaseException:
            self.close_temporary_files()
            raise

    def close_temporary_files(self) -> None:
        """Close the files that hold a copy of the body."""
        files, self.temporary_files = self.temporary_files, None
        for file in files or ():
            file.close()
