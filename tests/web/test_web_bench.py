"""bench/dispatch.py keeps working: its quick mode runs and reports httpkit's figures."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_quick_benchmark_runs_and_prints_a_row_per_size() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "bench", "dispatch.py"),
            "--quick",
            "--only",
            "httpkit",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = completed.stdout.splitlines()
    assert lines[0].split()[0] == "framework"
    row = lines[1].split()
    assert row[0] == "httpkit"
    # Three timings (N = 10, 100, 1000) and the 1000/10 ratio, all positive numbers.
    assert len(row) == 5
    assert all(float(cell) > 0 for cell in row[1:])
