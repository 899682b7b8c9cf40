"""Request parsing speed: httpkit.h1 beside h11 and httptools, in µs per request.

Run from the repository root:

    python bench/parse.py            # full run (under 10 s)
    python bench/parse.py --quick    # seconds-long smoke run for CI

h11 and httptools are measured only when importable (``pip install h11 httptools``).
Each request is parsed by a fresh connection/parser object, as a new keep-alive
connection would, and each parser's result is checked once before it is timed, so a
parser that fails fast cannot look fast.  The target is httpkit >= 3x h11.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from collections.abc import Callable

from httpkit.h1 import Data, EndOfMessage, Request, ServerConnection

# A typical browser navigation request (Chrome on Linux), about 500 bytes.
BROWSER_HEAD = (
    b"GET /articles/2024/http-parsing?page=2&sort=recent HTTP/1.1\r\n"
    b"Host: www.example.com\r\n"
    b"Connection: keep-alive\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"Chrome/120.0.0.0 Safari/537.36\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    b"image/webp,*/*;q=0.8\r\n"
    b"Referer: https://www.example.com/articles/\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Accept-Language: en-GB,en;q=0.9\r\n"
    b"Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\r\n"
    b"\r\n"
)
# A small chunked upload: three chunks of 64 bytes.
CHUNK = b"x" * 64
CHUNKED_REQUEST = (
    b"POST /api/items HTTP/1.1\r\n"
    b"Host: api.example.com\r\n"
    b"Content-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"\r\n" + b"".join(b"40\r\n" + CHUNK + b"\r\n" for _ in range(3)) + b"0\r\n\r\n"
)
INPUTS = {"browser head": BROWSER_HEAD, "chunked body": CHUNKED_REQUEST}

# A parse function returns (method, header count, body bytes) for the sanity check.
Parse = Callable[[bytes], tuple[str, int, int]]


def parse_httpkit(data: bytes) -> tuple[str, int, int]:
    conn = ServerConnection()
    conn.receive_data(data)
    request = conn.next_event()
    assert isinstance(request, Request)
    size = 0
    for _ in range(100):
        event = conn.next_event()
        if type(event) is Data:
            size += len(event.data)
        elif type(event) is EndOfMessage:
            return request.method, len(request.headers), size
    raise AssertionError("httpkit gave no EndOfMessage")


def make_h11() -> Parse:
    h11 = importlib.import_module("h11")

    def parse_h11(data: bytes) -> tuple[str, int, int]:
        conn = h11.Connection(h11.SERVER)
        conn.receive_data(data)
        request = conn.next_event()
        assert isinstance(request, h11.Request)
        size = 0
        for _ in range(100):
            event = conn.next_event()
            if type(event) is h11.Data:
                size += len(event.data)
            elif type(event) is h11.EndOfMessage:
                return request.method.decode(), len(request.headers), size
        raise AssertionError("h11 gave no EndOfMessage")

    return parse_h11


def make_httptools() -> Parse:
    httptools = importlib.import_module("httptools")

    class Collector:
        """The callbacks httptools calls; builds what a server would need."""

        def __init__(self) -> None:
            self.url = b""
            self.headers: list[tuple[bytes, bytes]] = []
            self.body: list[bytes] = []
            self.done = False

        def on_url(self, url: bytes) -> None:
            self.url += url

        def on_header(self, name: bytes, value: bytes) -> None:
            self.headers.append((name.lower(), value))

        def on_body(self, body: bytes) -> None:
            self.body.append(body)

        def on_message_complete(self) -> None:
            self.done = True

    def parse_httptools(data: bytes) -> tuple[str, int, int]:
        collector = Collector()
        parser = httptools.HttpRequestParser(collector)
        parser.feed_data(data)
        assert collector.done
        size = sum(len(piece) for piece in collector.body)
        return parser.get_method().decode(), len(collector.headers), size

    return parse_httptools


def parsers() -> dict[str, Parse]:
    found: dict[str, Parse] = {"httpkit.h1": parse_httpkit}
    if importlib.util.find_spec("h11") is not None:
        found["h11"] = make_h11()
    if importlib.util.find_spec("httptools") is not None:
        found["httptools"] = make_httptools()
    return found


def calibrate(parse: Parse, data: bytes, seconds: float) -> int:
    """How many calls make one timing round of about ``seconds``."""
    loops = 1
    while loops < 1 << 20:  # doubling, bounded
        start = time.perf_counter()
        for _ in range(loops):
            parse(data)
        if time.perf_counter() - start >= seconds:
            break
        loops *= 2
    return loops


def best_microseconds(found: dict[str, Parse], data: bytes, seconds: float) -> dict[str, float]:
    """µs per call of each parser: best of 5 rounds, the parsers taking turns each round.

    Taking turns (rather than timing one parser, then the next) keeps the ratios fair
    when other work on a shared machine comes and goes during the run.
    """
    loops = {name: calibrate(parse, data, seconds / 25) for name, parse in found.items()}
    best = dict.fromkeys(found, float("inf"))
    for _ in range(5):
        for name, parse in found.items():
            start = time.perf_counter()
            for _ in range(loops[name]):
                parse(data)
            elapsed = (time.perf_counter() - start) / loops[name]
            best[name] = min(best[name], elapsed * 1e6)
    return best


def measure(seconds: float) -> dict[str, dict[str, float]]:
    """{parser: {input name: µs per request}}, after checking the parsers agree."""
    found = parsers()
    for name, data in INPUTS.items():
        results = {parser: parse(data) for parser, parse in found.items()}
        if len(set(results.values())) != 1:
            raise SystemExit(f"parsers disagree on {name}: {results}")
    by_input = {name: best_microseconds(found, data, seconds) for name, data in INPUTS.items()}
    return {parser: {name: by_input[name][parser] for name in INPUTS} for parser in found}


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    args = options.parse_args(argv)
    timings = measure(0.2 if args.quick else 3.0)
    print(f"browser head: {len(BROWSER_HEAD)} bytes; chunked request: {len(CHUNKED_REQUEST)}")
    print(f"{'parser':<12} {'input':<14} {'µs/request':>11} {'vs h11':>8}")
    for name in INPUTS:
        for parser, micros in timings.items():
            ratio = f"{timings['h11'][name] / micros[name]:.1f}x" if "h11" in timings else "-"
            print(f"{parser:<12} {name:<14} {micros[name]:>11.2f} {ratio:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
