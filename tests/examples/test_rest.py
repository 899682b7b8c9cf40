"""The REST example: a JSON API with validation errors and conditional PUT."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from webtest import TestApp

from examples.rest import make_app
from httpkit.testing import live_server

DUNE = {"title": "Dune", "author": "Frank Herbert", "year": 1965, "tags": ["sf"]}


@pytest.fixture
def client() -> TestApp:
    return TestApp(make_app())


def create(client: TestApp, book: dict[str, Any] = DUNE) -> Any:
    return client.post_json("/books", book, status=201)


def test_create_then_read_and_list(client: TestApp) -> None:
    created = create(client)
    assert created.headers["Location"] == "http://localhost/books/1"
    assert created.json["href"] == "/books/1"
    book = client.get("/books/1")
    assert book.json == {**DUNE, "id": 1, "href": "/books/1"}
    assert book.headers["ETag"] == created.headers["ETag"]
    listing = client.get("/books").json
    assert listing["count"] == 1
    assert listing["books"][0]["title"] == "Dune"


@pytest.mark.parametrize(
    ("book", "bad_fields"),
    [
        ({"author": "A"}, {"title"}),
        ({"title": " ", "author": "A"}, {"title"}),
        ({"title": "T", "author": "A", "year": "1965"}, {"year"}),
        ({"title": "T", "author": "A", "year": True}, {"year"}),
        ({"title": "T", "author": "A", "tags": "sf"}, {"tags"}),
        ({"title": "T", "author": "A", "isbn": "x"}, {"isbn"}),
        ({"title": 5, "author": None, "year": 99999}, {"title", "author", "year"}),
    ],
)
def test_validation_errors_are_400_with_json_fields(
    client: TestApp, book: dict[str, Any], bad_fields: set[str]
) -> None:
    response = client.post_json("/books", book, status=400)
    assert response.content_type == "application/json"
    assert set(response.json["fields"]) == bad_fields
    assert client.get("/books").json["count"] == 0


def test_malformed_json_and_wrong_types_are_json_errors(client: TestApp) -> None:
    broken = client.post("/books", "{", headers={"Content-Type": "application/json"}, status=400)
    assert "not valid JSON" in broken.json["detail"]
    not_object = client.post_json("/books", [1, 2], status=400)
    assert "JSON object" in not_object.json["detail"]
    client.post("/books", "title=x", status=415)
    missing = client.get("/books/99", status=404)
    assert missing.json["status"] == 404
    not_allowed = client.delete("/books", status=405)
    assert not_allowed.headers["Allow"] == "GET, HEAD, POST, OPTIONS"
    assert not_allowed.json["title"] == "Method Not Allowed"


def test_put_needs_a_current_if_match(client: TestApp) -> None:
    etag = create(client).headers["ETag"]
    changed = {**DUNE, "title": "Dune Messiah", "year": 1969}
    client.put_json("/books/1", changed, status=428)
    client.put_json("/books/1", changed, headers={"If-Match": '"book-1-r9"'}, status=412)
    updated = client.put_json("/books/1", changed, headers={"If-Match": etag})
    assert updated.json["title"] == "Dune Messiah"
    assert updated.headers["ETag"] != etag
    # The first ETag is stale now: a second client editing from it is refused.
    client.put_json("/books/1", DUNE, headers={"If-Match": etag}, status=412)
    assert client.get("/books/1").json["title"] == "Dune Messiah"


def test_conditional_get_and_delete(client: TestApp) -> None:
    etag = create(client).headers["ETag"]
    client.get("/books/1", headers={"If-None-Match": etag}, status=304)
    client.delete("/books/1", status=204)
    client.get("/books/1", status=404)
    client.delete("/books/1", status=404)


def test_concurrent_puts_from_one_etag_only_one_wins() -> None:
    with live_server(make_app(), threads=4) as server:
        with httpx.Client(base_url=server.url, timeout=5) as http:
            etag = http.post("/books", json=DUNE).headers["ETag"]
        statuses: list[int] = []
        barrier = threading.Barrier(4, timeout=5)

        def edit(number: int) -> None:
            with httpx.Client(base_url=server.url, timeout=5) as own:
                barrier.wait()
                book = {**DUNE, "title": f"Edit {number}"}
                statuses.append(
                    own.put("/books/1", json=book, headers={"If-Match": etag}).status_code
                )

        threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert sorted(statuses) == [200, 412, 412, 412]
