"""The REST example's data: validation of a book, and an in-memory store with ETags."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import webob.exc

__all__ = ["Book", "BookStore", "ValidationError", "validate_book"]

MAX_TEXT = 200
MAX_TAGS = 20
YEAR_RANGE = (-3000, 2100)
FIELDS = ("title", "author", "year", "tags")


class ValidationError(webob.exc.HTTPBadRequest):  # type: ignore[misc]
    """400 with one message per invalid field (rendered as JSON by the API)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("the book is not valid")
        self.fields = fields


@dataclass(frozen=True)
class Book:
    id: int
    title: str
    author: str
    year: int | None
    tags: tuple[str, ...]
    revision: int

    @property
    def etag(self) -> str:
        return f"book-{self.id}-r{self.revision}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "author": self.author,
            "year": self.year,
            "tags": list(self.tags),
        }


def validate_book(data: dict[str, Any]) -> dict[str, Any]:
    """The book's fields, checked; :class:`ValidationError` lists every problem."""
    errors: dict[str, str] = {}
    for name in data:
        if name not in FIELDS and name not in ("id", "href"):
            errors[name] = "unknown field"
    clean: dict[str, Any] = {}
    for name in ("title", "author"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[name] = "required, a non-empty string"
        elif len(value) > MAX_TEXT:
            errors[name] = f"at most {MAX_TEXT} characters"
        else:
            clean[name] = value.strip()
    year = data.get("year")
    # bool is an int in Python, but true is not a year.
    if year is not None and (
        not isinstance(year, int) or isinstance(year, bool) or not _in_range(year)
    ):
        errors["year"] = f"an integer from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}, or null"
    clean["year"] = year
    tags = data.get("tags", [])
    if (
        not isinstance(tags, list)
        or len(tags) > MAX_TAGS
        or not all(isinstance(tag, str) and 0 < len(tag) <= MAX_TEXT for tag in tags)
    ):
        errors["tags"] = f"a list of at most {MAX_TAGS} non-empty strings"
    else:
        clean["tags"] = tuple(tags)
    if errors:
        raise ValidationError(errors)
    return clean


def _in_range(year: int) -> bool:
    return YEAR_RANGE[0] <= year <= YEAR_RANGE[1]


class BookStore:
    """Books by id, safe to share between the server's threads."""

    def __init__(self) -> None:
        self._books: dict[int, Book] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def all(self) -> list[Book]:
        with self._lock:
            return sorted(self._books.values(), key=lambda book: book.id)

    def get(self, book_id: int) -> Book | None:
        with self._lock:
            return self._books.get(book_id)

    def create(self, data: dict[str, Any]) -> Book:
        with self._lock:
            book = Book(id=self._next_id, revision=1, **data)
            self._books[book.id] = book
            self._next_id += 1
            return book

    def replace(
        self, book_id: int, data: dict[str, Any], check: Callable[[Book], None]
    ) -> Book | None:
        """Replace a book if ``check(current)`` does not raise; None if it is gone."""
        with self._lock:
            current = self._books.get(book_id)
            if current is None:
                return None
            check(current)
            book = Book(id=book_id, revision=current.revision + 1, **data)
            self._books[book_id] = book
            return book

    def delete(self, book_id: int) -> bool:
        with self._lock:
            return self._books.pop(book_id, None) is not None
