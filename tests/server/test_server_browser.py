"""A real browser against the single-threaded mode: idle and speculative connections
must never block the page's sub-resources."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from httpkit.testing import live_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCRIPTS = 30
IMAGES = 30
# A 1x1 transparent GIF.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


def page() -> bytes:
    scripts = "".join(f'<script src="/s/{n}.js"></script>' for n in range(SCRIPTS))
    images = "".join(f'<img src="/i/{n}.gif">' for n in range(IMAGES))
    return f"<!doctype html><html><head>{scripts}</head><body>{images}</body></html>".encode()


class SiteLog:
    def __init__(self) -> None:
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        with self.lock:
            self.paths.append(path)
        if path == "/":
            body, kind = page(), "text/html"
        elif path.startswith("/s/"):
            number = path[3:-3]
            body = f"document.documentElement.dataset.s{number} = 'loaded';".encode()
            kind = "text/javascript"
        elif path.startswith("/i/"):
            body, kind = PIXEL, "image/gif"
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", kind), ("Cache-Control", "no-store")])
        return [body]


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_chromium_loads_a_page_with_60_subresources_five_times(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    site = SiteLog()
    with live_server(site.app, threads=0) as server:
        for attempt in range(5):
            site.paths.clear()
            profile = tmp_path / f"profile-{attempt}"
            result = subprocess.run(
                [
                    CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    f"--user-data-dir={profile}", "--dump-dom", server.url + "/",
                ],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr[-2000:]
            dom = result.stdout
            loaded = sum(f'data-s{n}="loaded"' in dom for n in range(SCRIPTS))
            assert loaded == SCRIPTS, f"attempt {attempt}: {loaded} scripts ran"
            with site.lock:
                requested = set(site.paths)
            expected = {f"/s/{n}.js" for n in range(SCRIPTS)} | {
                f"/i/{n}.gif" for n in range(IMAGES)
            }
            assert expected <= requested, (
                f"attempt {attempt}: missing {sorted(expected - requested)[:5]}"
            )
