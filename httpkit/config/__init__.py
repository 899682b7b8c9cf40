"""The server's settings, declared once.

Every setting is one :class:`Setting` in :data:`SETTINGS`: its name, type, default and
help.  The command line (``httpkit serve --help``), the ``HTTPKIT_*`` environment
variables, the keyword arguments of :func:`httpkit.serve` and the settings page of the
documentation are all generated from that table, so they cannot drift apart.

A :class:`Settings` object holds one validated value per setting; the server reads it
and nothing else.
"""

from __future__ import annotations

from httpkit.config.settings import Settings
from httpkit.config.table import SETTINGS
from httpkit.config.values import (
    PROXY_HEADER_NAMES,
    parse_bind,
    parse_networks,
    split_list,
    trusted_header_names,
)
from httpkit.setting import ENV_PREFIX, Setting

__all__ = [
    "ENV_PREFIX",
    "PROXY_HEADER_NAMES",
    "SETTINGS",
    "Setting",
    "Settings",
    "parse_bind",
    "parse_networks",
    "split_list",
    "trusted_header_names",
]
