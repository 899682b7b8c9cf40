"""Error handlers for expected exceptions (``expected=True``): answered without a
traceback in the log; unexpected ones keep theirs.  An error handler may raise a
``webob.exc`` error to answer with it."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import webob
import webob.exc
from webtest import TestApp

from httpkit import Router
from httpkit.testing import live_server


class DatabaseDownError(Exception):
    pass


class ReplicaDownError(DatabaseDownError):
    pass


def make_router(error: type[Exception] = DatabaseDownError) -> Router:
    router = Router()

    def entries(request: Any) -> str:
        raise error("no route to 10.0.0.5")

    router.add("/entries", entries)
    return router


def quiet_503(router: Router, key: type[Exception] = DatabaseDownError) -> None:
    @router.error_handler(key, expected=True)
    def database_down(request: Any, error: Exception) -> None:
        raise webob.exc.HTTPServiceUnavailable(
            "The database is down; try again later.", headers=[("Retry-After", "30")]
        )


def test_an_expected_error_is_answered_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = make_router()
    quiet_503(router)
    with caplog.at_level(logging.DEBUG, logger="httpkit.web"):
        response = TestApp(router).get(
            "/entries", headers={"Accept": "application/json"}, status=503
        )
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Vary"] == "Accept"
    assert response.json["detail"] == "The database is down; try again later."
    records = [record for record in caplog.records if record.name == "httpkit.web"]
    assert len(records) == 1
    assert records[0].levelno == logging.DEBUG and records[0].exc_info is None
    assert records[0].getMessage() == (
        "GET /entries raised DatabaseDownError (expected): no route to 10.0.0.5"
    )


def test_an_expected_handler_may_return_its_own_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = make_router()

    @router.error_handler(DatabaseDownError, expected=True)
    def database_down(request: Any, error: Exception) -> webob.Response:
        return webob.Response(b"later", status=503, content_type="text/plain")

    with caplog.at_level(logging.INFO, logger="httpkit.web"):
        assert TestApp(router).get("/entries", status=503).text == "later"
    assert caplog.records == []


def test_by_default_an_exception_types_handler_logs_the_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = make_router()

    @router.error_handler(DatabaseDownError)
    def database_down(request: Any, error: Exception) -> webob.Response:
        return webob.Response(b"later", status=503, content_type="text/plain")

    with caplog.at_level(logging.ERROR, logger="httpkit.web"):
        TestApp(router).get("/entries", status=503)
    (record,) = caplog.records
    assert record.exc_info is not None and "Traceback" in caplog.text


def test_subclasses_are_expected_unless_registered_otherwise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = make_router(ReplicaDownError)
    quiet_503(router)
    with caplog.at_level(logging.ERROR, logger="httpkit.web"):
        TestApp(router).get("/entries", status=503)
    assert caplog.records == []

    @router.error_handler(ReplicaDownError)  # nearer in the MRO, and not expected
    def replica_down(request: Any, error: Exception) -> webob.Response:
        return webob.Response(b"replica", status=503, content_type="text/plain")

    with caplog.at_level(logging.ERROR, logger="httpkit.web"):
        TestApp(router).get("/entries", status=503)
    assert "Traceback" in caplog.text


def test_registering_again_without_expected_restores_the_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = make_router()
    quiet_503(router)
    router.error_handler(DatabaseDownError)(lambda request, error: webob.Response(status=503))
    with caplog.at_level(logging.ERROR, logger="httpkit.web"):
        TestApp(router).get("/entries", status=503)
    assert "Traceback" in caplog.text


def test_expected_is_only_for_exception_types() -> None:
    with pytest.raises(ValueError, match="expected=True is for an exception type"):
        Router().error_handler(503, expected=True)


def test_a_status_handler_may_answer_with_another_http_error() -> None:
    router = Router()

    @router.error_handler(404)
    def moved(request: Any, error: Exception) -> None:
        raise webob.exc.HTTPPermanentRedirect(location="/new" + request.path)

    response = TestApp(router).get("/old", status=308)
    assert response.headers["Location"].endswith("/new/old")


def test_a_real_server_answers_503_and_logs_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = make_router()
    quiet_503(router)
    with caplog.at_level(logging.INFO), live_server(router) as server:
        response = httpx.get(f"{server.url}/entries", timeout=10)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "Traceback" not in caplog.text and "DatabaseDownError" not in caplog.text
