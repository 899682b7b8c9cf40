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

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "host",
        str,
        "127.0.0.1",
        "Address to listen on (an IPv6 literal works too); repeat the option, or separate "
        "addresses with commas, to listen on several. Given with unix, both are served; "
        "the default applies only when neither unix nor fd is given.",
        optional=True,
        repeatable=True,
    ),
    Setting(
        "port", int, 8000, "TCP port to listen on; 0 picks a free one.", maximum=65535, minimum=0
    ),
    Setting(
        "unix",
        str,
        None,
        "Listen on this Unix socket path (repeatable); alone it replaces the default host, "
        "next to --host both are served.",
        optional=True,
        metavar="PATH",
        repeatable=True,
    ),
    Setting(
        "unix_mode",
        str,
        None,
        "Permissions of the Unix socket file, in octal (e.g. 660 so that only the "
        "socket's group, such as the proxy's, can connect).",
        optional=True,
        metavar="MODE",
    ),
    Setting(
        "fd",
        int,
        None,
        "Serve an inherited listening socket with this file descriptor instead of binding "
        "one (systemd's socket activation needs no option: LISTEN_FDS is detected).",
        optional=True,
        minimum=0,
        metavar="N",
    ),
    Setting(
        "threads",
        int,
        4,
        "Worker threads that run the application; 0 runs it inline on the event-loop "
        "thread (single-threaded).",
        minimum=0,
        maximum=1024,
    ),
    Setting(
        "url_prefix",
        str,
        "",
        "Path the application is mounted under (SCRIPT_NAME), e.g. /app.",
        metavar="PATH",
    ),
    Setting(
        "max_body",
        int,
        1 << 30,
        "Largest request body in bytes; larger ones get 413 (as soon as it is known). "
        "none: no limit (for a proxy in front that enforces its own).",
        optional=True,
        minimum=0,
    ),
    Setting(
        "max_chunk_extension",
        int,
        1024,
        "Longest extension on one chunk-size line of a chunked body, in bytes (400).",
        minimum=0,
    ),
    Setting("max_request_line", int, 8190, "Longest request line in bytes (414).", minimum=64),
    Setting(
        "max_header_bytes",
        int,
        65536,
        "Largest request header section in bytes (431).",
        minimum=256,
    ),
    Setting("max_header_count", int, 100, "Most header fields in a request (431).", minimum=1),
    Setting(
        "header_timeout",
        float,
        10.0,
        "Seconds a client has to send a whole request head, from its first byte.",
        minimum=0.01,
    ),
    Setting(
        "keepalive_timeout",
        float,
        5.0,
        "Seconds an idle connection is kept open waiting for the next request.",
        minimum=0.01,
    ),
    Setting(
        "body_timeout",
        float,
        30.0,
        "Seconds without any request-body bytes before the connection is cut.",
        minimum=0.01,
    ),
    Setting(
        "send_timeout",
        float,
        60.0,
        "Seconds a client may leave the response unread (writes blocked) before the "
        "connection is cut.",
        minimum=0.01,
    ),
    Setting(
        "max_connections",
        int,
        1000,
        "Open connections at most; beyond it the server stops accepting until one closes.",
        minimum=1,
    ),
    Setting(
        "max_pending",
        int,
        512,
        "Requests that may wait for a busy worker thread; beyond it they get 503.",
        minimum=0,
    ),
    Setting(
        "max_streams",
        int,
        None,
        "Server-sent event streams (responses that wait for events, such as an "
        "EventStream's) open at once; past it a new one gets 503. On worker threads each "
        "holds a thread while open: the default is half of --threads (at least 1), so "
        "that the rest serve other requests; inline (--threads 0) a stream costs no "
        "thread and the default is --max-connections.",
        optional=True,
        minimum=0,
    ),
    Setting(
        "retry_after",
        int,
        1,
        "Retry-After seconds sent with 503 when the workers are busy.",
        minimum=0,
    ),
    Setting(
        "listen_backlog",
        int,
        1024,
        "Length of the kernel's queue of unaccepted connections.",
        minimum=1,
    ),
    Setting(
        "loop",
        str,
        "auto",
        "Event loop: uvloop (faster) when installed, else asyncio's; both send "
        "wsgi.file_wrapper files with os.sendfile (not over TLS).",
        choices=("auto", "asyncio", "uvloop"),
    ),
    Setting(
        "workers",
        int,
        1,
        "Processes serving the same listening sockets (pre-fork), supervised and "
        "replaced if they die; SIGHUP replaces them one by one with freshly loaded code.",
        minimum=1,
        maximum=256,
    ),
    Setting(
        "reload",
        bool,
        False,
        "Development: restart the server process when a .py file under the current "
        "directory changes, keeping the listening socket.",
    ),
    Setting(
        "linger_timeout",
        float,
        2.0,
        "After a response that leaves part of the request body unread, seconds the rest "
        "is read and discarded before closing, so that the client reads the response "
        "instead of a reset (RFC 9112 9.6).",
        minimum=0.0,
    ),
    Setting(
        "drain_grace",
        float,
        1.0,
        "While stopping, seconds a kept-alive connection between requests has to deliver "
        "a request its client may already have sent (answered with Connection: close) "
        "before it is closed.",
        minimum=0.0,
    ),
    Setting(
        "graceful_timeout",
        float,
        30.0,
        "On SIGTERM or SIGINT, seconds requests in progress get to finish before their "
        "connections are cut.",
        minimum=0.0,
    ),
    Setting(
        "startup_timeout",
        float,
        300.0,
        "Seconds a server (each worker process, a background server) has to bind, load "
        "the application and run its startup (the ASGI lifespan startup) before the "
        "start is called off as failed; what was started is then shut down.",
        minimum=0.001,
    ),
    Setting(
        "certfile",
        str,
        None,
        "PEM certificate chain: serve HTTPS (wsgi.url_scheme is https).",
        optional=True,
        metavar="PATH",
    ),
    Setting("keyfile", str, None, "PEM private key of certfile.", optional=True, metavar="PATH"),
    Setting(
        "ca_certs",
        str,
        None,
        "PEM bundle of CAs: clients must present a certificate signed by one of them.",
        optional=True,
        metavar="PATH",
    ),
    Setting(
        "trusted_proxy",
        str,
        "",
        "Addresses and CIDR ranges of proxies (comma-separated, repeatable; unix for Unix "
        "socket peers) whose forwarding headers are believed; others' are removed.",
        metavar="ADDRS",
        repeatable=True,
    ),
    Setting(
        "proxy_headers",
        str,
        "x-forwarded",
        "Which headers a trusted proxy sets: X-Forwarded-For/-Proto/-Host/-Port, or "
        "RFC 7239 Forwarded.",
        choices=("x-forwarded", "forwarded"),
    ),
    Setting(
        "proxy_protocol",
        bool,
        False,
        "Trusted proxies open each connection with a PROXY protocol v1 or v2 header "
        "(e.g. HAProxy, AWS NLB; with certfile, before the TLS handshake); it gives the "
        "client's address.",
    ),
    Setting(
        "trusted_proxy_headers",
        str,
        "",
        "Only these forwarding headers are believed from trusted proxies, the others "
        "removed (comma-separated, repeatable; e.g. x-forwarded-for,x-forwarded-proto). "
        "Empty: every header of the proxy_headers kind.",
        metavar="NAMES",
        repeatable=True,
    ),
    Setting(
        "metrics_bind",
        str,
        None,
        "Serve the server's statistics in Prometheus's text format at /metrics on this "
        "address of its own (HOST:PORT, e.g. 127.0.0.1:9100); needs the metrics extra.",
        optional=True,
        metavar="HOST:PORT",
    ),
    Setting(
        "access_log",
        bool,
        True,
        "Log one line per request (logger httpkit.access), as uvicorn does; "
        "--no-access-log turns it off.",
    ),
    Setting(
        "access_log_format",
        str,
        "common",
        "common, combined, or a format of %h %l %u %t %r %m %U %q %H %s %b %B %D %T "
        "%{Header}i and %% (Apache's meanings; %D is microseconds, %T seconds).",
        metavar="FORMAT",
    ),
    Setting(
        "access_log_file",
        str,
        None,
        "Append the access log to this file instead of stderr.",
        optional=True,
        metavar="PATH",
    ),
    Setting("log_level", str, "info", "Level of the server's log messages.", choices=LOG_LEVELS),
    Setting("server_header", str, "httpkit", "Value of the Server response header."),
    Setting(
        "interface",
        str,
        "auto",
        "What the application is: auto detects an ASGI 3 application (a coroutine "
        "function, or an object with an async __call__) and takes anything else for WSGI.",
        choices=("auto", "asgi", "wsgi"),
    ),
    Setting(
        "app_timeout",
        float,
        60.0,
        "ASGI: seconds an application may take to start its response "
        "(http.response.start) before it is cancelled and answered with 500, counted "
        "from the request or from the last piece of its body the app received (a slow "
        "upload does not count); 0: no limit.",
        minimum=0.0,
    ),
    Setting(
        "ws_max_message_size",
        int,
        16 * 1024 * 1024,
        "ASGI WebSockets: largest message received, in bytes (characters for text); a "
        "larger one closes the connection with 1009.",
        minimum=1,
    ),
    Setting(
        "ws_per_message_deflate",
        bool,
        True,
        "ASGI WebSockets: compress messages (permessage-deflate, RFC 7692) when the "
        "client offers it.",
    ),
    Setting(
        "ws_ping_interval",
        float,
        20.0,
        "ASGI WebSockets: seconds of silence from the client after which the server "
        "pings it; 0: no pings.",
        minimum=0.0,
    ),
    Setting(
        "ws_ping_timeout",
        float,
        20.0,
        "ASGI WebSockets: seconds a pinged client has to answer (with anything) before "
        "its connection is cut.",
        minimum=0.0,
    ),
)

_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


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
        unknown = sorted(set(values) - set(_BY_NAME))
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
            setting = _BY_NAME.get(key[len(ENV_PREFIX) :].lower())
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
            raise _from_variable(error, _BY_NAME[name].env_var) from None

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
