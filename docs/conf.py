"""Sphinx configuration for httpkit's documentation."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import httpkit

project = "httpkit"
author = "The httpkit developers"
copyright = "2026, The httpkit developers"
release = httpkit.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]
autodoc_typehints = "description"
autodoc_member_order = "bysource"
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = "httpkit"
nitpicky = False


# -- the settings table, generated from httpkit.config so that it cannot drift ---------

from docutils import nodes  # noqa: E402
from docutils.parsers.rst import Directive  # noqa: E402
from docutils.statemachine import StringList  # noqa: E402


def _settings_table_lines() -> list[str]:
    from httpkit.config import SETTINGS  # noqa: PLC0415 (after sys.path is set up)

    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 22 26 12 14 40",
        "",
        "   * - Setting (``serve()`` keyword)",
        "     - Command line / environment",
        "     - Type",
        "     - Default",
        "     - Meaning",
    ]
    for setting in SETTINGS:
        default = "none" if setting.default is None else repr(setting.default)
        kind = setting.type_name
        if setting.choices:
            kind += " (" + ", ".join(setting.choices) + ")"
        lines += [
            f"   * - ``{setting.name}``",
            f"     - ``{setting.flag}`` / ``{setting.env_var}``",
            f"     - {kind}",
            f"     - ``{default}``",
            f"     - {setting.help}",
        ]
    return lines


class SettingsTable(Directive):
    """``.. httpkit-settings::`` renders every setting of httpkit.config.SETTINGS."""

    def run(self) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(
            StringList(_settings_table_lines(), source="httpkit/config/table.py"),
            self.content_offset,
            container,
        )
        return list(container.children)


def setup(app: object) -> None:
    app.add_directive("httpkit-settings", SettingsTable)  # type: ignore[attr-defined]
