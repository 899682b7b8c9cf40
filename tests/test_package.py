"""The package's top level: lazy public names and the error families."""

from __future__ import annotations

import subprocess
import sys

import pytest

import httpkit
from httpkit.errors import ConfigError, HttpkitError, ProtocolError, ResponseError


def test_errors_share_one_family() -> None:
    for error in (ConfigError("x"), ProtocolError("x"), ResponseError("x")):
        assert isinstance(error, HttpkitError)


def test_protocol_error_carries_its_status() -> None:
    error = ProtocolError("header section too large", status=431)
    assert error.status == 431
    assert "431" in repr(error)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        httpkit.no_such_name  # noqa: B018


def test_importing_the_protocol_core_loads_no_other_layer() -> None:
    code = (
        "import sys, httpkit.h1.events; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('webob', 'routes', 'asyncio') or m.startswith(('httpkit.web', 'httpkit.server'))))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"
