"""PasteDeploy: ``use = egg:httpkit`` in the ``[server:main]`` section of an ``.ini`` file.

::

    [server:main]
    use = egg:httpkit
    host = 127.0.0.1
    port = 6543
    threads = 8

Every option is a setting name from the settings page, with the same text form as its
``HTTPKIT_*`` environment variable; ``pserve app.ini`` then serves on httpkit.
"""

from __future__ import annotations

from typing import Any

from httpkit.config import SETTINGS, Settings
from httpkit.errors import ConfigError
from httpkit.runner import run, run_supervised
from httpkit.wsgitypes import WSGIApp

__all__ = ["server_runner"]

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def settings_from_ini(local_conf: dict[str, str]) -> Settings:
    """Settings from the ``[server:...]`` options (text, as PasteDeploy passes them)."""
    values: dict[str, Any] = {}
    for key, text in local_conf.items():
        setting = _BY_NAME.get(key.replace("-", "_"))
        if setting is None:
            raise ConfigError(f"unknown httpkit setting in the server section: {key}")
        values[setting.name] = setting.parse(text)
    return Settings(**values)


def server_runner(wsgi_app: WSGIApp, global_conf: dict[str, str], **local_conf: str) -> None:
    """The ``paste.server_runner`` entry point: serve ``wsgi_app`` until SIGTERM/SIGINT.

    With ``workers`` above 1 the application, already loaded by PasteDeploy, is shared
    by the forked workers: SIGHUP restarts them but cannot load new code (restart
    ``pserve`` for that).
    """
    settings = settings_from_ini(local_conf)
    if settings.reload:
        raise ConfigError("reload: use pserve --reload with PasteDeploy")
    if settings.workers == 1:
        run(wsgi_app, settings)
    else:
        run_supervised(lambda: wsgi_app, settings)
