"""Static files: types, ETag/304, Range, index files, traversal and symlink escapes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import webob.exc
from webtest import TestApp

from httpkit import Router
from httpkit.web import StaticFiles

CONTENT = b"0123456789abcdefghij"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / "docs").mkdir(parents=True)
    (root / "data.bin").write_bytes(CONTENT)
    (root / "style.css").write_text("body { color: red }")
    (root / "notes.unknownext").write_text("<script>alert(1)</script>")
    (root / "docs" / "index.html").write_text("<h1>docs</h1>")
    (root / "empty").mkdir()
    (tmp_path / "secret.txt").write_text("top secret")
    return root


def make_app(site: Path, **options: object) -> TestApp:
    router = Router()
    router.static("/static", str(site), name="static", **options)  # type: ignore[arg-type]
    router.add("/link", lambda request: request.url_for("static", path="style.css"))
    return TestApp(router)


def test_file_is_served_with_its_type_and_length(site: Path) -> None:
    response = make_app(site).get("/static/style.css")
    assert response.headers["Content-Type"].startswith("text/css")
    assert response.text == "body { color: red }"
    assert response.headers["Content-Length"] == str(len("body { color: red }"))


def test_unknown_type_is_octet_stream_not_html(site: Path) -> None:
    response = make_app(site).get("/static/notes.unknownext")
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_etag_and_if_none_match_give_304(site: Path) -> None:
    app = make_app(site)
    etag = app.get("/static/data.bin").headers["ETag"]
    response = app.get("/static/data.bin", headers={"If-None-Match": etag}, status=304)
    assert response.body == b""


def test_changed_file_gets_a_new_etag(site: Path) -> None:
    app = make_app(site)
    before = app.get("/static/data.bin").headers["ETag"]
    stat = (site / "data.bin").stat()
    (site / "data.bin").write_bytes(CONTENT + b"!")
    os.utime(site / "data.bin", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    response = app.get("/static/data.bin", headers={"If-None-Match": before}, status=200)
    assert response.headers["ETag"] != before


def test_if_modified_since_gives_304(site: Path) -> None:
    app = make_app(site)
    last_modified = app.get("/static/data.bin").headers["Last-Modified"]
    app.get("/static/data.bin", headers={"If-Modified-Since": last_modified}, status=304)


def test_range_request_gives_206_with_the_slice(site: Path) -> None:
    response = make_app(site).get("/static/data.bin", headers={"Range": "bytes=5-9"}, status=206)
    assert response.body == CONTENT[5:10]
    assert response.headers["Content-Range"] == f"bytes 5-9/{len(CONTENT)}"


def test_suffix_range(site: Path) -> None:
    response = make_app(site).get("/static/data.bin", headers={"Range": "bytes=-3"}, status=206)
    assert response.body == CONTENT[-3:]


def test_unsatisfiable_range_is_416(site: Path) -> None:
    make_app(site).get("/static/data.bin", headers={"Range": "bytes=100-200"}, status=416)


def test_accept_ranges_is_advertised(site: Path) -> None:
    assert make_app(site).get("/static/data.bin").headers["Accept-Ranges"] == "bytes"


def test_head_has_length_but_no_body(site: Path) -> None:
    response = make_app(site).head("/static/data.bin")
    assert response.body == b""
    assert response.headers["Content-Length"] == str(len(CONTENT))


def test_directory_serves_its_index(site: Path) -> None:
    assert make_app(site).get("/static/docs/").text == "<h1>docs</h1>"


def test_directory_without_slash_redirects(site: Path) -> None:
    response = make_app(site).get("/static/docs", status=308)
    assert response.headers["Location"].endswith("/static/docs/")


def test_directory_without_index_is_404(site: Path) -> None:
    make_app(site).get("/static/empty/", status=404)


def test_missing_file_is_404(site: Path) -> None:
    make_app(site).get("/static/nope.txt", status=404)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/docs/../../secret.txt",
        "/static/..%2fsecret.txt",
        "/static/%00secret.txt",
        "/static/..%5csecret.txt",
    ],
)
def test_traversal_is_refused(site: Path, path: str) -> None:
    response = make_app(site).get(path, expect_errors=True)
    assert response.status_int in (400, 404)
    assert b"top secret" not in response.body


def test_symlink_out_of_the_root_is_refused(site: Path) -> None:
    (site / "escape.txt").symlink_to(site.parent / "secret.txt")
    (site / "outside").symlink_to(site.parent)
    app = make_app(site)
    app.get("/static/escape.txt", status=404)
    app.get("/static/outside/secret.txt", status=404)


def test_symlink_inside_the_root_is_followed(site: Path) -> None:
    (site / "alias.css").symlink_to(site / "style.css")
    assert make_app(site).get("/static/alias.css").text == "body { color: red }"


def test_cache_control_setting(site: Path) -> None:
    app = make_app(site, cache_control="public, max-age=60")
    assert app.get("/static/style.css").headers["Cache-Control"] == "public, max-age=60"


def test_only_get_and_head(site: Path) -> None:
    app = make_app(site)
    assert app.post("/static/style.css", status=405).headers["Allow"] == "GET, HEAD, OPTIONS"
    assert app.options("/static/style.css", status=204).headers["Allow"] == "GET, HEAD, OPTIONS"


def test_url_for_a_static_file(site: Path) -> None:
    assert make_app(site).get("/link").text == "/static/style.css"


def test_missing_directory_is_refused_at_setup(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        StaticFiles(str(tmp_path / "nope"))


def _router_with_handlers(site: Path) -> Router:
    router = Router()
    router.static("/static", str(site))
    router.mount("/foreign", StaticFiles(str(site)))

    @router.error_handler(404)
    def not_found(request: Any, error: Exception) -> str:
        return f"custom 404 for {request.path}"

    @router.error_handler(405)
    def not_allowed(request: Any, error: Exception) -> str:
        return f"custom 405, allowed: {error.headers['Allow']}"  # type: ignore[attr-defined]

    return router


def test_missing_static_file_uses_the_routers_404_handler(site: Path) -> None:
    app = TestApp(_router_with_handlers(site))
    response = app.get("/static/absent.css", status=404)
    assert response.text == "custom 404 for /static/absent.css"
    # A traversal attempt is a 404 like any other.
    assert app.get("/static/docs/../../secret.txt", status=404).text.startswith("custom 404")


def test_static_405_uses_the_routers_handler_and_keeps_allow(site: Path) -> None:
    response = TestApp(_router_with_handlers(site)).post("/static/style.css", status=405)
    assert response.text == "custom 405, allowed: GET, HEAD, OPTIONS"
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_error_handler_by_exception_type_sees_static_errors(site: Path) -> None:
    router = Router()
    router.static("/static", str(site))
    router.error_handler(webob.exc.HTTPNotFound)(lambda request, error: {"missing": True})
    assert TestApp(router).get("/static/nope", status=404).json == {"missing": True}


def test_mounted_app_still_answers_for_itself(site: Path) -> None:
    response = TestApp(_router_with_handlers(site)).get("/foreign/absent.css", status=404)
    assert "custom" not in response.text
    assert "No resource exists at /foreign/absent.css" in response.text


def test_after_request_hooks_see_static_files_and_their_errors(site: Path) -> None:
    router = Router()
    router.static("/static", str(site))
    router.after_request(lambda request, response: response.headers.update({"X-Hook": "1"}))
    app = TestApp(router)
    assert app.get("/static/style.css").headers["X-Hook"] == "1"
    assert app.get("/static/nope", status=404).headers["X-Hook"] == "1"


def test_unreadable_static_file_uses_the_routers_403_handler(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(path: str, mode: str = "r") -> Any:
        raise PermissionError(13, "Permission denied", path)

    # The tests may run as root, who reads any file: simulate the operating system's no.
    monkeypatch.setattr("httpkit.web.static.open", denied, raising=False)
    router = Router()
    router.static("/static", str(site))
    router.error_handler(403)(lambda request, error: "custom 403")
    assert TestApp(router).get("/static/style.css", status=403).text == "custom 403"
