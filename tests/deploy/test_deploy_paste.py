"""PasteDeploy: ``use = egg:httpkit`` served by ``pserve``."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deploy_helpers import write_site

from httpkit.errors import ConfigError
from httpkit.paste import server_runner, settings_from_ini

pytest.importorskip("paste.deploy")

INI = """
[app:main]
use = call:deploy_site:make_app

[server:main]
use = egg:httpkit
host = 127.0.0.1
port = 0
threads = 2
access_log = true
access_log_format = %%m %%U %%s
"""

FACTORY = """

def make_app(global_conf, **settings):
    return app
"""


def test_pserve_serves_the_app_on_httpkit(tmp_path: Path) -> None:
    write_site(tmp_path)
    site = tmp_path / "deploy_site.py"
    site.write_text(site.read_text() + FACTORY)
    (tmp_path / "site.ini").write_text(INI)
    pserve = shutil.which("pserve") or str(Path(sys.executable).parent / "pserve")
    log = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen(
        [pserve, "site.ini"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    try:
        deadline = time.monotonic() + 15
        found: list[str] = []
        while not found and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
            found = re.findall(
                r"serving on http://127\.0\.0\.1:(\d+)", (tmp_path / "stderr.log").read_text()
            )
        assert found, (tmp_path / "stderr.log").read_text()
        conn = http.client.HTTPConnection("127.0.0.1", int(found[0]), timeout=10)
        conn.request("GET", "/from-paste")
        assert conn.getresponse().read().startswith(b"pid=")
        conn.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        log.close()
    assert "GET /from-paste 200" in (tmp_path / "stderr.log").read_text()


def test_ini_values_are_parsed_and_checked() -> None:
    settings = settings_from_ini({"threads": "0", "max-body": "none", "access_log": "yes"})
    assert (settings.threads, settings.max_body, settings.access_log) == (0, None, True)
    with pytest.raises(ConfigError, match="unknown httpkit setting"):
        settings_from_ini({"thread": "2"})
    with pytest.raises(ConfigError, match="threads"):
        settings_from_ini({"threads": "many"})
    with pytest.raises(ConfigError, match="pserve --reload"):
        server_runner(lambda environ, start_response: [], {}, reload="true")
