"""Results as JSON, ratios, and the reStructuredText pieces the performance page uses.

The page (:mod:`harness.page`) is written from the results dict alone, so that a small
hand-made dict is enough to test it, and a saved JSON file can be re-rendered without
measuring again (``bench/suite.py --render FILE``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

__all__ = [
    "figure",
    "heading",
    "image",
    "list_table",
    "load_results",
    "number",
    "ratio",
    "save_results",
    "times",
    "why_not",
]

Row = Sequence[str]
CEILING = "asyncio-canned"
BASELINE = "waitress"  # the pure-Python WSGI server most users compare with
MISSING = "\u2013"  # an en dash: not measured, skipped or failed


def save_results(results: dict[str, Any], path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as output:
        json.dump(results, output, indent=1, sort_keys=False)
        output.write("\n")


def load_results(path: str) -> dict[str, Any]:
    with open(path) as source:
        results = json.load(source)
    if not isinstance(results, dict) or "machine" not in results:
        raise ValueError(f"{path} is not a bench results file (no 'machine' entry)")
    return results


def ratio(value: float | None, base: float | None) -> float | None:
    """value / base, or None when either is missing or the base is zero."""
    if value is None or base is None or base == 0:
        return None
    return value / base


def figure(section: dict[str, Any], name: str, *keys: str) -> float | None:
    """A number deep in a section (e.g. server -> c50 -> requests_per_second), or None."""
    node: Any = section.get(name)
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return float(node) if isinstance(node, int | float) else None


def number(value: float | None, digits: int = 0) -> str:
    return MISSING if value is None else f"{value:,.{digits}f}"


def times(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}\u00d7"


def list_table(headers: Row, rows: Sequence[Row]) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [headers, *rows]:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return [*lines, ""]


def heading(title: str, underline: str = "-") -> list[str]:
    return [title, underline * len(title), ""]


def image(charts: Sequence[str], name: str, alt: str) -> list[str]:
    if name not in charts:
        return []
    return [f".. image:: _static/perf/{name}.png", f"   :alt: {alt}", ""]


def why_not(entry: Any) -> str:
    """The reason a server or section has no figures, for a table cell."""
    if isinstance(entry, dict):
        reason = entry.get("skipped") or entry.get("failed")
        if reason:
            return f"{'skipped' if 'skipped' in entry else 'failed'}: {reason}"
    return "not measured"


def server_label(results: dict[str, Any], name: str) -> str:
    description = results.get("servers", {}).get(name)
    return f"**{name}** ({description})" if description else f"**{name}**"
