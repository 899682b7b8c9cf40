"""httpkit: a strict HTTP/1.1 server and a Routes-based dispatcher, joined by WSGI.

The public names are imported lazily (PEP 562), so that ``import httpkit.h1`` costs
nothing more than the protocol core and the layers stay independent at run time too.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports
    from httpkit.embed import AsyncServer as AsyncServer
    from httpkit.embed import BackgroundServer as BackgroundServer
    from httpkit.embed import serving as serving
    from httpkit.errors import ConfigError as ConfigError
    from httpkit.errors import HttpkitError as HttpkitError
    from httpkit.errors import ProtocolError as ProtocolError
    from httpkit.errors import ResponseError as ResponseError
    from httpkit.runner import serve as serve
    from httpkit.web import HTML as HTML
    from httpkit.web import Handler as Handler
    from httpkit.web import Router as Router
    from httpkit.web import check_preconditions as check_preconditions

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "HttpkitError": "httpkit.errors",
    "ProtocolError": "httpkit.errors",
    "ResponseError": "httpkit.errors",
    "ConfigError": "httpkit.errors",
    "Router": "httpkit.web",
    "Handler": "httpkit.web",
    "HTML": "httpkit.web",
    "check_preconditions": "httpkit.web",
    "serve": "httpkit.runner",
    "serving": "httpkit.embed",
    "AsyncServer": "httpkit.embed",
    "BackgroundServer": "httpkit.embed",
}

__all__ = [  # noqa: PLE0604 (the keys are the public names)
    "__version__",
    *_EXPORTS,
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'httpkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
