"""``httpkit serve MODULE:APP`` of an ASGI application, detected (a coroutine function, an
instance with an async ``__call__``) or named by ``--interface asgi``."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from server_helpers import server_process

SITE = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"asgi over the command line"})

class Service:
    async def __call__(self, scope, receive, send):
        await app(scope, receive, send)

service = Service()
"""


@pytest.mark.parametrize(
    "args",
    [["asgi_site:app"], ["asgi_site:service"], ["asgi_site:app", "--interface", "asgi"]],
)
def test_an_asgi_app_is_served_from_the_command_line(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "asgi_site.py").write_text(SITE)
    with server_process(args, cwd=str(tmp_path)) as server:
        body = urllib.request.urlopen(server.url + "/", timeout=10).read()
    assert body == b"asgi over the command line"
