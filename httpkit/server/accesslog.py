"""The access log: one line per response, in a format compiled once at start-up.

The format uses Apache's ``%`` placeholders (``LogFormat``), so that log analysers
read it unchanged; ``common`` and ``combined`` name the two classic formats.  Lines go
to the ``httpkit.access`` logger, whose handler (stderr or a file) the runner sets up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from httpkit.errors import ConfigError
from httpkit.h1 import Request
from httpkit.server.info import ConnectionInfo

__all__ = ["NAMED_FORMATS", "AccessLog", "compile_format"]

access_logger = logging.getLogger("httpkit.access")

NAMED_FORMATS = {
    "common": '%h %l %u %t "%r" %s %b',
    "combined": '%h %l %u %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"',
}


class Entry:
    """What one log line is made of (built only when the access log is on)."""

    __slots__ = ("bytes_sent", "duration", "info", "request", "status")

    def __init__(
        self,
        info: ConnectionInfo,
        request: Request | None,
        status: int,
        bytes_sent: int,
        duration: float,
    ) -> None:
        self.info = info
        self.request = request
        self.status = status
        self.bytes_sent = bytes_sent
        self.duration = duration


Field = Callable[[Entry], str]


class _ClockCache:
    """``[22/Nov/2026:05:30:00 +0000]`` of the current second (strftime is slow)."""

    second = -1
    text = ""


def _time(entry: Entry) -> str:
    now = int(time.time())
    if now != _ClockCache.second:
        _ClockCache.text = time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(now))
        _ClockCache.second = now
    return _ClockCache.text


def _request_line(entry: Entry) -> str:
    request = entry.request
    if request is None:
        return "-"
    return f"{request.method} {_escape(request.target)} HTTP/{request.http_version}"


def _escape(text: str) -> str:
    # A quote or control byte from the client must not forge a field or a new line.
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text
    return text.encode("unicode_escape").decode("ascii").replace('"', '\\"')


def _header(name: str) -> Field:
    lowered = name.lower()

    def field(entry: Entry) -> str:
        request = entry.request
        value = request.header(lowered) if request is not None else None
        return "-" if value is None else _escape(value)

    return field


def _path(entry: Entry) -> str:
    return _escape(entry.request.target.partition("?")[0]) if entry.request else "-"


def _query(entry: Entry) -> str:
    if entry.request is None or "?" not in entry.request.target:
        return ""
    return "?" + _escape(entry.request.target.partition("?")[2])


_FIELDS: dict[str, Field] = {
    "h": lambda entry: entry.info.peer_host or "-",
    "l": lambda entry: "-",
    "u": lambda entry: "-",
    "t": _time,
    "r": _request_line,
    "m": lambda entry: entry.request.method if entry.request else "-",
    "U": _path,
    "q": _query,
    "H": lambda entry: f"HTTP/{entry.request.http_version}" if entry.request else "-",
    "s": lambda entry: str(entry.status),
    "b": lambda entry: str(entry.bytes_sent) if entry.bytes_sent else "-",
    "B": lambda entry: str(entry.bytes_sent),
    "D": lambda entry: str(int(entry.duration * 1_000_000)),
    "T": lambda entry: f"{entry.duration:.3f}",
}


def compile_format(text: str) -> list[str | Field]:
    """The format as literal strings and fields; ConfigError for an unknown placeholder."""
    text = NAMED_FORMATS.get(text, text)
    parts: list[str | Field] = []
    literal: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "%":
            literal.append(char)
            index += 1
            continue
        code = text[index + 1 : index + 2]
        if code == "%":
            literal.append("%")
            index += 2
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        if code == "{":
            end = text.find("}i", index)
            if end < 0 or end == index + 2:
                raise ConfigError(f"access_log_format: expected %{{Header}}i at {text[index:]!r}")
            parts.append(_header(text[index + 2 : end]))
            index = end + 2
        elif code in _FIELDS:
            parts.append(_FIELDS[code])
            index += 2
        else:
            raise ConfigError(f"access_log_format: unknown placeholder %{code} in {text!r}")
    if literal:
        parts.append("".join(literal))
    return parts


class AccessLog:
    """Writes one line per response on logger ``httpkit.access``."""

    def __init__(self, log_format: str) -> None:
        self.parts = compile_format(log_format)

    def __call__(
        self,
        info: ConnectionInfo,
        request: Request | None,
        status: int,
        bytes_sent: int,
        duration: float,
    ) -> None:
        if not access_logger.isEnabledFor(logging.INFO):
            return
        entry = Entry(info, request, status, bytes_sent, duration)
        line = "".join(part if type(part) is str else part(entry) for part in self.parts)  # type: ignore[operator]
        access_logger.info("%s", line)
