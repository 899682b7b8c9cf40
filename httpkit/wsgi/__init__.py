"""The WSGI edge of the server (PEP 3333): environ, input stream, start_response."""

from httpkit.bodyreader import BodyReader
from httpkit.wsgi.handler import WSGIHandler, parse_status
from httpkit.wsgi.loader import load_app
from httpkit.wsgitypes import StartResponse, WSGIApp

InputStream = BodyReader  # ``wsgi.input``'s type under its former name

__all__ = [
    "BodyReader",
    "InputStream",
    "StartResponse",
    "WSGIApp",
    "WSGIHandler",
    "load_app",
    "parse_status",
]
