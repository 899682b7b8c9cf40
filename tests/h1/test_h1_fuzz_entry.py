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


def test_fuzz_target_sees_whole_bodies_and_the_final_status() -> None:
    target = load_target()
    wire = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcdGET / HTTP/1.1\r\n\r\n"
    got = target.outcome([wire[:40], wire[40:]])
    assert [type(item).__name__ for item in got] == ["Request", "bytes", "EndOfMessage", "int"]
    assert (got[1], got[-1]) == (b"abcd", 400)  # the second request has no Host


def test_fuzz_target_fails_when_cutting_changes_the_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A stand-in for a parser bug: reads that lose a byte must be reported, not passed.
    target = load_target()
    monkeypatch.setattr(target, "pieces", lambda data: [data[1:-1]])
    with pytest.raises(RuntimeError, match="changed the outcome"):
        target.run_one(b"\x00GET / HTTP/1.1\r\nHost: h\r\n\r\n")
