"""The sans-IO HTTP/1.1 protocol core: bytes in, events out; responses framed to bytes."""
