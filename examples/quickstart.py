"""The quickstart of README.rst and docs/quickstart.rst, as a runnable module.

Run it with ``httpkit serve examples.quickstart:router`` and try::

    curl http://127.0.0.1:8000/hello/world
    curl -X PUT -H 'Content-Type: application/json' -d '{"text": "hi"}' \\
         http://127.0.0.1:8000/notes/1
    curl -i http://127.0.0.1:8000/notes/1
"""

from __future__ import annotations

import hashlib
from typing import Any

from webob import Request
from webob.exc import HTTPBadRequest, HTTPNotFound

from httpkit import Handler, Router

NOTES: dict[int, str] = {}


def hello(request: Request, name: str) -> str:
    return f"Hello, {name}!"


class Note(Handler):
    """One note: GET, PUT and DELETE, with an ETag so that edits can be conditional."""

    def etag(self, request: Request, id: str) -> str | None:
        text = NOTES.get(int(id))
        return None if text is None else hashlib.sha1(text.encode()).hexdigest()

    def get(self, request: Request, id: str) -> dict[str, Any]:
        if int(id) not in NOTES:
            raise HTTPNotFound()
        return {"id": int(id), "text": NOTES[int(id)]}

    def put(self, request: Request, id: str) -> dict[str, Any]:
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            # The router words the error as HTML, JSON or text, as the client's Accept asks.
            raise HTTPBadRequest('the body must be a JSON object with a string "text"')
        NOTES[int(id)] = body["text"]
        return {"id": int(id), "text": body["text"]}

    def delete(self, request: Request, id: str) -> None:
        if NOTES.pop(int(id), None) is None:
            raise HTTPNotFound()


router = Router()
router.add("/hello/{name}", hello, name="hello")
router.add(r"/notes/{id:\d+}", Note, name="note")
