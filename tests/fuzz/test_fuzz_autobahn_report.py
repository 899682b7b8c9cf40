"""fuzz/autobahn/report.py: the suite's index.json as a table, failures named (the
command, on reports written here in the suite's format)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPORT = Path(__file__).resolve().parents[2] / "fuzz" / "autobahn" / "report.py"


def write_reports(directory: Path, outcomes: dict[str, tuple[str, str]]) -> None:
    """An index.json and one case file per case, as ``wstest`` leaves them."""
    index: dict[str, Any] = {}
    for case, (behavior, close) in outcomes.items():
        name = f"httpkit_case_{case.replace('.', '_')}.json"
        index[case] = {"behavior": behavior, "behaviorClose": close, "reportfile": name}
        case_report = {
            "description": f"Send <b>case {case}</b>",
            "expectation": "Echo.",
            "result": f"saw {behavior}",
            "resultClose": f"closed {close}",
            "received": [["message", "partial", False]],
            "expected": {"OK": [["message", "Hello", False]]},
        }
        (directory / name).write_text(json.dumps(case_report))
    (directory / "index.json").write_text(json.dumps({"httpkit": index}))


def report(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPORT), str(directory)],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )


def row(output: str, section: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith(section))
    return line.split()[-4:]  # OK, NON-STRICT, INFORMATIONAL, FAILED


def test_allowed_outcomes_pass_and_non_strict_ones_are_explained(tmp_path: Path) -> None:
    write_reports(
        tmp_path,
        {
            "1.1.1": ("OK", "OK"),
            "3.2": ("NON-STRICT", "OK"),
            "7.1.6": ("INFORMATIONAL", "INFORMATIONAL"),
        },
    )
    result = report(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert row(result.stdout, " 1 framing") == ["1", "0", "0", "0"]
    assert row(result.stdout, " 3 reserved bits") == ["0", "1", "0", "0"]
    assert row(result.stdout, "all") == ["1", "1", "1", "0"]
    assert "3.2: NON-STRICT (closing: OK)" in result.stdout
    assert "description: Send case 3.2" in result.stdout  # the suite's HTML tags dropped
    assert "received: [['message', 'partial', False]]" in result.stdout
    assert "1.1.1:" not in result.stdout  # a plain OK is only counted
    assert result.stdout.rstrip().endswith("0 failed")


def test_failed_unimplemented_and_bad_closes_fail_named_in_case_order(tmp_path: Path) -> None:
    write_reports(
        tmp_path,
        {
            "2.10": ("FAILED", "OK"),
            "2.9": ("OK", "WRONG CODE"),
            "12.1.1": ("UNIMPLEMENTED", "OK"),
            "2.1": ("OK", "OK"),
        },
    )
    result = report(tmp_path)
    assert result.returncode == 1
    assert row(result.stdout, " 2 pings and pongs") == ["1", "0", "0", "2"]
    assert row(result.stdout, "12 compression") == ["0", "0", "0", "1"]
    assert "2.9: OK (closing: WRONG CODE)" in result.stdout
    assert "    resultClose: closed WRONG CODE" in result.stdout
    assert result.stdout.rstrip().endswith("3 failed: 2.9 2.10 12.1.1")
