"""Building the PEP 3333 ``environ`` of one request."""

from __future__ import annotations

import sys
from urllib.parse import unquote_to_bytes

from httpkit.bodyreader import BodyReader
from httpkit.server.contract import FileBody
from httpkit.server.contract import HandlerExchange as Exchange
from httpkit.server.info import ConnectionInfo
from httpkit.wsgitypes import Environ

__all__ = ["base_environ", "build_environ", "connection_environ"]

# Header name -> environ key ("user-agent" -> "HTTP_USER_AGENT"), memoised for the names
# clients really send; bounded so that random names cannot grow it without limit.
_KEYS: dict[str, str] = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
_MAX_KEYS = 512


def base_environ(url_prefix: str, multithread: bool, multiprocess: bool = False) -> Environ:
    """The keys that are the same for every request a server handles."""
    return {
        "SCRIPT_NAME": url_prefix,
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": multithread,
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,  # reads stop at the body's end, chunked or not
        "wsgi.file_wrapper": FileBody,
    }


def connection_environ(base: Environ, info: ConnectionInfo) -> Environ:
    """``base`` and the keys that are the same for every request on one connection."""
    environ = base.copy()
    environ["SERVER_NAME"] = info.server_host
    environ["SERVER_PORT"] = str(info.server_port)
    environ["REMOTE_ADDR"] = info.peer_host
    environ["REMOTE_PORT"] = str(info.peer_port)
    environ["wsgi.url_scheme"] = info.url_scheme
    if info.client_subject:  # mod_ssl's name for it, which applications already read
        environ["SSL_CLIENT_S_DN"] = info.client_subject
        environ["SSL_CLIENT_I_DN"] = info.client_issuer
    return environ


def build_environ(exchange: Exchange, base: Environ, path: str, query: str) -> Environ:
    """The environ of one request; ``path`` is the decoded path below the URL prefix."""
    request = exchange.request
    info: ConnectionInfo = exchange.connection
    # Built once per connection (per request behind a proxy, whose info is per request).
    cached = info.handler_cache
    if type(cached) is not tuple or cached[0] is not base:
        cached = info.handler_cache = (base, connection_environ(base, info))
    environ: Environ = cached[1].copy()
    environ["REQUEST_METHOD"] = request.method
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = query
    environ["SERVER_PROTOCOL"] = "HTTP/" + request.http_version
    environ["wsgi.input"] = BodyReader(exchange)
    environ["httpkit.stream"] = exchange  # open_stream(), pause_body(): event streams
    keys = _KEYS
    for name, value in request.headers:
        key = keys.get(name)
        if key is None:
            if "_" in name:
                # "X_Forwarded_For" would become the same key as "X-Forwarded-For" and
                # could spoof it behind a proxy that only strips the dashed spelling.
                continue
            key = "HTTP_" + name.upper().replace("-", "_")
            if len(keys) < _MAX_KEYS:
                keys[name] = key
        if key in environ:
            # RFC 9110 5.3: repeated fields join with commas; cookies with "; " (RFC 6265 5.4).
            separator = "; " if key == "HTTP_COOKIE" else ", "
            environ[key] += separator + value
        else:
            environ[key] = value
    if "CONTENT_LENGTH" in environ:
        # The number the parser framed the body by, not the field as sent: "5, 5" or two
        # "5" lines are one valid length (RFC 9110 8.6) that applications cannot read.
        length = request.content_length
        if length is None:  # chunked: the length is unknown; read to b""
            del environ["CONTENT_LENGTH"]
        else:
            environ["CONTENT_LENGTH"] = str(length)
    return environ


def decode_path(path: str) -> str:
    """Percent-decode a path to a latin-1 str, one character per byte (PEP 3333)."""
    if "%" not in path:
        return path
    return unquote_to_bytes(path).decode("latin-1")
