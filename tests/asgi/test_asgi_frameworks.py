"""Real Starlette, FastAPI and Django ASGI applications, served unchanged by
``httpkit serve`` (detected as ASGI)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from server_helpers import server_process

STARLETTE_SITE = """
    import contextlib, hashlib

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse, StreamingResponse
    from starlette.routing import Route, WebSocketRoute

    events = []

    @contextlib.asynccontextmanager
    async def lifespan(app):
        events.append("startup")
        yield {"greeting": "started"}
        events.append("shutdown")

    async def hello(request):
        name = request.path_params["name"]
        return PlainTextResponse(f"starlette says hello to {name} ({request.state.greeting})")

    async def upload(request):
        digest, size = hashlib.sha256(), 0
        async for piece in request.stream():
            digest.update(piece)
            size += len(piece)
        return PlainTextResponse(f"{size} {digest.hexdigest()}")

    async def stream(request):
        async def lines():
            for n in range(3):
                yield f"line {n}\\n"
        return StreamingResponse(lines(), media_type="text/plain")

    async def shout(websocket):
        await websocket.accept(subprotocol="shout")
        async for text in websocket.iter_text():
            await websocket.send_text(text.upper())

    app = Starlette(
        routes=[
            Route("/hello/{name}", hello),
            Route("/upload", upload, methods=["POST"]),
            Route("/stream", stream),
            WebSocketRoute("/shout", shout),
        ],
        lifespan=lifespan,
    )
"""

FASTAPI_SITE = """
    import contextlib

    from fastapi import FastAPI, Request
    from fastapi.responses import StreamingResponse
    from pydantic import BaseModel

    @contextlib.asynccontextmanager
    async def lifespan(app):
        app.state.started = "yes"
        yield

    app = FastAPI(lifespan=lifespan)

    class Item(BaseModel):
        name: str
        price: float

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None):
        return {"item_id": item_id, "q": q, "started": app.state.started}

    @app.post("/items")
    async def create_item(item: Item):
        return {"name": item.name, "double": item.price * 2}

    @app.get("/stream")
    async def stream():
        async def numbers():
            for n in range(3):
                yield f"{n},"
        return StreamingResponse(numbers(), media_type="text/plain")
"""

DJANGO_SITE = """
    from django.conf import settings
    from django.http import HttpResponse, StreamingHttpResponse
    from django.urls import path

    settings.configure(
        DEBUG=False, SECRET_KEY="test-only", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
        INSTALLED_APPS=[], MIDDLEWARE=[],
    )

    async def hello(request, name):
        return HttpResponse(f"django says hello to {name} via {request.META['SCRIPT_NAME']}")

    def form(request):
        return HttpResponse(f"form {request.POST['field']} {len(request.POST['big'])}")

    async def stream(request):
        async def lines():
            for n in range(3):
                yield f"line {n}\\n"
        return StreamingHttpResponse(lines())

    urlpatterns = [path("hello/<str:name>", hello), path("form", form), path("stream", stream)]

    from django.core.asgi import get_asgi_application

    application = get_asgi_application()
"""


def write_site(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(source))


def test_starlette_app(tmp_path: Path) -> None:
    pytest.importorskip("starlette")
    write_site(tmp_path, "starlette_site", STARLETTE_SITE)
    body = bytes(range(256)) * 8192  # 2 MiB, streamed in pieces
    with server_process(["starlette_site:app"], cwd=str(tmp_path)) as server:
        hello = httpx.get(server.url + "/hello/ann")
        assert hello.text == "starlette says hello to ann (started)"
        upload = httpx.post(server.url + "/upload", content=iter([body[:1000], body[1000:]]))
        assert upload.text == f"{len(body)} {hashlib.sha256(body).hexdigest()}"
        stream = httpx.get(server.url + "/stream")
        assert stream.headers["transfer-encoding"] == "chunked"
        assert stream.text == "line 0\nline 1\nline 2\n"
        assert asyncio.run(shout(server.url.replace("http", "ws") + "/shout")) == "HEY"


async def shout(url: str) -> str:
    from websockets.asyncio.client import connect  # noqa: PLC0415 (only if installed)

    async with connect(url, subprotocols=["shout"]) as ws:
        await ws.send("hey")
        reply: str = await asyncio.wait_for(ws.recv(), 10)
        return reply


def test_fastapi_app(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    write_site(tmp_path, "fastapi_site", FASTAPI_SITE)
    with server_process(["fastapi_site:app"], cwd=str(tmp_path)) as server:
        item = httpx.get(server.url + "/items/5?q=x")
        assert item.json() == {"item_id": 5, "q": "x", "started": "yes"}
        created = httpx.post(server.url + "/items", json={"name": "pen", "price": 1.5})
        assert created.json() == {"name": "pen", "double": 3.0}
        invalid = httpx.post(server.url + "/items", content=json.dumps({"name": "pen"}))
        assert invalid.status_code == 422
        assert httpx.get(server.url + "/stream").text == "0,1,2,"
        assert httpx.get(server.url + "/missing").status_code == 404


def test_fastapi_app_under_a_url_prefix_serves_nothing_outside_it(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    write_site(tmp_path, "fastapi_site", FASTAPI_SITE)
    with server_process(["fastapi_site:app", "--url-prefix", "/app"], cwd=str(tmp_path)) as server:
        item = httpx.get(server.url + "/app/items/3")
        outside = [httpx.get(server.url + path) for path in ("/items/3", "/appx/items/3")]
    assert item.json() == {"item_id": 3, "q": None, "started": "yes"}
    assert [response.status_code for response in outside] == [404, 404]
    assert "this server serves paths under /app/" in outside[0].text


def test_django_asgi_app_without_lifespan_under_a_url_prefix(tmp_path: Path) -> None:
    write_site(tmp_path, "django_site", DJANGO_SITE)
    with server_process(
        ["django_site:application", "--url-prefix", "/site"], cwd=str(tmp_path)
    ) as server:
        hello = httpx.get(server.url + "/site/hello/bob")
        assert hello.text == "django says hello to bob via /site"
        form = httpx.post(server.url + "/site/form", data={"field": "v", "big": "x" * 300_000})
        assert form.text == "form v 300000"
        assert httpx.get(server.url + "/site/stream").text == "line 0\nline 1\nline 2\n"


WSGI_WAY = ("--interface", "wsgi", "--port", "0")


def test_interface_wsgi_overrides_the_detection(tmp_path: Path) -> None:
    write_site(tmp_path, "django_site", DJANGO_SITE)
    # Told to serve it the WSGI way, the server refuses an ASGI application at start-up
    # (it cannot take environ and start_response), not with a 500 on every request.
    result = subprocess.run(
        [sys.executable, "-m", "httpkit", "serve", "django_site:application", *WSGI_WAY],
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "django_site:application" in result.stderr
    assert "cannot be called as a WSGI application" in result.stderr
