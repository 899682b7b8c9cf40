"""Checks on a request before the service acts on it: body, media type, page, If-Match.

Each failure is the HTTP error a client should see, with the reason in its body.
"""

from __future__ import annotations

import re
from typing import TypeVar

import webob.exc

from examples.atompub.atom import ENTRY_TYPE
from examples.atompub.documents import CollectionInfo
from httpkit import web
from httpkit.web import Request

__all__ = [
    "check_preconditions",
    "existing",
    "page_number",
    "read_body",
    "read_media_body",
    "require_entry_type",
    "require_media_type",
]

MAX_PAGE_DIGITS = 9
BODY_CHUNK = 64 * 1024
Found = TypeVar("Found")
# The type parameter of application/atom+xml (RFC 5023 section 12.1), maybe quoted.
_ENTRY_PARAM = re.compile(r'(?:^|;)\s*type\s*=\s*"?([A-Za-z]+)"?', re.ASCII)


def read_body(request: Request) -> bytes:
    """The whole request body (the router's ``max_body`` bounds it: 413 past that)."""
    # Read the stream directly: request.body would first copy a large body into a
    # temporary file, which is left open when the size limit (413) cuts the copy short.
    # A read may return less than asked before the end, so read until b"".
    stream = request.body_file
    parts: list[bytes] = []
    while chunk := stream.read(BODY_CHUNK):
        parts.append(chunk)
    return b"".join(parts)


def read_media_body(request: Request) -> bytes:
    """The media bytes of the request; 400 when there are none."""
    data = read_body(request)
    if not data:
        # An empty upload is almost always a client's mistake (a missing file, curl's
        # --data-binary @name with a wrong name): refuse it rather than store nothing.
        raise webob.exc.HTTPBadRequest("the request body is empty; send the media bytes")
    return data


def page_number(request: Request) -> int:
    """The ``page`` query parameter: 1 when absent, 400 unless a whole number >= 1."""
    text = request.GET.get("page", "1")
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_PAGE_DIGITS or text == "0":
        raise webob.exc.HTTPBadRequest(f"page must be a whole number >= 1, not {text!r}")
    return int(text)


def require_entry_type(request: Request) -> None:
    """415 unless the body is an Atom entry."""
    # RFC 5023 section 9.2: entries are POSTed as application/atom+xml (type=entry).
    media_type, _, params = request.headers.get("Content-Type", "").partition(";")
    entry_param = _ENTRY_PARAM.search(params)
    if media_type.strip().lower() != "application/atom+xml" or (
        entry_param is not None and entry_param.group(1).lower() != "entry"
    ):
        raise webob.exc.HTTPUnsupportedMediaType(
            f"this collection accepts {ENTRY_TYPE}, not {request.content_type or 'no type'!r}"
        )


def require_media_type(request: Request, info: CollectionInfo) -> str:
    """The body's media type, with its parameters (``text/plain; charset=utf-8``), if
    the collection accepts it, else 415."""
    media_type = request.content_type.lower()
    if media_type not in info.accept:
        raise webob.exc.HTTPUnsupportedMediaType(
            f"{info.title} accepts {', '.join(info.accept)}, not {media_type or 'no type'!r}"
        )
    # The parameters matter to whoever reads the media back (a charset above all).
    _, _, params = request.headers.get("Content-Type", "").partition(";")
    kept = [param.strip() for param in params.split(";") if param.strip()]
    return "; ".join([str(media_type), *kept])


def existing(found: Found | None) -> Found:
    """``found``, or 404 when the store found nothing."""
    if found is None:
        raise webob.exc.HTTPNotFound("there is no such member")
    return found


def check_preconditions(request: Request, current_etag: str | None) -> None:
    """If-Match and friends again, on the state this transaction will change.

    The router checked them before the handler ran; checking again inside the write
    transaction closes the window in which another request could have written.
    """
    web.check_preconditions(request, etag=current_etag)
