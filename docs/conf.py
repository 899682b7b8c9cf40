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
