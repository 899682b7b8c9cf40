"""What a browser does with the service's pages and media: headless Chromium runs no
script of a client's, and follows no link but a web address."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest
from atompub_helpers import ENTRY_HEADERS, atompub_client
from cdp_pipe import CHROMIUM, REPLY_SECONDS, Browser

from examples.atompub import make_app
from httpkit.testing import live_server
from httpkit.wsgitypes import Environ, StartResponse, WSGIApp

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)

LOADED = "document.readyState === 'complete'"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="fetch(\'/ran\')">'
    b"<script>fetch('/ran')</script><rect width='10' height='10'/></svg>"
)
BEACON_SECONDS = 1.0  # how long a script that ran has to call back
HOSTILE_ENTRY = (
    b'<entry xmlns="http://www.w3.org/2005/Atom"><title>&lt;script&gt;window.ran=3'
    b"&lt;/script&gt;</title>"
    b'<link href="javascript:window.ran=4"/><link rel="related" href=" data:text/html,hi"/>'
    b'<link rel="via" href="https://example.org/"/>'
    b'<summary type="html">&lt;img src=x onerror="window.ran=5"&gt;</summary>'
    b"<content type=\"image/svg+xml\"><svg xmlns='http://www.w3.org/2000/svg'>"
    b"<script>window.ran = 6</script></svg></content></entry>"
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    opened = Browser(tmp_path / "profile")
    try:
        yield opened
    finally:
        opened.close()


class Requests:
    """WSGI middleware recording each request's path."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.paths: list[str] = []

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        self.paths.append(environ["PATH_INFO"])
        return self.app(environ, start_response)


def test_an_svg_upload_opened_in_the_browser_runs_no_script(
    browser: Browser, tmp_path: Path
) -> None:
    app = Requests(make_app(str(tmp_path / "svg.db")))
    with live_server(app) as server:
        headers = {"Content-Type": "image/svg+xml", "Slug": "drawing"}
        created = httpx.post(f"{server.url}/media", content=SVG, headers=headers)
        assert created.status_code == 201
        browser.open(f"{server.url}/media/drawing/content")
        # A sandboxed document has no script context to evaluate in: ask the DOM.
        deadline = time.monotonic() + REPLY_SECONDS
        while not _has_element(browser, "rect"):  # still a picture
            assert time.monotonic() < deadline, "the SVG was never shown"
            time.sleep(0.05)
        time.sleep(BEACON_SECONDS)
    assert "/media/drawing/content" in app.paths
    assert "/ran" not in app.paths


def _has_element(browser: Browser, selector: str) -> bool:
    try:
        root = browser.command("DOM.getDocument")["root"]["nodeId"]
        found = browser.command("DOM.querySelector", nodeId=root, selector=selector)
    except RuntimeError:  # the document was replaced in between (navigation)
        return False
    return bool(found["nodeId"])


def test_an_unsanitized_entry_page_runs_no_script_and_links_only_the_web(
    browser: Browser, tmp_path: Path
) -> None:
    with atompub_client("live", tmp_path / "raw.db", sanitize=False) as client:
        client.post("/entries", HOSTILE_ENTRY, headers={**ENTRY_HEADERS, "Slug": "x"}, status=201)
        for path in ("/entries/x", "/entries"):
            browser.open(client.base + path)
            browser.wait_for(f"location.href === {client.base + path!r} && {LOADED}")
            protocols = browser.evaluate("Array.from(document.links, a => a.protocol)")
            assert set(protocols) == {"http:", "https:"}, (path, protocols)
            assert browser.evaluate("typeof window.ran") == "undefined", path
            assert browser.evaluate("document.querySelectorAll('svg, script').length") == 0
