"""An ``async def`` handler is refused by ``Router.add``, not a 500 on every request."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from webtest import TestApp

from httpkit import Handler, Router


async def fetch_report(request: Any) -> str:
    return "report"


async def stream_report(request: Any) -> AsyncIterator[bytes]:
    yield b"report"


class AsyncCallable:
    async def __call__(self, request: Any) -> str:
        return "report"


class Reports(Handler):
    def get(self, request: Any) -> str:
        return "reports"

    async def post(self, request: Any) -> str:
        return "made"


class AsyncValidator(Handler):
    def get(self, request: Any) -> str:
        return "reports"

    async def etag(self, request: Any) -> str:
        return "v1"


@pytest.mark.parametrize(
    ("handler", "methods", "name"),
    [
        (fetch_report, None, "fetch_report"),
        (fetch_report, ["GET", "POST"], "fetch_report"),
        (stream_report, None, "stream_report"),
        (functools.partial(fetch_report), None, "fetch_report"),
        (AsyncCallable(), None, "AsyncCallable.__call__"),
        (Reports, None, "Reports.post"),
        (Reports, ["POST"], "Reports.post"),
        (functools.partial(Reports), None, "Reports.post"),
        (AsyncValidator, None, "AsyncValidator.etag"),
    ],
)
def test_async_handler_is_refused_when_added(handler: Any, methods: Any, name: str) -> None:
    router = Router()
    with pytest.raises(TypeError, match=rf"{name} is an async def handler.*define it with def"):
        router.add("/reports", handler, methods=methods)
    assert router.routes == ()


def test_a_class_limited_to_its_plain_methods_is_accepted() -> None:
    router = Router()
    router.add("/reports", Reports, methods=["GET"])
    assert TestApp(router).get("/reports").text == "reports"


def test_a_plain_callable_object_is_accepted() -> None:
    class Plain:
        def __call__(self, request: Any) -> str:
            return "plain"

    router = Router()
    router.add("/plain", Plain())
    assert TestApp(router).get("/plain").text == "plain"
