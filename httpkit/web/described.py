"""Calling a handler class that describes its representation: validators, cache headers.

For such a class the router evaluates the request's preconditions first (answering 304
or 412 without calling the method), then adds to a successful answer what describes
it: ``ETag`` and ``Last-Modified``, and for GET and HEAD the declared ``Vary``,
``Cache-Control``, ``Content-Location`` and ``Expires`` -- the same fields a 304 for
that request carries (RFC 9110 section 15.4.5).
"""

from __future__ import annotations

from typing import Any

import webob
import webob.exc

from httpkit.web.caching import Headers, add_headers
from httpkit.web.conditional import FAILED_DETAIL, Validators, evaluate_preconditions
from httpkit.web.handler import GET_OR_HEAD, Endpoint, Responder
from httpkit.web.responses import Rendered, Reply, render
from httpkit.web.sse import EventStream

__all__ = ["respond_described"]

_NONE = Validators(None, None)


def respond_described(
    endpoint: Endpoint,
    instance: object,
    responder: Responder,
    request: webob.Request,
    *,
    method: str,
    params: dict[str, Any],
) -> Rendered:
    """The answer of ``responder`` on ``instance``, or the 304/412 its validators give."""
    validators = _NONE
    failed = None
    if endpoint.has_validators:
        validators = _validators(endpoint, instance, request, params)
        failed = evaluate_preconditions(request.environ, method, validators)
        if failed == 412:
            raise webob.exc.HTTPPreconditionFailed(FAILED_DETAIL)
    reading = method in GET_OR_HEAD
    described: Headers = []
    if reading and endpoint.cache is not None:
        described = endpoint.cache.headers(instance, request, params)
    if failed == 304:
        # RFC 9110 section 15.4.5: a 304 carries the validators and cache fields a 200 would.
        return Reply("304 Not Modified", validators.headers() + described, ())
    try:
        reply = render(responder(instance, request, **params))
    except webob.exc.HTTPNotModified as not_modified:
        # The method's own check_preconditions() said 304: it says the same fields.
        add_headers(not_modified.headerlist, described)
        raise
    if isinstance(reply, EventStream) or not _is_success(reply):
        # Validators and cache fields describe the resource, not an error or a redirect.
        return reply
    if endpoint.has_validators and not reading:
        # The method may have changed the resource: describe what it is now.
        validators = _validators(endpoint, instance, request, params)
    add_headers(
        reply.headers if isinstance(reply, Reply) else reply.headerlist,
        validators.headers() + described,
    )
    return reply


def _is_success(reply: Reply | webob.Response) -> bool:
    if isinstance(reply, Reply):
        return reply.status.startswith("2")
    return 200 <= int(reply.status_code) < 300


def _validators(
    endpoint: Endpoint, instance: object, request: webob.Request, params: dict[str, Any]
) -> Validators:
    etag = endpoint.etag(instance, request, **params) if endpoint.etag is not None else None
    modified = (
        endpoint.last_modified(instance, request, **params)
        if endpoint.last_modified is not None
        else None
    )
    return Validators(etag, modified)
