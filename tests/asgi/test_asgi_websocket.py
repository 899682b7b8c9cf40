"""WebSockets (RFC 6455) for ASGI applications, with a real client library (websockets)
and a real browser (headless Chromium)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpkit.testing import live_server

websockets = pytest.importorskip("websockets")
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402

Scope = dict[str, Any]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class EchoApp:
    """Accepts, echoes every message, and records what it saw."""

    def __init__(self, subprotocol: str | None = None) -> None:
        self.scopes: list[Scope] = []
        self.disconnects: list[dict[str, Any]] = []
        self.received: list[Any] = []
        self.subprotocol = subprotocol
        self.seen = threading.Event()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"plain http"})
            return
        self.scopes.append(scope)
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept", "subprotocol": self.subprotocol})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.disconnects.append(message)
                self.seen.set()
                return
            self.received.append(message.get("text", message.get("bytes")))
            if message.get("text") == "close me":
                await send({"type": "websocket.close", "code": 4000, "reason": "as asked"})
                continue
            reply = {key: message[key] for key in ("text", "bytes") if message.get(key)}
            await send({"type": "websocket.send", **reply})


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 20))


def test_echo_text_and_bytes_with_the_scope_and_a_subprotocol() -> None:
    app = EchoApp(subprotocol="chat.v2")

    async def client(url: str) -> tuple[Any, ...]:
        async with connect(url, subprotocols=["chat.v1", "chat.v2"]) as ws:
            await ws.send("héllo")
            text = await ws.recv()
            await ws.send(bytes(range(256)) * 1000)
            data = await ws.recv()
            return text, data, ws.subprotocol

    with live_server(app) as server:
        text, data, subprotocol = run(client(f"ws://127.0.0.1:{server.port}/chat/r%C3%A9?x=1"))
    assert (text, data, subprotocol) == ("héllo", bytes(range(256)) * 1000, "chat.v2")
    scope = app.scopes[0]
    assert scope["type"] == "websocket" and scope["scheme"] == "ws"
    assert scope["path"] == "/chat/ré" and scope["query_string"] == b"x=1"
    assert scope["subprotocols"] == ["chat.v1", "chat.v2"]
    assert "method" not in scope
    assert (b"upgrade", b"websocket") in scope["headers"]


def test_plain_http_still_works_beside_websockets() -> None:
    with live_server(EchoApp()) as server:
        assert httpx.get(server.url + "/").text == "plain http"


def test_pings_are_answered() -> None:
    async def client(url: str) -> float:
        async with connect(url, ping_interval=None) as ws:
            latency: float = await asyncio.wait_for(await ws.ping(b"are you there"), 5)
            return latency

    with live_server(EchoApp()) as server:
        assert run(client(f"ws://127.0.0.1:{server.port}/")) >= 0


def test_close_codes_both_ways() -> None:
    app = EchoApp()

    async def client(url: str) -> tuple[int | None, str | None]:
        async with connect(url) as ws:
            await ws.send("close me")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return ws.close_code, ws.close_reason

    async def client_closes(url: str) -> None:
        async with connect(url) as ws:
            await ws.send("hi")
            await ws.recv()
            await ws.close(4001, "client is done")

    with live_server(app) as server:
        url = f"ws://127.0.0.1:{server.port}/"
        assert run(client(url)) == (4000, "as asked")
        app.seen.clear()
        run(client_closes(url))
        assert app.seen.wait(5)
    assert app.disconnects[-1]["code"] == 4001


def test_the_disconnect_code_is_a_plain_int() -> None:
    app = EchoApp()

    async def client(url: str) -> None:
        async with connect(url) as ws:  # leaving closes with 1000, a code wsproto names
            await ws.send("hi")
            await ws.recv()

    with live_server(app) as server:
        run(client(f"ws://127.0.0.1:{server.port}/"))
        assert app.seen.wait(5)
    code = app.disconnects[-1]["code"]
    assert (type(code), code, repr(code)) == (int, 1000, "1000")


def test_a_message_over_the_maximum_closes_with_1009() -> None:
    app = EchoApp()

    async def client(url: str) -> int | None:
        async with connect(url, max_size=None) as ws:
            await ws.send("x" * 1000)
            assert await ws.recv() == "x" * 1000
            await ws.send(b"y" * 1001)
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return ws.close_code

    with live_server(app, ws_max_message_size=1000) as server:
        assert run(client(f"ws://127.0.0.1:{server.port}/")) == 1009
    assert app.received == ["x" * 1000]  # the large one never reached the application


@pytest.mark.parametrize("deflate", [True, False])
def test_permessage_deflate_when_offered_and_enabled(deflate: bool) -> None:
    async def client(url: str) -> tuple[str, str]:
        async with connect(url) as ws:  # websockets offers permessage-deflate
            await ws.send("compress me " * 1000)
            reply = await ws.recv()
            return reply, ws.response.headers.get("Sec-WebSocket-Extensions", "")

    with live_server(EchoApp(), ws_per_message_deflate=deflate) as server:
        reply, extensions = run(client(f"ws://127.0.0.1:{server.port}/"))
    assert reply == "compress me " * 1000
    assert ("permessage-deflate" in extensions) is deflate


def test_a_refused_accept_is_a_403() -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1000})

    async def client(url: str) -> None:
        async with connect(url):
            pass

    with live_server(app) as server, pytest.raises(InvalidStatus) as refused:
        run(client(f"ws://127.0.0.1:{server.port}/"))
    assert refused.value.response.status_code == 403


def test_accepting_a_subprotocol_the_client_did_not_offer_is_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = EchoApp(subprotocol="notoffered")

    async def client(url: str) -> None:
        async with connect(url, subprotocols=["chat"]):
            pass

    with (
        caplog.at_level(logging.ERROR, "httpkit.error"),
        live_server(app) as server,
        pytest.raises(InvalidStatus) as refused,
    ):
        run(client(f"ws://127.0.0.1:{server.port}/"))
    assert refused.value.response.status_code == 500
    assert "subprotocol 'notoffered'" in caplog.text
    assert "['chat']" in caplog.text


def test_a_websocket_outside_the_url_prefix_is_a_404_without_reaching_the_app() -> None:
    app = EchoApp()

    async def client(url: str) -> None:
        async with connect(url):
            pass

    with live_server(app, url_prefix="/app") as server:
        for path in ("/chat", "/appx"):
            with pytest.raises(InvalidStatus) as refused:
                run(client(f"ws://127.0.0.1:{server.port}{path}"))
            assert refused.value.response.status_code == 404
            assert b"this server serves paths under /app/" in refused.value.response.body
        assert app.scopes == []
        run(client(f"ws://127.0.0.1:{server.port}/app/chat"))
    assert [scope["path"] for scope in app.scopes] == ["/app/chat"]


def handshake(port: int, *fields: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        head = "\r\n".join(["GET / HTTP/1.1", "Host: x", *fields, "", ""])
        sock.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(4096)
            if not piece:
                break
            data += piece
        return data


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        (["Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: x"], b"400"),
        (["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"], b"400"),
        (
            ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Key: dG9vIHNob3J0"],
            b"400",
        ),
        (
            ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 8",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="],
            b"426",
        ),
    ],
    ids=["no-connection-upgrade", "no-key", "short-key", "old-version"],
)  # fmt: skip
def test_a_bad_handshake_is_refused_without_calling_the_app(
    fields: list[str], status: bytes
) -> None:
    app = EchoApp()
    with live_server(app) as server:
        answer = handshake(server.port, *fields)
    assert answer.startswith(b"HTTP/1.1 " + status)
    if status == b"426":
        assert b"Sec-WebSocket-Version: 13" in answer
    assert app.scopes == []


def test_the_rfc_example_key_gets_the_rfc_example_accept() -> None:
    with live_server(EchoApp()) as server:
        answer = handshake(
            server.port,
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",  # RFC 6455 1.3
        )
    assert answer.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in answer


def test_an_app_raising_after_the_accept_closes_with_1011() -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await receive()
            raise RuntimeError("boom")

    async def client(url: str) -> int | None:
        async with connect(url) as ws:
            await ws.send("anything")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return ws.close_code

    with live_server(app) as server:
        assert run(client(f"ws://127.0.0.1:{server.port}/")) == 1011


def test_a_stopping_server_closes_websockets_with_1001_at_once() -> None:
    app = EchoApp()
    codes: list[int | None] = []
    opened = threading.Event()

    async def client(url: str) -> None:
        async with connect(url) as ws:
            opened.set()
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            codes.append(ws.close_code)

    with live_server(app, graceful_timeout=30) as server:
        url = f"ws://127.0.0.1:{server.port}/"
        thread = threading.Thread(target=run, args=(client(url),))
        thread.start()
        assert opened.wait(5)
        started = time.monotonic()
    thread.join(10)
    assert codes == [1001]
    assert time.monotonic() - started < 5  # not the graceful timeout


PAGE = b"""<!doctype html><html><body><script>
const ws = new WebSocket("ws://" + location.host + "/echo");
ws.binaryType = "arraybuffer";
ws.onopen = () => { ws.send("text from chromium"); ws.send(new Uint8Array([1, 2, 3])); };
let replies = [];
ws.onmessage = (event) => {
  replies.push(typeof event.data === "string" ? event.data
               : Array.from(new Uint8Array(event.data)).join(","));
  if (replies.length === 2) {
    ws.send("done: " + replies.join(" | ") + " | " + ws.extensions);
    document.body.dataset.replies = replies.join(" | ");
  }
};
</script></body></html>"""


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_chromium_talks_to_a_websocket(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    app = EchoApp()

    async def site(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = [(b"content-type", b"text/html"), (b"cache-control", b"no-store")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": PAGE})
        else:
            await app(scope, receive, send)

    def finished() -> bool:
        return any(str(item).startswith("done") for item in app.received)

    with live_server(site) as server:
        # --dump-dom may end the page before its last send when the machine is busy (the
        # WebSocket does not hold virtual time): a new page, at most three times.
        for attempt in range(3):
            app.received.clear()
            result = subprocess.run(
                [
                    CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage",
                    f"--user-data-dir={tmp_path / str(attempt)}",
                    "--virtual-time-budget=10000", "--dump-dom", server.url + "/",
                ],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            deadline = time.monotonic() + 5
            while not finished() and time.monotonic() < deadline:
                time.sleep(0.05)
            if finished():
                break
        assert finished(), (app.received, result.stderr[-2000:])
    assert app.received[:2] == ["text from chromium", b"\x01\x02\x03"]
    done = next(item for item in app.received if str(item).startswith("done"))
    assert done.startswith("done: text from chromium | 1,2,3 | permessage-deflate")


WITHOUT_WSPROTO = """
import socket, sys
sys.modules["wsproto"] = None  # as if the asgi extra were not installed
from httpkit.testing import live_server

async def app(scope, receive, send):
    raise AssertionError("never called for a WebSocket without wsproto")

with live_server(app) as server, socket.create_connection(("127.0.0.1", server.port)) as sock:
    sock.sendall(
        b"GET / HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
        b"Sec-WebSocket-Version: 13\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n\\r\\n"
    )
    print(sock.recv(4096).split(b"\\r\\n")[0].decode())
"""


def test_without_wsproto_a_websocket_is_a_501() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_WSPROTO],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.stdout.strip() == "HTTP/1.1 501 Not Implemented", result.stderr
    assert "wsproto is not installed" in result.stderr


def test_a_silent_client_that_never_answers_pings_is_cut() -> None:
    app = EchoApp()
    with live_server(app, ws_ping_interval=0.2, ws_ping_timeout=0.2) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            head = "\r\n".join(
                [
                    "GET / HTTP/1.1",
                    "Host: x",
                    "Upgrade: websocket",
                    "Connection: Upgrade",
                    "Sec-WebSocket-Version: 13",
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                    "",
                    "",
                ]
            )
            sock.sendall(head.encode())
            started = time.monotonic()
            received = b""
            while True:  # a client that reads but never answers: the ping, then the cut
                try:
                    piece = sock.recv(4096)
                except ConnectionResetError:
                    break
                if not piece:
                    break
                received += piece
            took = time.monotonic() - started
        assert app.seen.wait(5)
    assert b"\x89\x07httpkit" in received  # the server's ping frame (RFC 6455 5.5.2)
    assert 0.3 <= took < 3
    assert app.disconnects == [{"type": "websocket.disconnect", "code": 1006}]


def test_a_client_that_answers_pings_stays_connected() -> None:
    async def client(url: str) -> str:
        async with connect(url, ping_interval=None) as ws:  # it only answers the server's
            await asyncio.sleep(1.0)  # five ping intervals of silence
            await ws.send("still here")
            reply: str = await ws.recv()
            return reply

    with live_server(EchoApp(), ws_ping_interval=0.2, ws_ping_timeout=0.2) as server:
        assert run(client(f"ws://127.0.0.1:{server.port}/")) == "still here"


def test_a_compressed_message_that_inflates_past_the_maximum_closes_with_1009() -> None:
    app = EchoApp()

    async def client(url: str) -> tuple[int | None, str]:
        async with connect(url, max_size=None) as ws:  # compression on, as offered
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
            await ws.send(b"\0" * 5_000_000)  # a few KiB on the wire
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return ws.close_code, extensions

    with live_server(app, ws_max_message_size=1_000_000) as server:
        code, extensions = run(client(f"ws://127.0.0.1:{server.port}/"))
    assert "permessage-deflate" in extensions
    assert code == 1009
    assert app.received == []


def test_an_app_that_never_accepts_is_bounded_by_app_timeout() -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()
            await asyncio.sleep(3600)  # neither accepts nor closes

    async def client(url: str) -> None:
        async with connect(url, open_timeout=10):
            pass

    with live_server(app, app_timeout=0.3) as server, pytest.raises(InvalidStatus) as refused:
        started = time.monotonic()
        run(client(f"ws://127.0.0.1:{server.port}/"))
    assert refused.value.response.status_code == 500
    assert time.monotonic() - started < 3


def test_app_timeout_does_not_limit_an_accepted_websocket() -> None:
    async def client(url: str) -> str:
        async with connect(url) as ws:
            await asyncio.sleep(0.8)  # past the app_timeout
            await ws.send("later")
            reply: str = await ws.recv()
            return reply

    with live_server(EchoApp(), app_timeout=0.2) as server:
        assert run(client(f"ws://127.0.0.1:{server.port}/")) == "later"
