"""The commands and Python samples in docs/ are ones a reader can paste as they are.

Cheap static checks, no server: every ``$ httpkit ...`` line parses in a POSIX shell
(an unquoted ``MODULE:FACTORY()`` is a shell syntax error) and on httpkit's own command
line, with settings that pass validation; every ``.. code-block:: python`` is valid Python.
"""

from __future__ import annotations

import ast
import re
import shlex
import textwrap
from pathlib import Path

import pytest

from httpkit.cli import build_parser, settings_from
from httpkit.errors import ConfigError

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(DOCS.rglob("*.rst"))
COMMAND = re.compile(r"^\s*\$ ((?:HTTPKIT_\w+=\S+ )*)(?:python -m )?(httpkit .*)$")
PYTHON_BLOCK = re.compile(r"^(\s*)\.\. code-block:: python\s*$")


def _commands() -> list[tuple[str, str, str]]:
    """(page:line, environment, command) for each documented httpkit command."""
    found = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = COMMAND.match(line)
            if match is None:
                continue
            command, following = match.group(2), number + 1
            while command.rstrip().endswith("\\") and following < len(lines):
                command = command.rstrip()[:-1] + " " + lines[following].strip()
                following += 1
            where = f"{page.relative_to(DOCS)}:{number + 1}"
            found.append((where, match.group(1), command))
    return found


def _python_blocks() -> list[tuple[str, str]]:
    """(page:line, source) for each ``.. code-block:: python`` directive's body."""
    found = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = PYTHON_BLOCK.match(line)
            if match is None:
                continue
            indent, body = len(match.group(1)), []
            for following in lines[number + 1 :]:
                stripped_indent = len(following) - len(following.lstrip())
                if following.strip() and stripped_indent <= indent:
                    break  # the directive's body ends at the first line not indented under it
                body.append(following)
            found.append(
                (f"{page.relative_to(DOCS)}:{number + 1}", textwrap.dedent("\n".join(body)))
            )
    return found


def _shell_words(command: str) -> list[str]:
    """The words a POSIX shell would pass, or AssertionError if it would choke on the line."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    if words and words[-1] == "&":  # started in the background, as the tutorial does
        words.pop()
    operators = [word for word in words if word and set(word) <= set("();<>|&")]
    assert not operators, f"unquoted shell operators {operators} in {command!r}"
    return words


COMMANDS = _commands()
PYTHON_BLOCKS = _python_blocks()


def test_the_docs_show_commands_and_samples() -> None:
    # Guards the scanners themselves: a regex that silently finds nothing passes everything.
    assert len(COMMANDS) >= 12
    assert len(PYTHON_BLOCKS) >= 8


@pytest.mark.parametrize(
    ("where", "environment", "command"), COMMANDS, ids=[c[0] for c in COMMANDS]
)
def test_documented_command_is_accepted(where: str, environment: str, command: str) -> None:
    words = _shell_words(command)
    assert words[0] == "httpkit"
    parser = build_parser()
    try:
        arguments = parser.parse_args(words[1:])
    except SystemExit as exit_:
        pytest.fail(f"{where}: httpkit refuses {command!r} (exit {exit_.code})")
    if arguments.command == "serve":
        try:
            settings_from(arguments, dict(pair.split("=", 1) for pair in environment.split()))
        except ConfigError as error:
            pytest.fail(f"{where}: {command!r}: {error}")


@pytest.mark.parametrize(("where", "source"), PYTHON_BLOCKS, ids=[w for w, _ in PYTHON_BLOCKS])
def test_python_sample_is_valid_python(where: str, source: str) -> None:
    try:
        ast.parse(source)
    except SyntaxError as error:
        pytest.fail(f"{where}: line {error.lineno}: {error.msg}")


def test_an_unquoted_factory_is_caught() -> None:
    with pytest.raises(AssertionError, match="unquoted shell operators"):
        _shell_words("httpkit serve myapp:create_app() --threads 0")
    assert _shell_words("httpkit serve 'myapp:create_app()' --threads 0")[2] == (
        "myapp:create_app()"
    )
