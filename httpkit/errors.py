"""The error families of httpkit.

Every layer raises from here, so a caller can catch one family without knowing which
layer failed.  A :class:`ProtocolError` is the peer's fault and carries the HTTP status
to answer with; the connection is always closed after it.
"""

from __future__ import annotations

__all__ = ["ConfigError", "HttpkitError", "ProtocolError", "RequestBodyError", "ResponseError"]


class HttpkitError(Exception):
    """Base class of every error httpkit raises on purpose."""


class ProtocolError(HttpkitError):
    """The client sent something HTTP/1.1 does not allow.

    ``status`` is the response to send (400, 413, 414, 417, 431, 501, 505) before the
    connection is closed; the message is for logs and is safe to show the client.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status={self.status})"


class RequestBodyError(ProtocolError):
    """The request body broke a promise made for it, found while it was being read.

    ``status`` is 400 when the body ended before its ``Content-Length``, 413 when it
    went past the limit set for it.  :class:`httpkit.bodyreader.BodyReader` raises it;
    the router answers with that status, and any other caller may do the same.
    """


class ResponseError(HttpkitError):
    """The application (or the server on its behalf) tried to send an invalid response.

    Examples: a header value containing CR or LF, a malformed status line, more body
    bytes than the declared Content-Length.  Nothing invalid is ever put on the wire.
    """


class ConfigError(HttpkitError):
    """A setting has a bad value, or the application cannot be loaded.

    The command line prints the message as one line and exits non-zero.
    """
