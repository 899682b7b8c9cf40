"""The Router that tests/web/test_web_servers.py serves with real WSGI servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from httpkit import Handler, Router

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "live_static")


class Entry(Handler):
    def etag(self, request: Any, id: str) -> str:
        return f"entry-{id}-v1"

    def get(self, request: Any, id: str) -> dict[str, Any]:
        return {"id": int(id), "self": request.url_for("entry", id=id)}

    def put(self, request: Any, id: str) -> str:
        return f"stored {len(request.body)} bytes"


def numbers(request: Any, count: str) -> Iterator[str]:
    for number in range(int(count)):
        yield f"{number}\n"


def hello(request: Any, name: str) -> str:
    return f"Hello, {name}!"


def count_lines(request: Any) -> dict[str, int]:
    # Reads the server's stream itself (not request.body): line by line, as a file.
    lines = list(request.environ["wsgi.input"])
    return {"lines": len(lines), "bytes": sum(map(len, lines))}


# A router of its own, mounted: its max_body holds whatever the server's stream is.
limited = Router(max_body=4096)
limited.add("/lines", count_lines, methods=["POST"])


app = Router()
app.add(r"/entries/{id:\d+}", Entry, name="entry")
app.add(r"/numbers/{count:\d+}", numbers)
app.add("/hello/{name}", hello)
app.static("/static", STATIC_DIR)
app.mount("/limited", limited)
