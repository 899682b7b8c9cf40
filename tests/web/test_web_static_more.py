"""Static files: dotfiles, precompressed siblings, several ranges, If-Range, If-Match."""

from __future__ import annotations

import email.parser
import gzip
import http.client
import mimetypes
from pathlib import Path

import pytest
from webtest import TestApp

from httpkit import Router
from httpkit.testing import live_server
from httpkit.web.static_ranges import MAX_RANGES

CONTENT = bytes(range(256)) * 4  # 1024 bytes
SCRIPT = b"function hello() { return 'hello'; }\n" * 20
GZIPPED = gzip.compress(SCRIPT, mtime=0)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]")
    (root / ".env").write_text("SECRET=1")
    (root / ".well-known").mkdir()
    (root / ".well-known" / "security.txt").write_text("Contact: me")
    (root / "data.bin").write_bytes(CONTENT)
    (root / "app.js").write_bytes(SCRIPT)
    (root / "app.js.gz").write_bytes(GZIPPED)
    (root / "app.js.br").write_bytes(b"pretend-brotli")
    (root / "plain.css").write_text("a {}")
    return root


def make_app(site: Path, **options: object) -> TestApp:
    router = Router()
    router.static("/s", str(site), **options)  # type: ignore[arg-type]
    return TestApp(router)


class Fetched:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()


def fetch(site: Path, path: str, headers: dict[str, str], **options: object) -> Fetched:
    """GET over a real server and client (WebTest would decode Content-Encoding)."""
    router = Router()
    router.static("/s", str(site), **options)  # type: ignore[arg-type]
    with live_server(router) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("GET", path, headers=headers)
            return Fetched(connection.getresponse())
        finally:
            connection.close()


@pytest.mark.parametrize("path", ["/s/.env", "/s/.git/config", "/s/.well-known/security.txt"])
def test_dotfiles_are_refused_by_default(site: Path, path: str) -> None:
    make_app(site).get(path, status=404)


def test_dotfiles_switch_serves_them(site: Path) -> None:
    app = make_app(site, dotfiles=True)
    assert app.get("/s/.well-known/security.txt").text == "Contact: me"
    assert app.get("/s/.env").text == "SECRET=1"


@pytest.mark.parametrize(
    ("accept", "coding", "body"),
    [
        ("gzip, br", "br", b"pretend-brotli"),
        ("gzip", "gzip", GZIPPED),
        ("br;q=0.5, gzip", "gzip", GZIPPED),
        ("x-gzip", "gzip", GZIPPED),
        ("*", "br", b"pretend-brotli"),
        ("*, br;q=0", "gzip", GZIPPED),
        ("br;q=0, gzip;q=0", None, SCRIPT),
        ("identity", None, SCRIPT),
        ("deflate", None, SCRIPT),
        (None, None, SCRIPT),
    ],
)
def test_precompressed_sibling_by_accept_encoding(
    site: Path, accept: str | None, coding: str | None, body: bytes
) -> None:
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    response = fetch(site, "/s/app.js", headers)
    assert response.status == 200
    assert response.headers.get("Content-Encoding") == coding
    # The original's type (text/javascript or application/javascript, by Python version).
    assert response.headers["Content-Type"].startswith(str(mimetypes.guess_type("app.js")[0]))
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.body == body
    assert response.headers["Content-Length"] == str(len(body))


def test_each_encoding_has_its_own_etag(site: Path) -> None:
    tags = {
        fetch(site, "/s/app.js", {"Accept-Encoding": a}).headers["ETag"]
        for a in ("br", "gzip", "identity")
    }
    assert len(tags) == 3
    gzip_tag = fetch(site, "/s/app.js", {"Accept-Encoding": "gzip"}).headers["ETag"]
    not_modified = fetch(site, "/s/app.js", {"Accept-Encoding": "gzip", "If-None-Match": gzip_tag})
    assert not_modified.status == 304
    assert not_modified.headers["Vary"] == "Accept-Encoding"
    # The same tag does not match the identity representation.
    assert fetch(site, "/s/app.js", {"If-None-Match": gzip_tag}).status == 200


def test_range_applies_to_the_chosen_encoding(site: Path) -> None:
    response = fetch(site, "/s/app.js", {"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert response.status == 206
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.body == GZIPPED[:10]
    assert response.headers["Content-Range"].endswith(f"/{len(GZIPPED)}")


def test_file_without_siblings_has_no_vary(site: Path) -> None:
    assert "Vary" not in make_app(site).get("/s/plain.css").headers


def test_precompressed_switch_off(site: Path) -> None:
    response = fetch(site, "/s/app.js", {"Accept-Encoding": "gzip"}, precompressed=False)
    assert response.body == SCRIPT and "Vary" not in response.headers


def _parts(content_type: str, body: bytes) -> list[tuple[str, str, bytes]]:
    message = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    return [
        (part["Content-Type"], part["Content-Range"], part.get_payload(decode=True))
        for part in message.get_payload()
    ]


def test_several_ranges_are_multipart_byteranges(site: Path) -> None:
    response = make_app(site).get(
        "/s/data.bin", headers={"Range": "bytes=0-9, 100-109, -5"}, status=206
    )
    content_type = response.headers["Content-Type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    assert response.headers["Content-Length"] == str(len(response.body))
    assert "Content-Range" not in response.headers
    assert _parts(content_type, response.body) == [
        ("application/octet-stream", "bytes 0-9/1024", CONTENT[0:10]),
        ("application/octet-stream", "bytes 100-109/1024", CONTENT[100:110]),
        ("application/octet-stream", "bytes 1019-1023/1024", CONTENT[-5:]),
    ]


@pytest.mark.parametrize(
    "ranges",
    [
        "bytes=0-99, 50-150",  # overlapping
        "bytes=0-599, 500-",  # overlapping, and as large as the file
        "bytes=0-599, 600-",  # together the whole file
        "bytes=" + ", ".join(f"{i * 10}-{i * 10 + 1}" for i in range(MAX_RANGES + 1)),
        "bytes=5-x",  # malformed
        "items=0-5",  # another unit
    ],
)
def test_ranges_answered_with_the_whole_file(site: Path, ranges: str) -> None:
    response = make_app(site).get("/s/data.bin", headers={"Range": ranges}, status=200)
    assert response.body == CONTENT


def test_unsatisfiable_ranges_are_416(site: Path) -> None:
    response = make_app(site).get(
        "/s/data.bin", headers={"Range": "bytes=5000-, 6000-7000"}, status=416
    )
    assert response.headers["Content-Range"] == "bytes */1024"


def test_unsatisfiable_ranges_among_good_ones_are_dropped(site: Path) -> None:
    response = make_app(site).get("/s/data.bin", headers={"Range": "bytes=5000-, 2-3"}, status=206)
    assert response.body == CONTENT[2:4]


def test_if_range_with_the_current_etag_gives_the_range(site: Path) -> None:
    app = make_app(site)
    etag = app.get("/s/data.bin").headers["ETag"]
    ranged = app.get("/s/data.bin", headers={"Range": "bytes=0-1", "If-Range": etag}, status=206)
    assert ranged.body == CONTENT[:2]
    whole = app.get("/s/data.bin", headers={"Range": "bytes=0-1", "If-Range": '"old"'}, status=200)
    assert whole.body == CONTENT


def test_if_match_mismatch_is_412(site: Path) -> None:
    make_app(site).get("/s/data.bin", headers={"If-Match": '"nope"'}, status=412)


def test_multipart_over_a_real_server(site: Path) -> None:
    router = Router()
    router.static("/s", str(site))
    with live_server(router) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/s/data.bin", headers={"Range": "bytes=1-2,10-12"})
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert response.status == 206
    parts = _parts(response.getheader("Content-Type") or "", body)
    assert [part[2] for part in parts] == [CONTENT[1:3], CONTENT[10:13]]
