"""Conditional requests (RFC 9110 section 13): 304 and 412 for each precondition."""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Any

import pytest
import webob
import webob.exc
from webtest import TestApp

from httpkit import Handler, Router
from httpkit.web import check_preconditions

MODIFIED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
BEFORE = "Tue, 30 Apr 2024 12:00:00 GMT"
AT = "Wed, 01 May 2024 12:00:00 GMT"
AFTER = "Thu, 02 May 2024 12:00:00 GMT"


class Document:
    def __init__(self) -> None:
        self.version = 1
        self.calls: list[str] = []


def make_app(document: Document) -> TestApp:
    class Entry(Handler):
        def etag(self, request: Any) -> str | None:
            return None if document.version == 0 else f"v{document.version}"

        def last_modified(self, request: Any) -> datetime | None:
            return None if document.version == 0 else MODIFIED

        def get(self, request: Any) -> str:
            document.calls.append("get")
            return f"version {document.version}"

        def put(self, request: Any) -> str:
            document.calls.append("put")
            document.version += 1
            return "saved"

    router = Router()
    router.add("/doc", Entry)
    return TestApp(router)


@pytest.fixture
def document() -> Document:
    return Document()


def test_get_carries_etag_and_last_modified(document: Document) -> None:
    response = make_app(document).get("/doc")
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Last-Modified"] == AT


def test_if_none_match_gives_304_on_get(document: Document) -> None:
    response = make_app(document).get("/doc", headers={"If-None-Match": '"v1"'}, status=304)
    assert response.headers["ETag"] == '"v1"'
    assert document.calls == []


def test_if_none_match_weak_comparison(document: Document) -> None:
    make_app(document).get("/doc", headers={"If-None-Match": 'W/"v1", "x"'}, status=304)


def test_if_none_match_other_tag_runs_get(document: Document) -> None:
    make_app(document).get("/doc", headers={"If-None-Match": '"v0"'}, status=200)


def test_if_none_match_gives_412_on_put(document: Document) -> None:
    make_app(document).put("/doc", headers={"If-None-Match": "*"}, status=412)
    assert document.calls == []


def test_if_none_match_star_allows_create_when_missing(document: Document) -> None:
    document.version = 0
    make_app(document).put("/doc", headers={"If-None-Match": "*"}, status=200)


def test_if_modified_since_gives_304(document: Document) -> None:
    make_app(document).get("/doc", headers={"If-Modified-Since": AT}, status=304)


def test_if_modified_since_earlier_runs_get(document: Document) -> None:
    make_app(document).get("/doc", headers={"If-Modified-Since": BEFORE}, status=200)


def test_if_modified_since_ignored_with_if_none_match(document: Document) -> None:
    headers = {"If-None-Match": '"other"', "If-Modified-Since": AFTER}
    make_app(document).get("/doc", headers=headers, status=200)


def test_invalid_date_is_ignored(document: Document) -> None:
    make_app(document).get("/doc", headers={"If-Modified-Since": "yesterday"}, status=200)


def test_if_match_current_tag_lets_put_through(document: Document) -> None:
    response = make_app(document).put("/doc", headers={"If-Match": '"v1"'})
    assert response.text == "saved"
    # The response describes the resource after the edit.
    assert response.headers["ETag"] == '"v2"'


def test_if_match_stale_tag_gives_412(document: Document) -> None:
    make_app(document).put("/doc", headers={"If-Match": '"v0"'}, status=412)
    assert document.calls == []
    assert document.version == 1


def test_if_match_weak_tag_never_matches(document: Document) -> None:
    make_app(document).put("/doc", headers={"If-Match": 'W/"v1"'}, status=412)


def test_if_match_gives_412_on_get_too(document: Document) -> None:
    make_app(document).get("/doc", headers={"If-Match": '"nope"'}, status=412)


def test_if_match_star_fails_when_resource_missing(document: Document) -> None:
    document.version = 0

    class Missing(Handler):
        def etag(self, request: Any) -> None:
            return None

        def put(self, request: Any) -> str:
            return "created"

    router = Router()
    router.add("/doc", Missing)
    TestApp(router).put("/doc", headers={"If-Match": "*"}, status=412)


def test_if_unmodified_since_earlier_gives_412(document: Document) -> None:
    make_app(document).put("/doc", headers={"If-Unmodified-Since": BEFORE}, status=412)
    assert document.calls == []


def test_if_unmodified_since_later_lets_put_through(document: Document) -> None:
    make_app(document).put("/doc", headers={"If-Unmodified-Since": AFTER}, status=200)


def test_if_match_takes_precedence_over_if_unmodified_since(document: Document) -> None:
    headers = {"If-Match": '"v1"', "If-Unmodified-Since": BEFORE}
    make_app(document).put("/doc", headers=headers, status=200)


def test_handler_without_validators_ignores_preconditions() -> None:
    class Plain(Handler):
        def put(self, request: Any) -> str:
            return "ok"

    router = Router()
    router.add("/p", Plain)
    TestApp(router).put("/p", headers={"If-Match": '"x"'}, status=200)


def test_validator_returning_garbage_is_a_500() -> None:
    class Bad(Handler):
        def etag(self, request: Any) -> int:
            return 5

        def get(self, request: Any) -> str:
            return "x"

    router = Router()
    router.add("/b", Bad)
    TestApp(router).get("/b", status=500)


def test_validator_raising_404_wins_over_preconditions() -> None:

    class Gone(Handler):
        def etag(self, request: Any) -> str:
            raise webob.exc.HTTPNotFound()

        def put(self, request: Any) -> str:
            return "never"

    router = Router()
    router.add("/gone", Gone)
    TestApp(router).put("/gone", headers={"If-Match": '"x"'}, status=404)


def test_validators_are_not_put_on_error_responses() -> None:
    class Refusing(Handler):
        def etag(self, request: Any) -> str:
            return "v1"

        def put(self, request: Any) -> webob.Response:
            return webob.Response("conflict", status=409)

    router = Router()
    router.add("/r", Refusing)
    response = TestApp(router).put("/r", status=409)
    assert "ETag" not in response.headers


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
@pytest.mark.parametrize(
    "make_reply",
    [
        lambda: webob.exc.HTTPBadRequest("bad field"),
        lambda: webob.Response("invalid", status=400),
        lambda: webob.Response(status=303, location="/elsewhere"),
        lambda: webob.Response("gone", status=410, last_modified=None),
    ],
    ids=["returned-exception", "returned-400", "returned-303", "returned-410"],
)
def test_returned_non_success_responses_carry_no_validators(method: str, make_reply: Any) -> None:
    class Validated(Handler):
        def etag(self, request: Any) -> str:
            return "v1"

        def last_modified(self, request: Any) -> datetime:
            return MODIFIED

        def get(self, request: Any) -> webob.Response:
            return make_reply()

        put = post = delete = get

    router = Router()
    router.add("/r", Validated)
    response = TestApp(router).request("/r", method=method, expect_errors=True)
    assert response.status_int >= 300
    assert "ETag" not in response.headers
    assert "Last-Modified" not in response.headers


def test_successful_unsafe_method_describes_the_new_state() -> None:
    document = Document()
    response = make_app(document).put("/doc", b"new")
    assert response.headers["ETag"] == '"v2"'


class Locked(Handler):
    """Re-checks the preconditions against the state it is about to change."""

    def __init__(self, document: Document) -> None:
        self.document = document

    def get(self, request: Any) -> str:
        check_preconditions(request, etag=f"v{self.document.version}", last_modified=MODIFIED)
        return "current"

    def put(self, request: Any) -> str:
        # Someone else wrote between the router's check and this handler's transaction.
        self.document.version += 1
        check_preconditions(request, etag=f"v{self.document.version}")
        self.document.calls.append("written")
        return "written"


def locked_app(document: Document) -> TestApp:
    router = Router()
    router.add("/doc", functools.partial(Locked, document))
    return TestApp(router)


def test_check_preconditions_inside_the_handler_refuses_a_stale_write() -> None:
    document = Document()
    response = locked_app(document).put("/doc", headers={"If-Match": '"v1"'}, status=412)
    assert "changed" in response.text
    assert document.calls == []
    locked_app(document).put("/doc", headers={"If-Match": '"v3"'}, status=200)
    assert document.calls == ["written"]


def test_check_preconditions_answers_304_with_the_validators() -> None:
    app = locked_app(Document())
    response = app.get("/doc", headers={"If-None-Match": '"v1"'}, status=304)
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Last-Modified"] == AT
    assert response.body == b""
    app.get("/doc", headers={"If-Modified-Since": AT}, status=304)
    assert app.get("/doc", headers={"If-None-Match": '"v0"'}).text == "current"


def test_check_preconditions_without_validators_means_no_resource() -> None:
    request = webob.Request.blank("/x", method="PUT", headers={"If-Match": "*"})
    with pytest.raises(webob.exc.HTTPPreconditionFailed):
        check_preconditions(request)
    check_preconditions(request, etag="exists")
    creating = webob.Request.blank("/x", method="PUT", headers={"If-None-Match": "*"})
    check_preconditions(creating)
    with pytest.raises(webob.exc.HTTPPreconditionFailed):
        check_preconditions(creating, etag="exists")


@pytest.mark.parametrize("bad", ['"a",', 'W/"a" ', '"a" "b"', 'x"y'])
def test_malformed_entity_tags_are_refused(bad: str) -> None:
    request = webob.Request.blank("/x")
    with pytest.raises(ValueError, match="not a valid entity tag"):
        check_preconditions(request, etag=bad)
