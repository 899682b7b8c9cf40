"""Conditional requests: the preconditions of RFC 9110 section 13, evaluated in order.

WebOb answers 304 on its own but never 412, which is what safe edits (RFC 5023 section
9.5: Atom clients PUT with If-Match) rely on, so the router evaluates all four
preconditions here before it calls the handler's method.  A handler can evaluate them
again with :func:`check_preconditions`, on the state it is about to change (inside its
write transaction), which closes the window between the router's check and the write.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import webob
import webob.exc

from httpkit.web.handler import GET_OR_HEAD
from httpkit.wsgitypes import Environ

__all__ = [
    "FAILED_DETAIL",
    "Validators",
    "check_preconditions",
    "evaluate_preconditions",
    "normalize_etag",
]

# RFC 9110 section 8.8.3: entity-tag = [ weak ] opaque-tag; weak = %s"W/";
# opaque-tag = DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text.
_ENTITY_TAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|\Z)')
FAILED_DETAIL = (
    "The resource is not in the state the request's conditions expect "
    "(it was changed, created or deleted in the meantime)."
)
# One tag alone, as an ETag header value is.
_ONE_ENTITY_TAG = re.compile(r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"\Z')


class Validators:
    """The current validators of the selected representation, as header values."""

    __slots__ = ("etag", "last_modified", "modified_at")

    def __init__(self, etag: Any, last_modified: Any) -> None:
        self.etag = None if etag is None else normalize_etag(etag)
        self.modified_at = None if last_modified is None else _to_utc(last_modified)
        self.last_modified = (
            None if self.modified_at is None else format_datetime(self.modified_at, usegmt=True)
        )

    def headers(self) -> list[tuple[str, str]]:
        """ETag and Last-Modified header pairs for the validators that are known."""
        pairs = []
        if self.etag is not None:
            pairs.append(("ETag", self.etag))
        if self.last_modified is not None:
            pairs.append(("Last-Modified", self.last_modified))
        return pairs


def normalize_etag(value: object) -> str:
    """Quote an entity tag the handler returned bare; keep ``"x"`` and ``W/"x"`` as given."""
    if not isinstance(value, str):
        raise TypeError(f"etag() must return a str or None, not {type(value).__name__}")
    tag = value if value.startswith(('"', 'W/"')) else f'"{value}"'
    if not _ONE_ENTITY_TAG.match(tag):
        raise ValueError(f"etag() returned {value!r}, which is not a valid entity tag")
    return tag


def check_preconditions(
    request: webob.Request, *, etag: object = None, last_modified: object = None
) -> None:
    """Evaluate the request's preconditions against the resource's current validators.

    ``etag`` is the entity tag now (``"abc"`` or ``'W/"abc"'``; a bare string is
    quoted) and ``last_modified`` a :class:`~datetime.datetime` or POSIX timestamp;
    ``None`` for either means unknown, both ``None`` that the resource does not exist.
    Returns if the request may go on; raises ``webob.exc.HTTPPreconditionFailed`` (412)
    or, for GET/HEAD, ``webob.exc.HTTPNotModified`` (304, carrying the validators).
    Raises TypeError or ValueError for a malformed validator.
    """
    validators = Validators(etag, last_modified)
    failed = evaluate_preconditions(request.environ, request.method, validators)
    if failed == 412:
        raise webob.exc.HTTPPreconditionFailed(FAILED_DETAIL)
    if failed == 304:
        raise webob.exc.HTTPNotModified(headers=validators.headers())


def evaluate_preconditions(environ: Environ, method: str, validators: Validators) -> int | None:
    """Return 304 or 412 if a precondition fails, None to go on (RFC 9110 section 13.2.2)."""
    exists = validators.etag is not None or validators.modified_at is not None
    if_match = environ.get("HTTP_IF_MATCH")
    if if_match is not None:
        # Step 1: If-Match uses the strong comparison (section 13.1.1).
        if not _tag_list_matches(if_match, validators.etag, exists, weak=False):
            return 412
    else:
        # Step 2: If-Unmodified-Since only when If-Match is absent (section 13.1.4).
        since = _parse_date(environ.get("HTTP_IF_UNMODIFIED_SINCE"))
        modified_at = validators.modified_at
        if since is not None and modified_at is not None and modified_at > since:
            return 412
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        # Step 3: If-None-Match uses the weak comparison (section 13.1.2).
        if _tag_list_matches(if_none_match, validators.etag, exists, weak=True):
            return 304 if method in GET_OR_HEAD else 412
    elif method in GET_OR_HEAD:
        # Step 4: If-Modified-Since only for GET/HEAD without If-None-Match (13.1.3).
        since = _parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
        modified_at = validators.modified_at
        if since is not None and modified_at is not None and modified_at <= since:
            return 304
    return None


def _tag_list_matches(field: str, current: str | None, exists: bool, *, weak: bool) -> bool:
    field = field.strip()
    if field == "*":
        return exists
    if current is None:
        return False
    current_weak = current.startswith("W/")
    if current_weak and not weak:
        return False  # a weak tag never matches strongly
    current_opaque = current[2:] if current_weak else current
    position = 0
    # Bounded: each iteration consumes at least the two quotes of one tag.
    while position < len(field):
        found = _ENTITY_TAG.match(field, position)
        if found is None:
            return False  # a malformed list matches nothing
        is_weak, opaque = found.group(1), found.group(2)
        if opaque == current_opaque and (weak or not is_weak):
            return True
        position = found.end()
    return False


def _parse_date(value: str | None) -> datetime | None:
    # RFC 9110 section 13.1.3: an invalid HTTP-date makes the header be ignored.
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _to_utc(value: object) -> datetime:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    else:
        raise TypeError(
            f"last_modified() must return a datetime, a timestamp or None, not {value!r}"
        )
    # HTTP dates have one-second resolution: compare at that resolution.
    return moment.astimezone(timezone.utc).replace(microsecond=0)
