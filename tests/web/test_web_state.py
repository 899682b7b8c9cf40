"""Handlers that need application state get it through functools.partial."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from webtest import TestApp

from httpkit import Handler, Router
from httpkit.web import format_route_table


class Store:
    def __init__(self) -> None:
        self.notes: dict[str, str] = {}


class Note(Handler):
    def __init__(self, store: Store, *, prefix: str = "") -> None:
        self.store = store
        self.prefix = prefix

    def etag(self, request: Any, id: str) -> str | None:
        note = self.store.notes.get(id)
        return None if note is None else f"{len(note)}"

    def get(self, request: Any, id: str) -> str:
        return self.prefix + self.store.notes[id]

    def put(self, request: Any, id: str) -> None:
        self.store.notes[id] = request.text


def test_partial_gives_each_instance_the_shared_state() -> None:
    store = Store()
    router = Router()
    router.add("/notes/{id}", functools.partial(Note, store, prefix="> "), name="note")
    app = TestApp(router)
    app.put("/notes/a", "hello", status=204)
    assert store.notes == {"a": "hello"}
    response = app.get("/notes/a")
    assert response.text == "> hello"
    # The validators run on the same instance, so they see the store too.
    assert response.headers["ETag"] == '"5"'
    app.get("/notes/a", headers={"If-None-Match": '"5"'}, status=304)


def test_two_routes_can_share_a_class_with_different_state() -> None:
    first, second = Store(), Store()
    first.notes["x"], second.notes["x"] = "one", "two"
    router = Router()
    router.add("/first/{id}", functools.partial(Note, first))
    router.add("/second/{id}", functools.partial(Note, second))
    app = TestApp(router)
    assert (app.get("/first/x").text, app.get("/second/x").text) == ("one", "two")


def test_partial_routes_work_in_collections_and_the_route_table() -> None:
    class Notes(Handler):
        def __init__(self, store: Store) -> None:
            self.store = store

        def get(self, request: Any) -> list[str]:
            return sorted(self.store.notes)

    store = Store()
    store.notes["b"] = "bee"
    router = Router()
    router.collection(
        "/notes", functools.partial(Notes, store), functools.partial(Note, store), name="notes"
    )
    assert TestApp(router).get("/notes").json == ["b"]
    # The table names the class, not functools.partial.
    member_line = format_route_table(router).splitlines()[2]
    assert member_line.startswith("notes_item ")
    assert member_line.endswith(".Note")


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (Note, r"Note\(\) cannot be called without arguments"),
        (functools.partial(Note, Store(), colour="red"), "arguments it does not take"),
        (functools.partial(Note, Store(), Store(), Store()), "arguments it does not take"),
        (functools.partial(dict, a=1), "not a subclass of httpkit.Handler"),
    ],
    ids=["missing-argument", "unknown-keyword", "too-many", "not-a-handler"],
)
def test_handler_that_cannot_be_made_is_refused_at_add(handler: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Router().add("/notes/{id}", handler)
