"""The table of every server setting: name, type, default and help, one row each.

The command line (``httpkit serve --help``), the ``HTTPKIT_*`` environment variables,
the keyword arguments of :func:`httpkit.serve` and the settings page of the documentation
are all generated from :data:`SETTINGS`, in its order, so they cannot drift apart.  A row
says what one setting accepts on its own; rules between settings are in
:mod:`httpkit.config.checks`.
"""

from __future__ import annotations

from httpkit.setting import Setting

__all__ = ["LOG_LEVELS", "SETTINGS", "SETTINGS_BY_NAME"]

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
        "Path the application is mounted under (WSGI SCRIPT_NAME, ASGI root_path), e.g. /app;"
        " a request outside it gets 404.",
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
        "instead of a reset (RFC 9112 9.6); and seconds a connection the server closed, "
        "its response all written, waits for the client's TLS close_notify before it is "
        "cut.",
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

SETTINGS_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
