"""In-process dispatch cost: httpkit's Router beside Falcon, Pyramid and Flask.

For N = 10, 100, 1000 each framework gets N+1 routes ``/r{i}/{id}`` served by a
method-based handler (a class with ``get``) returning a short text; the benchmark calls
the WSGI application directly for the *last* route and consumes the body.  It prints
microseconds per request, httpkit/Falcon at each N, and the 1000/10 ratio per framework.

    python bench/dispatch.py            # a full run (about a minute)
    python bench/dispatch.py --quick    # a seconds-long smoke run for CI
"""

from __future__ import annotations

import argparse
import gc
import io
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # at run time httpkit is imported by its builder, like the others
    from httpkit.wsgitypes import WSGIApp

SIZES = (10, 100, 1000)


# Each builder imports its framework itself, so that a framework not installed is skipped.
def build_httpkit(count: int) -> WSGIApp:
    from httpkit.web import Handler, Router  # noqa: PLC0415 (a missing framework is skipped)

    class Item(Handler):
        def get(self, request: Any, id: str) -> str:
            return "hello " + id

    router = Router()
    for number in range(count + 1):
        router.add(f"/r{number}/{{id}}", Item)
    return router


def build_falcon(count: int) -> WSGIApp:
    import falcon  # noqa: PLC0415 (a missing framework is skipped)

    class Item:
        def on_get(self, req: Any, resp: Any, id: str) -> None:
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = "hello " + id

    app = falcon.App()
    for number in range(count + 1):
        app.add_route(f"/r{number}/{{id}}", Item())
    return app  # type: ignore[return-value]  # falcon types write() as returning None


def build_pyramid(count: int) -> WSGIApp:
    from pyramid.config import Configurator  # type: ignore[import-untyped]  # noqa: PLC0415
    from pyramid.response import Response  # type: ignore[import-untyped]  # noqa: PLC0415

    class Item:
        def __init__(self, request: Any) -> None:
            self.request = request

        def get(self) -> Any:
            return Response("hello " + self.request.matchdict["id"], content_type="text/plain")

    with Configurator() as config:
        for number in range(count + 1):
            config.add_route(f"r{number}", f"/r{number}/{{id}}")
            config.add_view(Item, attr="get", route_name=f"r{number}", request_method="GET")
        return config.make_wsgi_app()  # type: ignore[no-any-return]


def build_flask(count: int) -> WSGIApp:
    from flask import Flask  # noqa: PLC0415 (a missing framework is skipped)
    from flask.views import MethodView  # noqa: PLC0415 (a missing framework is skipped)

    class Item(MethodView):
        def get(self, id: str) -> Any:
            return "hello " + id, 200, {"Content-Type": "text/plain"}

    app = Flask("bench")
    for number in range(count + 1):
        app.add_url_rule(f"/r{number}/<id>", view_func=Item.as_view(f"r{number}"))
    return app.wsgi_app


BUILDERS: dict[str, Callable[[int], WSGIApp]] = {
    "httpkit": build_httpkit,
    "falcon": build_falcon,
    "pyramid": build_pyramid,
    "flask": build_flask,
}


def environ_for(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def measure_app(app: WSGIApp, path: str, requests: int, repeats: int) -> float:
    """Best of ``repeats`` runs of ``requests`` calls, in microseconds per request."""
    template = environ_for(path)
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return None

    body = b"".join(app(dict(template), start_response))
    if not statuses[-1].startswith("200") or b"hello 7" not in body:
        raise SystemExit(f"{path} answered {statuses[-1]} {body[:80]!r}: the benchmark is wrong")
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        for _ in range(requests):
            result = app(dict(template), start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        best = min(best, time.perf_counter() - started)
        statuses.clear()
    return best / requests * 1e6


def measure(names: list[str], requests: int, repeats: int) -> dict[str, dict[int, float]]:
    """{framework: {routes: µs per request}}; a framework not installed is left out."""
    results: dict[str, dict[int, float]] = {}
    for name in names:
        try:
            results[name] = {
                size: measure_app(BUILDERS[name](size), f"/r{size}/7", requests, repeats)
                for size in SIZES
            }
        except ImportError as error:
            print(f"{name}: skipped ({error})")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--only", action="append", choices=sorted(BUILDERS), help="frameworks")
    options = parser.parse_args(argv)
    requests, repeats = (300, 2) if options.quick else (5000, 5)
    results = measure(options.only or list(BUILDERS), requests, repeats)
    columns = "".join(f"{f'N={size} (us)':>14}" for size in SIZES)
    print(f"{'framework':<10}{columns}  1000/10")
    for name, timings in results.items():
        cells = "".join(f"{timings[size]:>14.2f}" for size in SIZES)
        print(f"{name:<10}{cells}  {timings[1000] / timings[10]:>7.2f}")
    if "httpkit" in results and "falcon" in results:
        ratios = "  ".join(
            f"N={size}: {results['httpkit'][size] / results['falcon'][size]:.2f}" for size in SIZES
        )
        print(f"httpkit/falcon  {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
