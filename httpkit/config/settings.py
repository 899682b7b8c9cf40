"""The :class:`Settings` object: one validated value per setting, read-only.

It is what the server reads, and nothing else: built from keyword arguments (each
checked by its row of :data:`~httpkit.config.table.SETTINGS`, then the rules between
settings of :mod:`httpkit.config.checks`) or from ``HTTPKIT_*`` environment variables.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from httpkit.config.checks import check_combination, resolve_listeners
from httpkit.config.messages import from_variable, with_suggestion
from httpkit.config.table import SETTINGS, SETTINGS_BY_NAME
from httpkit.errors import ConfigError
from httpkit.setting import ENV_PREFIX

__all__ = ["Settings"]


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
            raise ConfigError(f"unknown setting: {', '.join(map(with_suggestion, unknown))}")
        resolved = {
            setting.name: setting.validate(values[setting.name])
            if setting.name in values
            else setting.default
            for setting in SETTINGS
        }
        resolve_listeners(values, resolved)
        check_combination(resolved)
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
                    f"unknown setting in environment: {with_suggestion(key, ENV_PREFIX)}"
                )
            if setting.name in overrides:
                continue  # the command line wins; its value is the one to check
            try:
                values[setting.name] = setting.parse(text)
            except ConfigError as error:
                raise from_variable(error, key) from None
        from_environment = set(values)
        values.update(overrides)
        try:
            return cls(**values)
        except ConfigError as error:
            # A rule between settings names one first: say where its value came from.
            name = str(error).partition(":")[0]
            if name not in from_environment:
                raise
            raise from_variable(error, SETTINGS_BY_NAME[name].env_var) from None

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
