"""The Routes-based dispatcher: a WSGI application."""
