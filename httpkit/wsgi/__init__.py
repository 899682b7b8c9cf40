"""The WSGI edge of the server (PEP 3333): environ, input stream, start_response."""

from httpkit.wsgi.handler import WSGIApp, WSGIHandler, parse_status
from httpkit.wsgi.input import InputStream
from httpkit.wsgi.loader import load_app

__all__ = ["InputStream", "WSGIApp", "WSGIHandler", "load_app", "parse_status"]
