"""``httpkit routes MODULE:APP``: the route table, through wrappers, with clear errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from httpkit.cli import main

WRAPPED_SITE = """
from httpkit.web import Router

class Wrapper:
    def __init__(self, app):
        self.app = app
    def __call__(self, environ, start_response):
        return self.app(environ, start_response)

def plain(environ, start_response):
    return []

router = Router()
router.add("/books/{{id}}", lambda request, id: id, name="book")
once = Wrapper(router)
twice = Wrapper(Wrapper(router))
too_deep = router
for _ in range(20):
    too_deep = Wrapper(too_deep)
looped = Wrapper(None)
looped.app = looped
around_plain = Wrapper(plain)
"""

_counter = itertools.count()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # A fresh module name per test: the module cache must not hand back an older one.
    name = f"wrapped_site_{next(_counter)}"
    (tmp_path / f"{name}.py").write_text(WRAPPED_SITE.format())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return name


@pytest.mark.parametrize("attribute", ["router", "once", "twice"])
def test_routes_looks_through_wrappers(
    site: str, attribute: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["routes", f"{site}:{attribute}"]) == 0
    output = capsys.readouterr().out
    assert "/books/{id}" in output
    assert output.splitlines()[0].split() == ["NAME", "METHODS", "TEMPLATE", "HANDLER"]


def test_routes_of_the_sqlite_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCALAPP_DB", str(tmp_path / "notes.db"))
    assert main(["routes", "examples.localapp:app"]) == 0
    output = capsys.readouterr().out
    assert "/notes/{id:\\d+}/toggle" in output
    assert not (tmp_path / "notes.db").exists()  # listing routes opens no database


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        ("around_plain", "is a Wrapper around a function, not an httpkit.web.Router"),
        ("plain", "is a function, not an httpkit.web.Router"),
        ("looped", "wraps itself"),
        ("too_deep", "more than 16 wrappers"),
    ],
)
def test_routes_of_something_else_is_one_clear_line(
    site: str, attribute: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["routes", f"{site}:{attribute}"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert message in error


def test_routes_help_describes_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["routes", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "Print the route table" in text
    assert "wrapper" in text


REQUIREMENTS_SITE = """
from httpkit.web import Router

router = Router()
router.add("/inline/{id:\\\\d+}", lambda request, id: id, name="inline")
router.add("/given/{slug}", lambda request, slug: slug, name="given",
           requirements={"slug": "[a-z]+"})
router.collection("/books", lambda request: "", lambda request, id: id, name="books",
                  requirement="[0-9]{4}")
"""


def test_routes_shows_requirements_inline_and_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"requirements_site_{next(_counter)}"
    (tmp_path / f"{name}.py").write_text(REQUIREMENTS_SITE)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["routes", f"{name}:router"]) == 0
    output = capsys.readouterr().out
    assert "/inline/{id:\\d+}" in output
    assert "/given/{slug:[a-z]+}" in output
    assert "/books/{id:[0-9]{4}}" in output
