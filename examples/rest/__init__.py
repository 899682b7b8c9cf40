"""A JSON REST API: method-based handler classes, validation, conditional PUT.

Run it from a checkout::

    httpkit serve examples.rest:app

and try ``curl -i localhost:8000/books -H 'Content-Type: application/json'
-d '{"title": "Dune", "author": "Frank Herbert", "year": 1965}'``.

* ``GET /books`` lists, ``POST /books`` creates (201, ``Location``, ``ETag``);
* ``GET /books/{id}`` reads (conditional GET gives 304), ``PUT`` replaces it and
  needs ``If-Match`` with the current ETag (428 without, 412 when stale: no lost
  updates), ``DELETE`` removes it;
* invalid data gets ``400`` with a JSON body naming each bad field; every error is
  JSON (``{"status", "title", "detail"}``).

The books live in memory (a dict behind a lock), so each process starts empty.
"""

from __future__ import annotations

from typing import Any

import webob
import webob.exc

from examples.rest.books import Book, BookStore, ValidationError, validate_book
from httpkit.web import Handler, Request, Router
from httpkit.web.conditional import Validators, evaluate_preconditions

__all__ = ["app", "make_app"]

JSON_TYPE = "application/json"


class BookHandler(Handler):
    """Base of the API's handlers; :func:`make_app` binds ``books`` in a subclass."""

    books: BookStore


class BookList(BookHandler):
    """``/books``: the collection."""

    def get(self, request: Request) -> dict[str, Any]:
        books = self.books.all()
        return {"books": [_with_link(request, book) for book in books], "count": len(books)}

    def post(self, request: Request) -> webob.Response:
        data = validate_book(_json_object(request))
        book = self.books.create(data)
        response = _json_response(_with_link(request, book), status=201)
        response.headers["Location"] = request.url_for("book", id=book.id, _qualified=True)
        response.headers["ETag"] = f'"{book.etag}"'
        return response


class BookItem(BookHandler):
    """``/books/{id}``: one book; the router answers 304/412 from ``etag()``."""

    def etag(self, request: Request, id: str) -> str | None:
        book = self.books.get(int(id))
        return None if book is None else book.etag

    def get(self, request: Request, id: str) -> dict[str, Any]:
        return _with_link(request, _found(self.books.get(int(id))))

    def put(self, request: Request, id: str) -> webob.Response:
        if "HTTP_IF_MATCH" not in request.environ:
            # RFC 6585 section 3: require the condition, so a client cannot overwrite
            # an edit it never saw.
            raise webob.exc.HTTPPreconditionRequired(
                "send If-Match with the ETag of the book you edited"
            )
        data = validate_book(_json_object(request))

        def still_current(current: Book) -> None:
            # Checked again under the store's lock: another PUT may have won meanwhile.
            validators = Validators(current.etag, None)
            if evaluate_preconditions(request.environ, "PUT", validators) is not None:
                raise webob.exc.HTTPPreconditionFailed("the book was changed by someone else")

        book = _found(self.books.replace(int(id), data, check=still_current))
        response = _json_response(_with_link(request, book))
        response.headers["ETag"] = f'"{book.etag}"'
        return response

    def delete(self, request: Request, id: str) -> None:
        if not self.books.delete(int(id)):
            raise webob.exc.HTTPNotFound("there is no such book")


def json_error(request: Request, error: BaseException) -> webob.Response:
    """Every HTTP error of the API as JSON, keeping headers such as ``Allow``."""
    http_error: Any = error
    if not isinstance(error, webob.exc.WSGIHTTPException):
        http_error = webob.exc.HTTPInternalServerError("the server could not answer")
    payload = {
        "status": http_error.code,
        "title": http_error.title,
        "detail": _detail(request, http_error),
    }
    if isinstance(http_error, ValidationError):
        payload["fields"] = http_error.fields
    response = _json_response(payload, status=http_error.code)
    for name in ("Allow", "Location"):
        if name in http_error.headers:
            response.headers[name] = http_error.headers[name]
    return response


def make_app() -> Router:
    """The API with its own empty store."""
    books = BookStore()
    router = Router(max_body=64 * 1024)
    router.collection(
        "/books",
        _bind(BookList, books),
        _bind(BookItem, books),
        name="books",
        member_name="book",
        requirement=r"\d{1,18}",
    )
    router.error_handler(webob.exc.HTTPError)(json_error)
    router.error_handler(500)(json_error)
    return router


def _bind(handler: type[BookHandler], books: BookStore) -> type[BookHandler]:
    # The router makes handlers with no arguments: the store rides on a subclass,
    # named like its base so that route tables and logs show the real class.
    attributes = {"books": books, "__module__": __name__, "__qualname__": handler.__qualname__}
    return type(handler.__name__, (handler,), attributes)


def _json_object(request: Request) -> dict[str, Any]:
    if request.content_type != JSON_TYPE:
        raise webob.exc.HTTPUnsupportedMediaType(f"send {JSON_TYPE}")
    data = request.json  # malformed JSON: 400 from the Request
    if not isinstance(data, dict):
        raise webob.exc.HTTPBadRequest("the body must be a JSON object")
    return data


def _json_response(payload: Any, status: int = 200) -> webob.Response:
    return webob.Response(status=status, json_body=payload, content_type=JSON_TYPE, charset=None)


def _with_link(request: Request, book: Book) -> dict[str, Any]:
    return {**book.as_json(), "href": request.url_for("book", id=book.id)}


def _found(book: Book | None) -> Book:
    if book is None:
        raise webob.exc.HTTPNotFound("there is no such book")
    return book


def _detail(request: Request, error: Any) -> str:
    if error.detail:
        return str(error.detail)
    if error.code == 405:
        return f"{request.method} is not allowed here; see the Allow header"
    return str(error.explanation)


app = make_app()
