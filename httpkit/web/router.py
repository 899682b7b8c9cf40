"""The Router: a WSGI application that picks a handler by URI template and method."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import webob
import webob.exc

from httpkit.errors import ProtocolError
from httpkit.web import error_pages, guards
from httpkit.web.body import ReleasingBody, guard_body, http_error
from httpkit.web.described import respond_described
from httpkit.web.error_handlers import ErrorHandlers, ErrorKey
from httpkit.web.handler import GET_OR_HEAD, Endpoint, format_allow
from httpkit.web.request import Request
from httpkit.web.responses import Rendered, Reply, render
from httpkit.web.routing import Route, RouteIndex
from httpkit.web.static import StaticFiles
from httpkit.web.templating import Templates
from httpkit.wsgitypes import Environ, StartResponse, WSGIApp

__all__ = ["Router"]

Hook = TypeVar("Hook", bound=Callable[..., Any])


class Router:
    """A WSGI application dispatching on URI template *and* HTTP method.

    :param debug: show tracebacks of unexpected exceptions to the client (never in
        production); without it a 500 says nothing about the cause.
    :param max_body: the largest request body accepted, in bytes (``None``: no
        limit).  A larger ``Content-Length`` gets ``413`` before the handler runs; a
        chunked body is counted as it is read, and the read past the limit raises 413.
    :param redirect_slashes: answer ``308`` to a GET/HEAD whose path only exists with
        (or without) a trailing slash.
    :param method_override: honour ``_method`` (query or form field) on POST requests
        to tunnel PUT, PATCH or DELETE.  Never honoured on other methods.
    :param templates: the :class:`Templates` that ``request.render()`` uses, or the
        path of their directory (needs the ``httpkit[templates]`` extra).
    """

    def __init__(
        self,
        *,
        debug: bool = False,
        max_body: int | None = None,
        redirect_slashes: bool = False,
        method_override: bool = False,
        templates: Templates | str | os.PathLike[str] | None = None,
    ) -> None:
        if max_body is not None and (not isinstance(max_body, int) or max_body < 0):
            raise ValueError(f"max_body must be a byte count >= 0 or None, not {max_body!r}")
        self.debug = debug
        self.max_body = max_body
        self.redirect_slashes = redirect_slashes
        self.method_override = method_override
        if templates is not None and not isinstance(templates, Templates):
            templates = Templates(templates)
        self.templates = templates
        self._routes: list[Route] = []
        self._named: dict[str, Route] = {}
        self._index = RouteIndex()
        self._before: list[Callable[[Request], Any]] = []
        self._after: list[Callable[[Request, webob.Response], Any]] = []
        self._errors = ErrorHandlers()
        # A Request class bound to this router, so linking it costs nothing per request.
        self._request_class: type[Request] = type("Request", (Request,), {"router": self})

    # -- building the table -------------------------------------------------------------

    def add(
        self,
        template: str,
        handler: object,
        *,
        name: str | None = None,
        methods: Iterable[str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        requirements: Mapping[str, str] | None = None,
    ) -> Route:
        """Route ``template`` to ``handler``: a :class:`Handler` subclass,
        ``functools.partial`` of one (its instances get those arguments), or a function.

        ``methods`` restricts a class to some of its methods, or lets a function serve
        more than GET.  ``defaults`` are extra keyword arguments for the handler;
        ``requirements`` maps a parameter to a regex (like ``{id:\\d+}`` inline).
        """
        endpoint = Endpoint(handler, methods)
        route = Route(
            template,
            name=name,
            endpoint=endpoint,
            defaults=defaults,
            requirements=requirements,
        )
        return self._register(route)

    def collection(
        self,
        template: str,
        collection_handler: object,
        member_handler: object,
        *,
        name: str | None = None,
        member_name: str | None = None,
        key: str = "id",
        requirement: str | None = None,
    ) -> tuple[Route, Route]:
        """Add ``template`` for the collection and ``template/{key}`` for its members.

        The member route is named ``member_name``, by default ``name + "_item"``;
        ``requirement`` is the regex a member key must match.
        """
        if member_name is None and name is not None:
            member_name = f"{name}_item"
        base = template.rstrip("/")
        requirements = {key: requirement} if requirement is not None else None
        collection = self.add(base or "/", collection_handler, name=name)
        member = self.add(
            f"{base}/{{{key}}}", member_handler, name=member_name, requirements=requirements
        )
        return collection, member

    def mount(self, prefix: str, app: WSGIApp, *, name: str | None = None) -> Route:
        """Send every request under ``prefix`` to the WSGI application ``app``.

        The prefix moves from ``PATH_INFO`` to ``SCRIPT_NAME``, so the mounted app
        (Flask, Django, Pyramid, another Router...) builds its own URLs correctly.
        """
        if not callable(app):
            raise TypeError(f"mount() needs a WSGI application, not {app!r}")
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise ValueError(f"a mount prefix must start with '/', not {prefix!r}")
        return self._register(Route(prefix, name=name, app=app, kind="mount"))

    def static(
        self,
        prefix: str,
        directory: str,
        *,
        name: str | None = None,
        index: str | None = "index.html",
        cache_control: str | None = None,
        dotfiles: bool = False,
        precompressed: bool = True,
    ) -> Route:
        """Serve the files under ``directory`` at ``prefix`` (see :class:`StaticFiles`)."""
        files = StaticFiles(
            directory,
            index=index,
            cache_control=cache_control,
            dotfiles=dotfiles,
            precompressed=precompressed,
        )
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise ValueError(f"a static prefix must start with '/', not {prefix!r}")
        return self._register(Route(prefix, name=name, app=files, kind="static"))

    def _register(self, route: Route) -> Route:
        if route.name is not None:
            if route.name in self._named:
                raise ValueError(f"a route named {route.name!r} already exists")
            self._named[route.name] = route
        self._routes.append(route)
        self._index.add(route)
        return route

    @property
    def routes(self) -> tuple[Route, ...]:
        """The routes in definition order (which is also their precedence)."""
        return tuple(self._routes)

    # -- hooks and error handlers -------------------------------------------------------

    def before_request(self, hook: Hook) -> Hook:
        """Register ``hook(request)``, run before each handler; returning anything but
        None answers the request with that instead.  Usable as a decorator."""
        self._before.append(hook)
        return hook

    def after_request(self, hook: Hook) -> Hook:
        """Register ``hook(request, response)``, run on every response the router
        makes (not those of mounted apps); it may return a replacement response."""
        self._after.append(hook)
        return hook

    def error_handler(self, key: ErrorKey, *, expected: bool = False) -> Callable[[Hook], Hook]:
        """Decorator: handle a status code (``404``) or an exception type.

        The function gets ``(request, exception)`` and returns anything a handler may,
        or raises a ``webob.exc`` error to answer with that error instead.  An
        exception type's handler logs the exception with its traceback, unless
        ``expected=True`` says it is a condition the application expects (a database
        that is down, a quota reached): then one DEBUG line, no traceback.
        """
        if not (
            isinstance(key, int) or (isinstance(key, type) and issubclass(key, BaseException))
        ):
            raise TypeError(
                f"error_handler() takes a status code or an exception type, not {key!r}"
            )
        if expected and not isinstance(key, type):
            raise ValueError(
                "expected=True is for an exception type; a status code's error is "
                "never logged (and a 500's handler sees the unexpected ones)"
            )

        def register(function: Hook) -> Hook:
            self._errors.register(key, function, expected=expected)
            return function

        return register

    # -- reverse routing ----------------------------------------------------------------

    def url_path(self, name: str, params: Mapping[str, Any]) -> str:
        """The path of route ``name`` relative to this router (no SCRIPT_NAME)."""
        route = self._named.get(name)
        if route is None:
            raise LookupError(f"no route is named {name!r}")
        return route.generate(params)

    # -- serving ------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        request = self._request_class(environ)
        try:
            reply = self._dispatch(request, environ)
        except webob.exc.HTTPException as exc:
            reply = self._errors.http_error(request, exc, debug=self.debug)
        except ProtocolError as error:
            # The client's fault found while reading the body (over max_body, shorter
            # than its Content-Length, bad chunked framing): answer with its status.
            reply = self._errors.http_error(request, http_error(error), debug=self.debug)
        except Exception as error:
            reply = self._errors.unexpected_error(request, error, debug=self.debug)
        if self._after and isinstance(reply, (Reply, webob.Response)):
            reply = self._run_after_hooks(request, reply)
        body: Iterable[bytes] = reply(environ, start_response)
        if request.temporary_files:
            # request.body spilled to disk: close the file when the server closes the body.
            return ReleasingBody(body, request.close_temporary_files)
        return body

    def _dispatch(self, request: Request, environ: Environ) -> Any:
        raw_path = environ.get("PATH_INFO") or "/"
        path = raw_path if raw_path.isascii() else guards.decode_path(raw_path)
        method = environ["REQUEST_METHOD"]
        # Before the method override: its _method field may be in a body to be limited.
        if self.max_body is not None or environ.get("CONTENT_LENGTH"):
            guard_body(environ, self.max_body)
        if self.method_override and method == "POST":
            method = guards.override_method(request)
        allowed: frozenset[str] | None = None
        for route in self._index.candidates(path):
            match = route.regex.match(path)
            if match is None:
                continue
            endpoint = route.endpoint
            if endpoint is None:
                app = guards.mounted(route, environ, raw_path)
                if route.kind == "static" and isinstance(app, StaticFiles):
                    # The router's own files: its error handlers answer their 404s.
                    return app.respond(request)
                return app
            if method in endpoint.allowed:
                params = match.groupdict()
                if route.defaults:
                    params = _with_defaults(route.defaults, params)
                return self._respond(request, route, endpoint, method, params)
            allowed = endpoint.allowed if allowed is None else allowed | endpoint.allowed
        if allowed is not None:
            # RFC 9110 section 15.5.6: a 405 must list the methods the resource supports.
            raise webob.exc.HTTPMethodNotAllowed(headers=[("Allow", format_allow(allowed))])
        if self.redirect_slashes and method in GET_OR_HEAD:
            guards.redirect_slash(self._index, path, raw_path, environ)
        raise webob.exc.HTTPNotFound()

    def _respond(
        self,
        request: Request,
        route: Route,
        endpoint: Endpoint,
        method: str,
        params: dict[str, Any],
    ) -> Rendered:
        # Straight into the instance dict: WebOb's __setattr__ hook costs more than this.
        request.__dict__["route"] = route
        request.__dict__["route_params"] = params
        request.environ["wsgiorg.routing_args"] = ((), params)
        for hook in self._before:
            early = hook(request)
            if early is not None:
                return render(early)
        if method == "OPTIONS" and "OPTIONS" not in endpoint.responders:
            return Reply("204 No Content", [("Allow", endpoint.allow_header)], ())
        responder = endpoint.responders[method]
        factory = endpoint.factory
        if factory is None:
            return render(responder(request, **params))
        instance = factory()
        if endpoint.plain:
            return render(responder(instance, request, **params))
        return respond_described(
            endpoint, instance, responder, request, method=method, params=params
        )

    # -- hooks -------------------------------------------------------------------------

    def _run_after_hooks(self, request: Request, reply: Reply | webob.Response) -> Any:
        response = reply.to_webob() if isinstance(reply, Reply) else reply
        try:
            for hook in self._after:
                replaced = hook(request, response)
                if replaced is not None:
                    response = replaced
        except Exception as error:
            return error_pages.internal_error(error, request, self.debug)
        return response


def _with_defaults(defaults: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    # A default fills a parameter the path did not give (an absent {.format}).
    merged = dict(defaults)
    merged.update((key, value) for key, value in params.items() if value is not None)
    return merged
