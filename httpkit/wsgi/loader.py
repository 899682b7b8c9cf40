"""Loading an application from ``MODULE:APP`` or ``MODULE:FACTORY()``."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from typing import Any

from httpkit.errors import ConfigError

__all__ = ["TRACEBACK_HINT", "check_wsgi_callable", "factory_hint", "load_app", "with_article"]

TRACEBACK_HINT = " (run with --log-level debug for the traceback)"


def load_app(spec: str, *, check: bool = True) -> Any:
    """The object ``spec`` names: ``package.module:name`` (``name`` may be dotted), or
    ``package.module:factory()``, which calls ``factory`` with no arguments.

    The current directory is importable, as with ``python -m``.  Every failure is a
    :class:`ConfigError` whose message fits on one line; when the module or factory
    raised, that exception is its ``__cause__`` (traceback included).  With ``check``,
    what cannot be a WSGI application is refused (:func:`check_wsgi_callable`); the runner,
    which serves ASGI applications too, checks for itself.
    """
    module_name, colon, attribute = spec.partition(":")
    call = attribute.endswith("()")
    if call:
        attribute = attribute[:-2]
    if not colon or not module_name or not attribute or not _is_dotted_name(attribute):
        raise ConfigError(f"expected MODULE:APP or MODULE:FACTORY(), got {spec!r}")
    looks_like_a_file = "/" in module_name or os.sep in module_name
    if looks_like_a_file:  # no module name has a slash, and importing one says little
        raise ConfigError(_file_path_hint(module_name, spec))
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if module_name.endswith(".py"):  # "app.py:app", unless a package has a "py"
            raise ConfigError(_file_path_hint(module_name, spec)) from None
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
    if check:
        check_wsgi_callable(target, spec, factory_hint=factory_hint(spec))
    return target


def factory_hint(spec: str) -> str:
    """How to call the factory ``spec`` names, unless it is called already."""
    return "" if spec.endswith("()") else f"did you mean {spec}()?"


def check_wsgi_callable(app: Any, name: str, *, factory_hint: str = "") -> None:
    """Refuse ``app`` (called ``name`` in the message) when it cannot be a WSGI
    application: not callable, or a callable that cannot take ``(environ,
    start_response)`` -- most often an application factory named without ``()``, which
    would otherwise answer every request with a 500.

    The decision is the signature's: a plain function ``app(environ, start_response)``
    (whatever its parameters are called) passes, as does a callable whose signature
    Python cannot tell (a builtin).  ``factory_hint`` ends the message about a
    callable that takes no arguments (how to call the factory instead).
    """
    if not callable(app):
        raise ConfigError(f"{name} is {with_article(type(app).__name__)}, not a WSGI application")
    try:
        signature = inspect.signature(app)
    except (TypeError, ValueError):
        return  # no signature to read: let the first request tell
    if _accepts(signature, 2):
        return
    if _accepts(signature, 0):
        hint = f": {factory_hint}" if factory_hint else ""
        raise ConfigError(
            f"{name} is an application factory (it takes no arguments), not a WSGI "
            f"application (environ, start_response){hint}"
        )
    raise ConfigError(
        f"{name}{signature} cannot be called as a WSGI application (environ, start_response)"
    )


def _accepts(signature: inspect.Signature, count: int) -> bool:
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


def _file_path_hint(path: str, spec: str) -> str:
    """What to say of ``examples/atompub.py:app``: the dotted name ``examples.atompub``,
    as ``python -m`` takes it, from the directory that holds the package."""
    parts = [part for part in path.replace(os.sep, "/").split("/") if part not in ("", ".")]
    dotted = ".".join(parts).removesuffix(".py").removesuffix(".__init__")
    attribute = spec.partition(":")[2]
    return (
        f"{path!r} is a file path; name the module as Python imports it: "
        f"did you mean {dotted}:{attribute}?"
    )


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
