"""Static files: a precompressed sibling is served only if it is a regular file inside
the root (a symlinked ``a.txt.gz -> /etc/passwd`` must not leak through ``/a.txt``)."""

from __future__ import annotations

import gzip
import http.client
from pathlib import Path

import pytest

from httpkit.testing import live_server
from httpkit.web import StaticFiles

PLAIN = b"plain text\n"
SECRET = b"secret outside the root\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    return secret


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    root.mkdir()
    (root / "a.txt").write_bytes(PLAIN)
    return root


def get(root: Path, path: str) -> tuple[int, str | None, bytes]:
    with live_server(StaticFiles(str(root)), access_log=False) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("GET", path, headers={"Accept-Encoding": "gzip, br"})
            response = connection.getresponse()
            return response.status, response.getheader("Content-Encoding"), response.read()
        finally:
            connection.close()


def test_sibling_symlinked_out_of_the_root_is_ignored(root: Path, outside: Path) -> None:
    (root / "a.txt.gz").symlink_to(outside)
    assert get(root, "/a.txt") == (200, None, PLAIN)


def test_sibling_symlinked_through_an_inside_link_to_outside_is_ignored(
    root: Path, outside: Path
) -> None:
    (root / "hop").symlink_to(outside)
    (root / "a.txt.br").symlink_to(root / "hop")
    assert get(root, "/a.txt") == (200, None, PLAIN)


def test_sibling_that_is_a_directory_is_ignored(root: Path) -> None:
    (root / "a.txt.gz").mkdir()
    assert get(root, "/a.txt") == (200, None, PLAIN)


def test_sibling_symlinked_inside_the_root_is_served(root: Path) -> None:
    (root / "stored.gz").write_bytes(gzip.compress(PLAIN, mtime=0))
    (root / "a.txt.gz").symlink_to(root / "stored.gz")
    status, coding, body = get(root, "/a.txt")
    assert (status, coding) == (200, "gzip")
    assert gzip.decompress(body) == PLAIN
