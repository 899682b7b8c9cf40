"""The atheris entry point runs without atheris, and passes what the parser should pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

FUZZ_TARGET = Path(__file__).parents[2] / "fuzz" / "h1_parser.py"


def load_target() -> ModuleType:
    spec = importlib.util.spec_from_file_location("h1_fuzz_target", FUZZ_TARGET)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"\x03POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
        b"\x07GET / HTTP/1.1\nHost: h\n\n",  # refused: a ProtocolError is a pass
        b"\x01" + b"A" * 2000,  # over the fuzz limits
    ],
)
def test_fuzz_target_accepts_valid_and_refused_inputs(data: bytes) -> None:
    load_target().run_one(data)


def test_fuzz_target_cuts_input_by_its_first_byte() -> None:
    assert load_target().pieces(b"\x01abcde") == [b"ab", b"cd", b"e"]
