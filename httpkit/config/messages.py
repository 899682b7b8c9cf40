"""How a mistake in the settings is worded, so that its reader can fix it.

An unknown name comes with the setting it probably meant (a typo), and a bad value read
from the environment names its variable, which the reader may not know is set.
"""

from __future__ import annotations

import difflib

from httpkit.config.table import SETTINGS
from httpkit.errors import ConfigError

__all__ = ["from_variable", "with_suggestion"]


def with_suggestion(name: str, prefix: str = "") -> str:
    """``name``, and the setting it probably meant: "thread (did you mean threads?)"."""
    known = [prefix + setting.name.upper() if prefix else setting.name for setting in SETTINGS]
    close = difflib.get_close_matches(name, known, n=1)
    return f"{name} (did you mean {close[0]}?)" if close else name


def from_variable(error: ConfigError, variable: str) -> ConfigError:
    """``error`` about a value read from the environment variable ``variable``, which
    the reader may not know is set."""
    return ConfigError(f"{error} (from the environment variable {variable})")
