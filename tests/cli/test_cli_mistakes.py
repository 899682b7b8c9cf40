"""The command line's answers to common mistakes: a near-miss option, no command, a
factory named without ``()``, a file path for a module, a bad ``HTTPKIT_*`` value.

Each runs the real ``python -m httpkit`` in a subprocess: the exit status and stderr
are what a user sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from server_helpers import server_process

import httpkit
from httpkit.errors import ConfigError

FACTORY_SITE = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"plain function app"]

def wsgi(env, respond):  # a WSGI app whatever its parameters are called
    respond("200 OK", [("Content-Type", "text/plain")])
    return [b"renamed parameters"]

def make_app(db_path=None, *, title="x"):
    return app

def create_app():
    return app

class Site:
    def __call__(self, environ, start_response):
        return app(environ, start_response)

class Configured:
    def __init__(self):
        pass

site = Site()

def three(environ, start_response, extra):
    return []
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "factory_site.py").write_text(FACTORY_SITE)
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "web.py").write_text(FACTORY_SITE)
    return tmp_path


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "httpkit", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,  # the tests check the exit status themselves
    )


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--thread", "3"], "unknown option --thread (did you mean --threads?)"),
        (["--thread=3"], "unknown option --thread (did you mean --threads?)"),
        (["--max-bdy", "10"], "unknown option --max-bdy (did you mean --max-body?)"),
        (["--reloa"], "unknown option --reloa (did you mean --reload?)"),
        (["--no-relod"], "unknown option --no-relod (did you mean --no-reload?)"),
        (["--zzz"], "unknown option --zzz"),
        (["surplus"], "unrecognized arguments: surplus"),
    ],
)
def test_an_unknown_option_is_refused_with_the_close_one(
    site: Path, args: list[str], message: str
) -> None:
    line = one_error_line(run_cli("serve", "factory_site:app", *args, cwd=site))
    assert line == f"httpkit serve: error: {message}"


def test_an_abbreviation_before_the_app_is_refused_too(site: Path) -> None:
    # argparse would take "--thread" for "--threads" (and "3" for the value) by default.
    line = one_error_line(run_cli("serve", "--thread", "3", "factory_site:app", cwd=site))
    assert "unknown option --thread (did you mean --threads?)" in line


def test_the_full_option_still_works(site: Path) -> None:
    with server_process(["factory_site:app", "--threads", "3"], cwd=str(site)) as server:
        assert fetch(server.url + "/") == b"plain function app"


def test_no_command_prints_the_usage_and_exits_2(site: Path) -> None:
    result = run_cli(cwd=site)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: httpkit ")
    assert "serve" in result.stderr and "routes" in result.stderr
    assert result.stdout == ""


def test_an_unknown_option_without_a_command(site: Path) -> None:
    line = one_error_line(run_cli("--vresion", cwd=site))
    assert line == "httpkit: error: unknown option --vresion (did you mean --version?)"


@pytest.mark.parametrize(
    ("spec", "hint"),
    [
        ("factory_site:create_app", "did you mean factory_site:create_app()?"),
        ("factory_site:make_app", "did you mean factory_site:make_app()?"),
        ("factory_site:Configured", "did you mean factory_site:Configured()?"),
        ("pkg.web:make_app", "did you mean pkg.web:make_app()?"),
    ],
)
def test_a_factory_named_without_parentheses_is_caught_at_start_up(
    site: Path, spec: str, hint: str
) -> None:
    line = one_error_line(run_cli("serve", spec, "--port", "0", cwd=site))
    assert f"{spec} is an application factory" in line
    assert line.endswith(hint)


def test_a_callable_with_the_wrong_signature_is_caught(site: Path) -> None:
    line = one_error_line(run_cli("serve", "factory_site:three", "--port", "0", cwd=site))
    assert "factory_site:three(environ, start_response, extra) cannot be called" in line


@pytest.mark.parametrize(
    ("spec", "body"),
    [
        ("factory_site:app", b"plain function app"),
        ("factory_site:wsgi", b"renamed parameters"),
        ("factory_site:site", b"plain function app"),
        ("factory_site:create_app()", b"plain function app"),
    ],
)
def test_real_wsgi_applications_are_served(site: Path, spec: str, body: bytes) -> None:
    with server_process([spec], cwd=str(site)) as server:
        assert fetch(server.url + "/") == body


@pytest.mark.parametrize(
    ("spec", "hint"),
    [
        ("pkg/web.py:app", "did you mean pkg.web:app?"),
        ("./pkg/web.py:make_app()", "did you mean pkg.web:make_app()?"),
        ("pkg/__init__.py:app", "did you mean pkg:app?"),
        ("factory_site.py:app", "did you mean factory_site:app?"),
    ],
)
def test_a_file_path_gets_the_dotted_module_name(site: Path, spec: str, hint: str) -> None:
    line = one_error_line(run_cli("serve", spec, cwd=site))
    assert "is a file path" in line
    assert line.endswith(hint)


def test_a_negative_number_gets_the_same_message_everywhere(site: Path) -> None:
    expected = "threads: must be at least 0, got -1"
    from_flag = one_error_line(run_cli("serve", "factory_site:app", "--threads", "-1", cwd=site))
    assert from_flag == f"httpkit: error: {expected}"
    from_env = one_error_line(
        run_cli("serve", "factory_site:app", cwd=site, env={"HTTPKIT_THREADS": "-1"})
    )
    assert from_env == (
        f"httpkit: error: {expected} (from the environment variable HTTPKIT_THREADS)"
    )
    with pytest.raises(ConfigError) as raised:
        httpkit.serve(lambda environ, start_response: [], threads=-1)
    assert str(raised.value) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HTTPKIT_PORT": "80a"}, "port: expected a whole number, got '80a'"),
        ({"HTTPKIT_RELOAD": "maybe"}, "reload: expected true or false, got 'maybe'"),
        ({"HTTPKIT_LOOP": "trio"}, "loop: must be one of auto, asyncio, uvloop"),
        # A rule between settings, broken by a variable's value alone.
        ({"HTTPKIT_KEYFILE": "key.pem"}, "keyfile: needs certfile"),
    ],
)
def test_a_bad_environment_value_names_its_variable(
    site: Path, env: dict[str, str], message: str
) -> None:
    line = one_error_line(run_cli("serve", "factory_site:app", cwd=site, env=env))
    variable = next(iter(env))
    assert line == f"httpkit: error: {message} (from the environment variable {variable})"


def test_a_bad_flag_value_does_not_blame_the_environment(site: Path) -> None:
    result = run_cli(
        "serve",
        "factory_site:app",
        "--keyfile",
        "key.pem",
        cwd=site,
        env={"HTTPKIT_THREADS": "2"},
    )
    assert one_error_line(result) == "httpkit: error: keyfile: needs certfile"


def test_the_command_line_wins_over_a_bad_variable(site: Path) -> None:
    env = {"HTTPKIT_THREADS": "many"}
    with server_process(["factory_site:app", "--threads", "2"], cwd=str(site), env=env) as server:
        assert fetch(server.url + "/") == b"plain function app"
