"""The server's settings, declared once.

Every setting is one :class:`Setting` in :data:`SETTINGS`: its name, type, default and
help.  The command line (``httpkit serve --help``), the ``HTTPKIT_*`` environment
variables, the keyword arguments of :func:`httpkit.serve` and the settings page of the
documentation are all generated from that table, so they cannot drift apart.

A :class:`Settings` object holds one validated value per setting; the server reads it
and nothing else.
"""

from __future__ import annotations

import difflib
import importlib.util
import logging
from collections.abc import Mapping
from typing import Any

from httpkit.config.table import SETTINGS, SETTINGS_BY_NAME
from httpkit.config.values import (
    PROXY_HEADER_NAMES,
    parse_bind,
    parse_networks,
    split_list,
    trusted_header_names,
)
from httpkit.errors import ConfigError
from httpkit.setting import ENV_PREFIX, Setting, check_host

__all__ = [
    "ENV_PREFIX",
    "PROXY_HEADER_NAMES",
    "SETTINGS",
    "Setting",
    "Settings",
    "parse_bind",
    "parse_networks",
    "split_list",
    "trusted_header_names",
]


def _check_combination(values: dict[str, Any]) -> None:
    """Rules that involve more than one setting, or the shape of a string."""
    prefix = values["url_prefix"]
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ConfigError(f"url_prefix: must start with / and not end with /, got {prefix!r}")
    _check_listeners(values)
    mode = values["unix_mode"]
    if mode is not None and not (mode and len(mode) <= 4 and set(mode) <= set("01234567")):
        raise ConfigError(f"unix_mode: expected octal permissions such as 660, got {mode!r}")
    if values["keyfile"] is not None and values["certfile"] is None:
        raise ConfigError("keyfile: needs certfile")
    if values["ca_certs"] is not None and values["certfile"] is None:
        raise ConfigError("ca_certs: client certificates need certfile (HTTPS)")
    parse_networks(values["trusted_proxy"])
    if values["proxy_protocol"] and not values["trusted_proxy"]:
        raise ConfigError("proxy_protocol: needs trusted_proxy (who may send the header)")
    trusted_header_names(values["trusted_proxy_headers"], values["proxy_headers"])
    if values["metrics_bind"] is not None:
        parse_bind(values["metrics_bind"])
        if importlib.util.find_spec("prometheus_client") is None:
            raise ConfigError(
                "metrics_bind: needs prometheus_client (pip install 'httpkit[metrics]')"
            )
    if values["trusted_proxy_headers"] and not values["trusted_proxy"]:
        raise ConfigError("trusted_proxy_headers: needs trusted_proxy (whose headers they are)")
    for name in ("server_header", "access_log_format"):
        if any(ord(char) < 32 or ord(char) == 127 for char in values[name]):
            raise ConfigError(f"{name}: must not contain control characters")


def _resolve_listeners(given: Mapping[str, Any], resolved: dict[str, Any]) -> None:
    """``host``'s default (127.0.0.1) applies only when no other listener is asked for:
    ``--unix PATH`` alone listens on the Unix socket only, ``--host`` next to it on both."""
    if "host" not in given and (resolved["unix"] is not None or resolved["fd"] is not None):
        resolved["host"] = None


def _check_listeners(values: Mapping[str, Any]) -> None:
    host, unix, fd = values["host"], values["unix"], values["fd"]
    if host is not None:
        for name in split_list(host) or [""]:
            check_host(name)
    if fd is not None and (host is not None or unix is not None):
        # An inherited socket is someone else's (systemd's): it is served alone.
        raise ConfigError("fd: serves the inherited socket alone, not with host or unix")
    if host is None and unix is None and fd is None:
        raise ConfigError("host: none, and no unix or fd either: nothing to listen on")


def _with_suggestion(name: str, prefix: str = "") -> str:
    """``name``, and the setting it probably meant: "thread (did you mean threads?)"."""
    known = [prefix + setting.name.upper() if prefix else setting.name for setting in SETTINGS]
    close = difflib.get_close_matches(name, known, n=1)
    return f"{name} (did you mean {close[0]}?)" if close else name


def _from_variable(error: ConfigError, variable: str) -> ConfigError:
    """``error`` about a value read from the environment variable ``variable``, which
    the reader may not know is set."""
    return ConfigError(f"{error} (from the environment variable {variable})")


class Settings:
    """One validated value per setting in :data:`SETTINGS`, read as attributes."""

    host: str | None  # None: no TCP listener (only unix or fd)
    port: int
    unix: str | None
    unix_mode: str | None
    fd: int | None
    threads: int
    url_prefix: str
    max_body: int | None
    max_chunk_extension: int
    max_request_line: int
    max_header_bytes: int
    max_header_count: int
    header_timeout: float
    keepalive_timeout: float
    body_timeout: float
    send_timeout: float
    max_connections: int
    max_pending: int
    max_streams: int | None
    retry_after: int
    listen_backlog: int
    workers: int
    reload: bool
    linger_timeout: float
    drain_grace: float
    graceful_timeout: float
    startup_timeout: float
    certfile: str | None
    keyfile: str | None
    ca_certs: str | None
    trusted_proxy: str
    proxy_headers: str
    proxy_protocol: bool
    trusted_proxy_headers: str
    metrics_bind: str | None
    access_log: bool
    access_log_format: str
    access_log_file: str | None
    log_level: str
    loop: str
    server_header: str
    interface: str
    app_timeout: float
    ws_max_message_size: int
    ws_per_message_deflate: bool
    ws_ping_interval: float
    ws_ping_timeout: float

    def __init__(self, **values: Any) -> None:
        unknown = sorted(set(values) - set(SETTINGS_BY_NAME))
        if unknown:
            raise ConfigError(f"unknown setting: {', '.join(map(_with_suggestion, unknown))}")
        resolved = {
            setting.name: setting.validate(values[setting.name])
            if setting.name in values
            else setting.default
            for setting in SETTINGS
        }
        _resolve_listeners(values, resolved)
        _check_combination(resolved)
        for name, value in resolved.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Settings are read-only; use replace() to change one")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Settings from ``HTTPKIT_*`` variables; ``overrides`` (e.g. the CLI) win."""
        values: dict[str, Any] = {}
        for key, text in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            setting = SETTINGS_BY_NAME.get(key[len(ENV_PREFIX) :].lower())
            if setting is None:
                raise ConfigError(
                    f"unknown setting in environment: {_with_suggestion(key, ENV_PREFIX)}"
                )
            if setting.name in overrides:
                continue  # the command line wins; its value is the one to check
            try:
                values[setting.name] = setting.parse(text)
            except ConfigError as error:
                raise _from_variable(error, key) from None
        from_environment = set(values)
        values.update(overrides)
        try:
            return cls(**values)
        except ConfigError as error:
            # A rule between settings names one first: say where its value came from.
            name = str(error).partition(":")[0]
            if name not in from_environment:
                raise
            raise _from_variable(error, SETTINGS_BY_NAME[name].env_var) from None

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (validated again)."""
        return Settings(**{**self.as_dict(), **changes})

    def as_dict(self) -> dict[str, Any]:
        return {setting.name: getattr(self, setting.name) for setting in SETTINGS}

    @property
    def log_level_number(self) -> int:
        return int(logging.getLevelName(self.log_level.upper()))

    def __repr__(self) -> str:
        changed = ", ".join(
            f"{setting.name}={getattr(self, setting.name)!r}"
            for setting in SETTINGS
            if getattr(self, setting.name) != setting.default
        )
        return f"Settings({changed})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self.as_dict() == other.as_dict()

    __hash__ = None  # type: ignore[assignment]
