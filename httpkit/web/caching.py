"""What a handler declares for caches: ``Vary``, ``Cache-Control`` and the headers a 304
must repeat.

RFC 9110 section 15.4.5: a 304 carries the Content-Location, Date, ETag and Vary fields
(and Cache-Control, Expires) that a 200 to the same request would have carried.  The
router answers a conditional GET before the handler's method runs, so what the method
would have said must be declared beside the validators: ``vary`` and ``cache_control``
on the class (read once, when the route is added) and, for what changes per request
(a ``Content-Location``), ``cache_headers(self, request, **params)``.  The same
headers then go on the method's own successful GET and HEAD responses, so the 200 and
the 304 agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import webob

__all__ = ["CACHE_FIELDS", "CacheRules", "add_headers", "cache_rules", "merge_vary"]

# The fields a 304 repeats besides ETag and Date, which the router and server add.
CACHE_FIELDS = {
    "cache-control": "Cache-Control",
    "content-location": "Content-Location",
    "expires": "Expires",
    "vary": "Vary",
}
# RFC 9110 section 5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
Headers = list[tuple[str, str]]


class CacheRules:
    """An endpoint's declared cache headers: the fixed ones and the per-request hook."""

    __slots__ = ("fixed", "hook", "owner")

    def __init__(self, fixed: Headers, hook: Callable[..., Any] | None, owner: str) -> None:
        self.fixed = fixed
        self.hook = hook
        self.owner = owner

    def headers(self, instance: object, request: webob.Request, params: dict[str, Any]) -> Headers:
        """The headers for this request: the class's, then what ``cache_headers`` says."""
        headers = list(self.fixed)
        if self.hook is not None:
            given = self.hook(instance, request, **params)
            if given is not None:
                add_headers(headers, _checked(given, f"{self.owner}.cache_headers()"))
        return headers


def cache_rules(cls: type) -> CacheRules | None:
    """The rules a handler class declares (None when it declares none: no cost)."""
    owner = cls.__qualname__
    fixed: Headers = []
    vary = getattr(cls, "vary", None)
    if vary is not None:
        fixed.append(("Vary", ", ".join(vary_fields(vary, f"{owner}.vary"))))
    cache_control = getattr(cls, "cache_control", None)
    if cache_control is not None:
        fixed.append(("Cache-Control", _field_value(cache_control, f"{owner}.cache_control")))
    hook = getattr(cls, "cache_headers", None)
    if hook is not None and not callable(hook):
        raise TypeError(f"{owner}.cache_headers must be a method, not {hook!r}")
    if not fixed and hook is None:
        return None
    return CacheRules(fixed, hook, owner)


def vary_fields(value: object, what: str) -> tuple[str, ...]:
    """A ``vary`` declaration -- ``"Accept"``, ``"Accept, Accept-Language"`` or a list
    of names -- as field names, each checked (RFC 9110 section 12.5.5)."""
    if isinstance(value, str):
        names = [name.strip() for name in value.split(",")]
    elif isinstance(value, Iterable):
        names = list(value)
    else:
        raise TypeError(f"{what} must be a field name or a list of them, not {value!r}")
    for name in names:
        if not isinstance(name, str) or not (name == "*" or _TOKEN.match(name)):
            raise ValueError(f"{what}: {name!r} is not a header field name")
    if not names:
        raise ValueError(f"{what} names no header field")
    if "*" in names and len(names) > 1:
        raise ValueError(f"{what}: '*' stands alone (it means every field)")
    return tuple(names)


def merge_vary(headers: Headers, fields: Iterable[str]) -> None:
    """Add ``fields`` to the Vary header in ``headers`` (adding one if there is none)."""
    fields = tuple(fields)
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            present = {field.strip().lower() for field in value.split(",")}
            if "*" in present:
                return
            if "*" in fields:
                headers[index] = (name, "*")
                return
            missing = [field for field in fields if field.lower() not in present]
            if missing:
                headers[index] = (name, ", ".join([value, *missing]))
            return
    headers.append(("Vary", ", ".join(fields)))


def add_headers(headers: Headers, extra: Headers) -> None:
    """Add ``extra`` to ``headers``: Vary merged, any other field only if not set."""
    if not extra:
        return
    present = {name.lower() for name, _ in headers}
    for name, value in extra:
        lowered = name.lower()
        if lowered not in present:
            headers.append((name, value))
            present.add(lowered)
        elif lowered == "vary":
            merge_vary(headers, [field.strip() for field in value.split(",")])


def _checked(given: object, what: str) -> Headers:
    if not isinstance(given, Mapping):
        raise TypeError(f"{what} must return a mapping of header fields or None, not {given!r}")
    headers: Headers = []
    for name, value in given.items():
        canonical = CACHE_FIELDS.get(name.lower()) if isinstance(name, str) else None
        if canonical is None:
            raise ValueError(
                f"{what} returned {name!r}; it may give only "
                + ", ".join(sorted(CACHE_FIELDS.values()))
                + " (the fields a 304 repeats, RFC 9110 section 15.4.5)"
            )
        text = _field_value(value, f"{what}[{name!r}]")
        if canonical == "Vary":
            text = ", ".join(vary_fields(text, f"{what}['Vary']"))
        headers.append((canonical, text))
    return headers


def _field_value(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or _CONTROL.search(value):
        raise ValueError(f"{what} must be a non-empty header value without control characters")
    return value
