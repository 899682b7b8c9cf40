"""What a new user reads on stderr: the banner, the app's own log lines, load errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from httpkit.cli import main

LOGGING_SITE = """
import logging

# As Django does: the framework's logger has its own console handler and propagates.
framework_log = logging.getLogger("mysite")
framework_log.addHandler(logging.StreamHandler())
framework_log.setLevel(logging.INFO)

def app(environ, start_response):
    if environ["PATH_INFO"] == "/boom":
        raise ValueError("boom")
    framework_log.info("app says hello on %s", environ["PATH_INFO"])
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]

number = 5
"""

RAISER_SITE = """
def connect():
    raise RuntimeError("db url missing")

connect()
"""


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "httpkit", *args],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,  # the tests check the exit status themselves
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "logging_site.py").write_text(LOGGING_SITE)
    (tmp_path / "raiser.py").write_text(RAISER_SITE)
    return tmp_path


def fetch(url: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
    except urllib.error.HTTPError as error:
        error.read()
        error.close()


def serve_and_fetch(site: Path, args: list[str], paths: list[str]) -> str:
    """Run the server, fetch ``paths``, stop it; its whole stderr, banner included."""
    process = subprocess.Popen(
        [sys.executable, "-m", "httpkit", "serve", "logging_site:app", "--port", "0", *args],
        cwd=site,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        seen: list[str] = []
        url = None
        while url is None and len(seen) < 5:  # the banner comes first
            seen.append(process.stderr.readline())
            url = re.search(r"serving on (http://\S+)", seen[-1])
        assert url, seen
        for path in paths:
            fetch(url.group(1) + path)
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    assert process.returncode == 0
    return "".join(seen) + rest


def test_the_apps_own_log_lines_appear_once(site: Path) -> None:
    stderr = serve_and_fetch(site, [], ["/one"])
    assert stderr.count("app says hello on /one") == 1, stderr


def test_the_banner_is_information_and_requests_are_quiet(site: Path) -> None:
    stderr = serve_and_fetch(site, [], ["/a", "/b", "/c"])
    lines = stderr.strip().splitlines()
    banner = [line for line in lines if "serving on http://127.0.0.1:" in line]
    assert len(banner) == 1, stderr
    assert " INFO httpkit.server: " in banner[0]
    assert "WARNING" not in stderr
    # Beyond the banner (and the stop), only the application's own lines: nothing per
    # request from httpkit.
    ours = [line for line in lines if "httpkit" in line and "httpkit.server: stopping" not in line]
    assert ours == banner


def test_the_banner_respects_a_quieter_log_level(site: Path) -> None:
    (site / "quiet.py").write_text(LOGGING_SITE)
    command = ["serve", "quiet:app", "--port", "0", "--log-level", "warning"]
    result = subprocess.Popen(
        [sys.executable, "-m", "httpkit", *command],
        cwd=site,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, stderr = result.communicate(timeout=1.5)
    except subprocess.TimeoutExpired:
        result.terminate()
        _, stderr = result.communicate(timeout=10)
    assert "serving on" not in stderr


def test_application_errors_name_the_request(site: Path) -> None:
    stderr = serve_and_fetch(site, [], ["/boom"])
    assert "error in the application handling GET /boom" in stderr, stderr
    assert "ValueError: boom" in stderr


def test_a_module_that_fails_to_load_says_how_to_see_the_traceback(site: Path) -> None:
    result = run_cli("serve", "raiser:app", cwd=site)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "httpkit: error: cannot import 'raiser': RuntimeError: db url missing "
        "(run with --log-level debug for the traceback)"
    ]
    debug = run_cli("serve", "raiser:app", "--log-level", "debug", cwd=site)
    assert debug.returncode == 2
    assert "Traceback (most recent call last)" in debug.stderr
    assert 'raise RuntimeError("db url missing")' in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("httpkit: error: cannot import")


def test_not_an_application_reads_as_english(site: Path) -> None:
    result = run_cli("serve", "logging_site:number", cwd=site)
    assert result.returncode == 2
    assert "logging_site:number is an int, not a WSGI application" in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_access_log_format_is_checked_even_with_the_access_log_off(
    site: Path, workers: str
) -> None:
    args = ["--access-log-format", "%Z", "--workers", workers]
    result = run_cli("serve", "logging_site:app", *args, cwd=site)
    assert result.returncode == 2
    assert "access_log_format: unknown placeholder %Z" in result.stderr


def test_a_bad_host_is_a_bad_setting(site: Path) -> None:
    result = run_cli("serve", "logging_site:app", "--host", "bad host!", cwd=site)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "httpkit: error: host: not an IP address or a DNS name: 'bad host!'"
    )


def test_help_shows_an_empty_default_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "[default: ;" not in text
    assert "[default: empty; env HTTPKIT_URL_PREFIX]" in text
