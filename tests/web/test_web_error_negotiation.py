"""Error bodies chosen by Accept: Vary: Accept, and RFC 9457 problem details."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from webtest import TestApp

from httpkit import Router


@pytest.fixture
def app(tmp_path: Path) -> TestApp:
    (tmp_path / "app.js").write_text("x")
    (tmp_path / "app.js.gz").write_bytes(b"gz")
    router = Router()
    router.add("/page", lambda request: "page")
    router.static("/s", str(tmp_path))
    return TestApp(router)


@pytest.mark.parametrize("accept", [None, "text/html", "application/json", "text/plain", "*/*"])
def test_negotiated_error_pages_vary_on_accept(app: TestApp, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    assert app.get("/missing", headers=headers, status=404).headers["Vary"] == "Accept"
    assert app.post("/page", headers=headers, status=405).headers["Vary"] == "Accept"


def test_problem_json_when_asked_for(app: TestApp) -> None:
    response = app.get("/missing", headers={"Accept": "application/problem+json"}, status=404)
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(response.body)
    assert problem["type"] == "about:blank"
    assert problem["status"] == 404
    assert problem["title"] == "Not Found"
    assert "/missing" in problem["detail"]


def test_plain_json_gets_the_same_members(app: TestApp) -> None:
    response = app.post("/page", headers={"Accept": "application/json"}, status=405)
    assert response.headers["Content-Type"] == "application/json"
    problem = json.loads(response.body)
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["allow"] == ["GET", "HEAD", "OPTIONS"]


def test_problem_json_preferred_by_q_value(app: TestApp) -> None:
    accept = "application/json;q=0.5, application/problem+json"
    response = app.get("/missing", headers={"Accept": accept}, status=404)
    assert response.headers["Content-Type"] == "application/problem+json"


def test_vary_of_a_static_416_keeps_accept_encoding(app: TestApp) -> None:
    response = app.get("/s/app.js", headers={"Range": "bytes=50-"}, status=416)
    assert response.headers["Vary"] == "Accept-Encoding, Accept"
