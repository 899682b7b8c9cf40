"""Shared pieces of the AtomPub tests: namespaces, sample entries, XML look-ups, and
one client interface over WebTest and over the real server, so that every test runs
both in-process and through HTTP."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from webtest import TestApp

from examples.atompub import make_app
from examples.atompub.store import open_store
from httpkit.testing import live_server

ATOM = "{http://www.w3.org/2005/Atom}"
APP = "{http://www.w3.org/2007/app}"
ENTRY_TYPE = "application/atom+xml;type=entry"
FEED_TYPE = "application/atom+xml;type=feed"
ENTRY_HEADERS = {"Content-Type": ENTRY_TYPE}
# RFC 3339 date-time (upper-case T and Z, as Atom requires).
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def entry_xml(title: str, *, extra: str = "", content: str = "Hello") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<entry xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><content>{content}</content>{extra}</entry>"
    ).encode()


def parse(body: bytes) -> ET.Element:
    return ET.fromstring(body)


def link(element: ET.Element, rel: str) -> str | None:
    for found in element.findall(f"{ATOM}link"):
        if found.get("rel") == rel:
            return found.get("href")
    return None


def text(element: ET.Element, path: str) -> str:
    found = element.find(path)
    assert found is not None, f"{path} missing"
    return found.text or ""


class LiveResponse:
    """An httpx response seen through the parts of WebTest's TestResponse the tests use."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_int = response.status_code
        self.headers = response.headers
        self.body = response.content
        self.text = response.text
        self.content_type = response.headers.get("Content-Type", "").split(";")[0].strip()


class LiveClient:
    """WebTest's get/post/put/delete (and ``status=`` checks) over a real connection."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._http = httpx.Client(base_url=base, timeout=10)

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        params: bytes | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> LiveResponse:
        response = LiveResponse(self._http.request(method, path, content=params, headers=headers))
        if status is None:
            # WebTest's default: anything but 2xx and 3xx is a failure.
            assert 200 <= response.status_int < 400, (response.status_int, response.text)
        else:
            assert response.status_int == status, (response.status_int, response.text)
        return response

    def get(self, path: str, **kwargs: Any) -> LiveResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, params: bytes, **kwargs: Any) -> LiveResponse:
        return self.request("POST", path, params, **kwargs)

    def put(self, path: str, params: bytes, **kwargs: Any) -> LiveResponse:
        return self.request("PUT", path, params, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> LiveResponse:
        return self.request("DELETE", path, **kwargs)


@contextmanager
def atompub_client(kind: str, database: Path | str, **options: Any) -> Iterator[Any]:
    """The service on ``database`` (a SQLite file or a PostgreSQL URL) through WebTest
    ("wsgi") or the real server ("live"); either way the client has a ``base`` URL that
    the service's links start with."""
    store = open_store(str(database))
    app = make_app(store=store, **options)
    if kind == "wsgi":
        client = TestApp(app)
        client.base = "http://localhost"
        try:
            yield client
        finally:
            store.close()
        return
    with live_server(app, threads=4) as server:
        live = LiveClient(server.url)
        try:
            yield live
        finally:
            live.close()
            store.close()
