"""The size limits the parser enforces, each with the status it answers when exceeded."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one request may make the parser buffer or accept.

    Every limit is checked while bytes arrive, so a client can never make the parser hold
    more than the limit (plus one network read) before it is refused.
    """

    max_request_line: int = 8190  # bytes of the request line, CRLF excluded -> 414
    max_header_bytes: int = 65536  # bytes of the header section, trailers included -> 431
    max_header_count: int = 100  # header fields, trailer fields included -> 431
    max_body: int | None = 1 << 30  # body bytes after de-chunking; None: unlimited -> 413
    max_chunk_extension: int = 1024  # bytes of extensions on one chunk-size line -> 400

    def __post_init__(self) -> None:
        for name in ("max_request_line", "max_header_bytes", "max_header_count"):
            _require_positive(name, getattr(self, name))
        _require_positive("max_chunk_extension", self.max_chunk_extension, allow_zero=True)
        if self.max_body is not None:
            _require_positive("max_body", self.max_body, allow_zero=True)


def _require_positive(name: str, value: object, *, allow_zero: bool = False) -> None:
    # bool is an int subclass, but Limits(max_body=True) is surely a mistake.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"Limits.{name} must be an int, not {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"Limits.{name} must be {'>= 0' if allow_zero else '> 0'}, not {value}")
