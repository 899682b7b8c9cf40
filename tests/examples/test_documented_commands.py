"""Each example answers when started by the command its docstring documents."""

from __future__ import annotations

import http.client
import importlib
from pathlib import Path

import pytest
from example_commands import httpkit_serve

# (app, extra arguments, path, a piece of the expected body)
EXAMPLES = [
    ("examples.cookbook:app", (), "/hello", b"Hello, world!"),
    ("examples.rest:app", (), "/books", b'"count":0'),
    ("examples.mounting:app", (), "/django/", b'"self": "/django/"'),
    ("examples.localapp:app", ("--threads", "0", "--host", "127.0.0.1"), "/", b"<h1>Notes"),
    ("examples.atompub:app", (), "/service", b'<service xmlns="http://www.w3.org/2007/app"'),
]


@pytest.mark.parametrize(("app", "arguments", "path", "expected"), EXAMPLES)
def test_documented_command_serves_the_example(
    tmp_path: Path, app: str, arguments: tuple[str, ...], path: str, expected: bytes
) -> None:
    with httpkit_serve(app, tmp_path, arguments) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert response.status == 200
    assert expected in body


def test_every_example_module_documents_how_to_run_it() -> None:
    for app, arguments, _, _ in EXAMPLES:
        module = importlib.import_module(app.split(":")[0])
        command = " ".join(["httpkit serve", app, *arguments])
        assert command in " ".join((module.__doc__ or "").split()), app
