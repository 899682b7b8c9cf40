"""The AtomPub tutorial, typed as written: its install command is the README's, and its
curl session runs against ``httpkit serve examples.atompub:app`` with the answers it
shows (the picture it uploads ships with the example)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from example_commands import ROOT, httpkit_serve

TUTORIAL = ROOT / "docs" / "tutorial-atompub.rst"
README = ROOT / "README.rst"
CURL = shutil.which("curl")
SESSION_TITLE = "a full cycle with curl"
PLACEHOLDER_ETAG = '"5b0d..."'


def session() -> list[tuple[str, list[str]]]:
    """(command, the answer lines the tutorial shows) for each ``$`` line of the session."""
    text = TUTORIAL.read_text(encoding="utf-8")
    start = text.index(SESSION_TITLE)
    block = text[start : text.index("\nThen ", start)]
    steps: list[tuple[str, list[str]]] = []
    lines = iter(block.splitlines())
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("$ "):
            command = stripped[2:]
            while command.endswith("\\"):
                command = command[:-1] + " " + next(lines).strip()
            steps.append((command, []))
        elif steps and stripped and stripped != "...":
            steps[-1][1].append(stripped)
    return steps


def test_the_tutorial_installs_what_the_readme_installs() -> None:
    readme_install = re.search(r"pip install -e '\.\[examples\]'", README.read_text())
    assert readme_install is not None
    first_command = re.search(r"^\s+(pip install .*)$", TUTORIAL.read_text(), re.MULTILINE)
    assert first_command is not None
    assert first_command.group(1) == readme_install.group(0)


def test_the_picture_the_tutorial_uploads_ships_with_the_example() -> None:
    logo = ROOT / "examples" / "atompub" / "logo.png"
    assert logo.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert any("@examples/atompub/logo.png" in command for command, _ in session())


@pytest.mark.skipif(CURL is None, reason="curl is not installed (apt-get install curl)")
def test_the_curl_session_answers_as_the_tutorial_shows(tmp_path: Path) -> None:
    steps = session()
    assert steps[0][0] == "httpkit serve examples.atompub:app &"
    assert len(steps) == 6
    with httpkit_serve("examples.atompub:app", tmp_path, environ={"ATOMPUB_DB": ""}) as port:
        etag = None
        for typed, shown in steps[1:]:
            command = typed.split("  #", 1)[0].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
            if etag is not None:
                command = command.replace(PLACEHOLDER_ETAG, etag)
            # cwd: the checkout's root, where the tutorial's commands are typed.
            result = subprocess.run(
                shlex.split(command), cwd=ROOT, capture_output=True, timeout=20, check=True
            )
            answer = result.stdout.decode()
            for line in shown:
                if line.startswith("ETag:"):
                    found = re.search(r"^ETag: (\S+)\r?$", answer, re.MULTILINE)
                    assert found is not None, answer
                    etag = found.group(1)
                    continue
                expected = line.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
                assert expected in answer.replace("\r\n", "\n"), (command, answer)
    assert (tmp_path / "atompub.db").is_file()


@pytest.mark.skipif(CURL is None, reason="curl is not installed (apt-get install curl)")
def test_the_readme_curl_command_publishes_an_entry(tmp_path: Path) -> None:
    readme = README.read_text()
    found = re.search(r"^ *\$ (curl .*?)$\n\n", readme, re.MULTILINE | re.DOTALL)
    assert found is not None
    command = " ".join(part.strip() for part in found.group(1).split("\\\n"))
    with httpkit_serve("examples.atompub:app", tmp_path, environ={"ATOMPUB_DB": ""}) as port:
        command = command.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        result = subprocess.run(
            shlex.split(command), capture_output=True, timeout=20, check=True, cwd=tmp_path
        )
    assert result.stdout.startswith(b"HTTP/1.1 201 Created"), result.stdout
