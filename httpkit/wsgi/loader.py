"""Loading an application from ``MODULE:APP`` or ``MODULE:FACTORY()``."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from httpkit.errors import ConfigError

__all__ = ["TRACEBACK_HINT", "load_app", "with_article"]

TRACEBACK_HINT = " (run with --log-level debug for the traceback)"


def load_app(spec: str) -> Any:
    """The object ``spec`` names: ``package.module:name`` (``name`` may be dotted), or
    ``package.module:factory()``, which calls ``factory`` with no arguments.

    The current directory is importable, as with ``python -m``.  Every failure is a
    :class:`ConfigError` whose message fits on one line; when the module or factory
    raised, that exception is its ``__cause__`` (traceback included).
    """
    module_name, colon, attribute = spec.partition(":")
    call = attribute.endswith("()")
    if call:
        attribute = attribute[:-2]
    if not colon or not module_name or not attribute or not _is_dotted_name(attribute):
        raise ConfigError(f"expected MODULE:APP or MODULE:FACTORY(), got {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise ConfigError(f"cannot import {module_name!r}: no such module") from None
        raise ConfigError(f"cannot import {module_name!r}: {error}") from None
    except Exception as error:
        # One line on the command line; the cause keeps the traceback for --log-level debug.
        raise ConfigError(
            f"cannot import {module_name!r}: {type(error).__name__}: {error}{TRACEBACK_HINT}"
        ) from error
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigError(f"{module_name!r} has no attribute {attribute!r}") from None
    if call:
        target = _call_factory(target, spec)
    if not callable(target):
        raise ConfigError(
            f"{spec} is {with_article(type(target).__name__)}, not a WSGI application"
        )
    return target


def _call_factory(factory: Any, spec: str) -> Any:
    if not callable(factory):
        raise ConfigError(f"{spec}: {type(factory).__name__} object is not callable")
    try:
        return factory()
    except Exception as error:
        raise ConfigError(
            f"{spec} failed: {type(error).__name__}: {error}{TRACEBACK_HINT}"
        ) from error


def with_article(noun: str) -> str:
    """``noun`` with its indefinite article: "an int", "a list"."""
    return f"an {noun}" if noun[:1].lower() in ("a", "e", "i", "o", "u") else f"a {noun}"


def _is_dotted_name(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))
