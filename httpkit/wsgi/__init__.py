"""The WSGI edge of the server (PEP 3333)."""
