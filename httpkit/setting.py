"""One server setting: its name, type, default and help, and how its text is parsed.

:mod:`httpkit.config.table` declares the table of every setting with this class.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from httpkit.errors import ConfigError

__all__ = ["ENV_PREFIX", "Setting", "check_host"]

ENV_PREFIX = "HTTPKIT_"


def _parse_int(text: str) -> int:
    # Digits only: int() would also take "+5", "5_0" and surrounding spaces.  A minus
    # sign is read, so that "--threads -1" is refused by the range check, with the
    # message serve(threads=-1) gets.
    digits = text[1:] if text.startswith("-") else text
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"expected a whole number, got {text!r}")
    return int(text)


def _parse_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number of seconds, got {text!r}")
    return value


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _parse_str(text: str) -> str:
    return text


_PARSERS: dict[type, Callable[[str], Any]] = {
    int: _parse_int,
    float: _parse_float,
    bool: _parse_bool,
    str: _parse_str,
}


@dataclass(frozen=True, slots=True)
class Setting:
    """One server setting: the single place its name, type, default and help live."""

    name: str  # the Python name; the flag is --name-with-dashes, the env var HTTPKIT_NAME
    type: type  # int, float, bool or str
    default: Any
    help: str
    optional: bool = False  # None is allowed (and is the default)
    minimum: float | None = None  # inclusive lower bound for numbers
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    metavar: str = ""
    repeatable: bool = False  # the option may be given more than once (values joined by ",")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def type_name(self) -> str:
        name = {int: "integer", float: "seconds", bool: "boolean", str: "string"}[self.type]
        return f"{name} or none" if self.optional else name

    def parse(self, text: str) -> Any:
        """Convert text from the command line or the environment, then validate it."""
        if self.optional and text.strip().lower() in ("", "none"):
            return None
        try:
            value = _PARSERS[self.type](text)
        except ValueError as error:
            raise ConfigError(f"{self.name}: {error}") from None
        return self.validate(value)

    def validate(self, value: Any) -> Any:
        """Check a Python value (e.g. a keyword argument of serve()) and return it."""
        if value is None and self.optional:
            return None
        if self.type is float and type(value) is int:
            value = float(value)
        if type(value) is not self.type:
            raise ConfigError(
                f"{self.name}: expected {self.type_name}, got {type(value).__name__} {value!r}"
            )
        return self._check_range(value)

    def _check_range(self, value: Any) -> Any:
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"{self.name}: must be at least {self.minimum:g}, got {value!r}")
        if self.maximum is not None and value > self.maximum:
            raise ConfigError(f"{self.name}: must be at most {self.maximum:g}, got {value!r}")
        if self.choices and value not in self.choices:
            raise ConfigError(f"{self.name}: must be one of {', '.join(self.choices)}")
        return value


# RFC 1123 s2.1: a host name label is letters, digits and hyphens, 1 to 63 of them, with
# no hyphen at either end; the whole name is at most 253 characters (RFC 1035 s2.3.4).
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


def check_host(host: str) -> None:
    """Refuse a ``host`` value that is neither an IP address nor a DNS name, so that a
    typo is a bad setting, not a failure to bind after start-up."""
    if not host:
        raise ConfigError("host: must not be empty")
    if ":" in host:  # only IPv6 literals have a colon; reject "[::1]" and "host:port"
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ConfigError(f"host: not a valid IPv6 address: {host!r}") from None
        return
    if _is_ipv4(host) or _is_dns_name(host):
        return
    raise ConfigError(f"host: not an IP address or a DNS name: {host!r}")


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _is_dns_name(host: str) -> bool:
    name = host[:-1] if host.endswith(".") else host  # a fully qualified "example.com."
    labels = name.split(".")
    if len(name) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        return False
    # An all-digit last label would be an IPv4 address gone wrong ("999.1.1.1", "1.2.3"),
    # which getaddrinfo reads in surprising ways (RFC 1123 s2.1: top-level names are
    # alphabetic).
    return not labels[-1].isdigit()
