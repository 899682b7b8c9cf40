"""A Django project's admin, served with its collected static files beside it: styled."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
from pathlib import Path

from example_commands import ROOT, httpkit_serve


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_the_admin_comes_up_with_its_css(tmp_path: Path) -> None:
    environ = {
        "DJANGO_SETTINGS_MODULE": "examples.django_static.settings",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "DJANGO_DATABASE": str(tmp_path / "db.sqlite3"),
    }
    env = {**os.environ, **environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    # The documented steps: collectstatic, then httpkit serve.
    collected = subprocess.run(
        [sys.executable, "-m", "django", "collectstatic", "--noinput"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert collected.returncode == 0, collected.stderr
    with httpkit_serve("examples.django_static.site:app", tmp_path, environ=environ) as port:
        status, _, page = _get(port, "/admin/login/")
        assert status == 200
        stylesheets = re.findall(rb'<link rel="stylesheet" href="([^"]+)"', page)
        assert b"/static/admin/css/base.css" in stylesheets
        for href in stylesheets:
            css_status, headers, css = _get(port, href.decode())
            assert css_status == 200, href
            assert headers["Content-Type"].startswith("text/css")
            assert (
                css == (tmp_path / "static" / href.decode().removeprefix("/static/")).read_bytes()
            )


def test_without_collectstatic_the_error_says_what_to_run(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "examples.django_static.settings",
        "DJANGO_STATIC_ROOT": str(tmp_path / "never-collected"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "httpkit", "serve", "examples.django_static.site:app"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "collectstatic" in result.stderr
