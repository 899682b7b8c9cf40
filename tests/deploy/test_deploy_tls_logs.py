"""HTTPS (with client certificates), and the access log, through the real command line."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import re
import socket
import ssl
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from deploy_helpers import HttpkitProcess, fields
from tls_certs import make_certificate

from httpkit.testing import live_server

Start = Callable[..., HttpkitProcess]


def https_get(port: int, context: ssl.SSLContext, path: str = "/") -> bytes:
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


def test_https_with_a_self_signed_certificate(httpkit: Start, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path, "server")
    server = httpkit("--certfile", str(cert), "--keyfile", str(key))
    assert server.addresses[0].startswith("https://127.0.0.1:")
    client = ssl.create_default_context(cafile=str(cert))
    seen = fields(https_get(server.port, client))
    assert (seen["scheme"], seen["port"], seen["client"]) == ("https", str(server.port), "-")
    # A plain-HTTP client is refused, not served in clear.
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        plain = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        plain.request("GET", "/")
        plain.getresponse().read()
    assert server.stop() == 0


def test_client_certificates_are_required_with_ca_certs(httpkit: Start, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path, "server")
    client_cert, client_key = make_certificate(tmp_path, "client", server=False)
    server = httpkit(
        "--certfile", str(cert), "--keyfile", str(key), "--ca-certs", str(client_cert)
    )
    anonymous = ssl.create_default_context(cafile=str(cert))
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https_get(server.port, anonymous)
    known = ssl.create_default_context(cafile=str(cert))
    known.load_cert_chain(client_cert, client_key)
    seen = fields(https_get(server.port, known))
    assert (seen["scheme"], seen["client"]) == ("https", "CN=client")


def test_unreadable_certificate_is_one_line_error(httpkit: Start, tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate")
    with pytest.raises(RuntimeError, match="certfile: cannot load the certificate"):
        httpkit("--certfile", str(tmp_path / "bad.pem"))


def test_access_log_custom_format_to_a_file(httpkit: Start, tmp_path: Path) -> None:
    log_file = tmp_path / "access.log"
    server = httpkit(
        "--access-log",
        "--access-log-file",
        str(log_file),
        "--access-log-format",
        '%h "%r" %s %B %D %m %U%q "%{User-Agent}i" 100%%',
    )
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/slow?0.05", headers={"User-Agent": 'evil" \\agent'})
    body = conn.getresponse().read()
    conn.close()
    assert server.stop() == 0
    line = log_file.read_text().strip()
    match = re.fullmatch(
        r'127\.0\.0\.1 "GET /slow\?0\.05 HTTP/1\.1" 200 (\d+) (\d+) GET /slow\?0\.05 '
        r'"evil\\" \\\\agent" 100%',
        line,
    )
    assert match, line
    assert int(match.group(1)) == len(body)
    assert int(match.group(2)) >= 50_000  # microseconds: the app slept 50 ms
    assert "GET /slow" not in server.stderr


def test_combined_format_on_stderr(httpkit: Start) -> None:
    server = httpkit("--access-log", "--access-log-format", "combined")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/x", headers={"Referer": "http://r.example/", "User-Agent": "ua/1"})
    conn.getresponse().read()
    conn.close()
    time.sleep(0.1)
    assert re.search(
        r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:[\d:]{8} [+-]\d{4}\] "GET /x HTTP/1\.1" 200 \d+ '
        r'"http://r\.example/" "ua/1"\n',
        server.stderr,
    ), server.stderr


def test_unknown_placeholder_is_refused(httpkit: Start) -> None:
    with pytest.raises(RuntimeError, match="unknown placeholder %Z"):
        httpkit("--access-log", "--access-log-format", "%h %Z")


def test_live_server_with_tls_gives_an_https_url(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path, "server")

    def scheme_app(environ: dict[str, str], start_response: Callable[..., object]) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "5")])
        return [environ["wsgi.url_scheme"].encode()]

    with live_server(scheme_app, certfile=str(cert), keyfile=str(key)) as server:
        assert server.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert))
        assert https_get(server.port, context) == b"https"


def asyncio_ssl_cannot_answer_close_notify(loop: str) -> bool:
    """True where the server would run asyncio's SSL transport from before Python 3.11.

    That transport closes the socket before writing the close_notify it owes a client that
    sent one (CPython gh-74883, bpo-30698; fixed by the SSL rewrite in 3.11).  uvloop's
    transport, which ``--loop auto`` picks when installed, answers it.
    """
    if sys.version_info >= (3, 11):
        return False
    return loop == "asyncio" or importlib.util.find_spec("uvloop") is None


def send_close_notify(tls: ssl.SSLSocket) -> None:
    """Send close_notify and leave without waiting for the server's, as curl does."""
    tls.setblocking(False)
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.unwrap()


@pytest.mark.parametrize("loop", ["asyncio", "auto"])
def test_clients_closing_tls_connections_leave_the_log_quiet(
    httpkit: Start, tmp_path: Path, loop: str
) -> None:
    cert, key = make_certificate(tmp_path, "server")
    server = httpkit("--certfile", str(cert), "--keyfile", str(key), "--loop", loop)
    context = ssl.create_default_context(cafile=str(cert))
    for polite in (True, False):  # with close_notify (as curl sends), then a bare FIN
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert tls.recv(4096).startswith(b"HTTP/1.1 200 ")
            if polite:
                send_close_notify(tls)
    assert server.stop() == 0
    assert "eof_received" not in server.stderr
    assert "WARNING" not in server.stderr, server.stderr


@pytest.mark.parametrize("loop", ["asyncio", "auto"])
def test_server_answers_a_clients_close_notify(httpkit: Start, tmp_path: Path, loop: str) -> None:
    if asyncio_ssl_cannot_answer_close_notify(loop):
        pytest.skip(
            "asyncio's SSL transport before Python 3.11 closes the connection without "
            "answering the client's close_notify (CPython gh-74883); uvloop answers it"
        )
    cert, key = make_certificate(tmp_path, "server")
    server = httpkit("--certfile", str(cert), "--keyfile", str(key), "--loop", loop)
    context = ssl.create_default_context(cafile=str(cert))
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert tls.recv(4096).startswith(b"HTTP/1.1 200 ")
        tls.unwrap().close()  # waits for the server's close_notify: an EOF raises
    assert server.stop() == 0
    assert "WARNING" not in server.stderr, server.stderr
