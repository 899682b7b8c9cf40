"""The Autobahn|Testsuite fuzzing client's results as a table, one row per section.

    python fuzz/autobahn/report.py REPORTS_DIR [AGENT]

Reads ``index.json`` in REPORTS_DIR (what ``wstest -m fuzzingclient`` writes) and prints,
for each section of the suite, how many cases ended with each outcome; then every case
that did not pass, and every NON-STRICT one, with what the suite expected and saw.  Exits
1 if any case failed.

A case passes when its behaviour is OK, NON-STRICT (allowed, less strict than the suite
would like) or INFORMATIONAL (only recorded), and its closing handshake is OK or
INFORMATIONAL.  Everything else -- FAILED, WRONG CODE, UNCLEAN, NO CLOSE, and
UNIMPLEMENTED (a compression case against a server without permessage-deflate) -- fails.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from typing import Any

SECTIONS = {
    1: "framing",
    2: "pings and pongs",
    3: "reserved bits",
    4: "opcodes",
    5: "fragmentation",
    6: "UTF-8",
    7: "close handling",
    9: "limits and performance",
    10: "miscellaneous",
    12: "compression, payloads",
    13: "compression, parameters",
}
PASSING = frozenset(("OK", "NON-STRICT", "INFORMATIONAL"))
CLOSE_PASSING = frozenset(("OK", "INFORMATIONAL"))
COLUMNS = ("OK", "NON-STRICT", "INFORMATIONAL", "FAILED")


def case_key(case: str) -> tuple[int, ...]:
    return tuple(int(part) for part in case.split("."))


def passed(outcome: dict[str, Any]) -> bool:
    return outcome["behavior"] in PASSING and outcome["behaviorClose"] in CLOSE_PASSING


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    """One line per section: the count of cases in each column (FAILED: all that failed)."""
    counts: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for case, outcome in results.items():
        column = outcome["behavior"] if passed(outcome) else "FAILED"
        counts[case_key(case)[0]][column] += 1
    lines = [f"{'section':<30}" + "".join(f"{name:>15}" for name in COLUMNS)]
    for section in sorted(counts):
        name = f"{section:>2} {SECTIONS.get(section, '')}"
        lines.append(f"{name:<30}" + "".join(f"{counts[section][c]:>15}" for c in COLUMNS))
    total = collections.Counter[str]()
    for row in counts.values():
        total.update(row)
    lines.append(f"{'all':<30}" + "".join(f"{total[c]:>15}" for c in COLUMNS))
    return lines


def details(directory: Path, case: str, outcome: dict[str, Any]) -> list[str]:
    """What the suite says of one case: its description, expectation and findings."""
    report = json.loads((directory / outcome["reportfile"]).read_text())
    lines = [f"{case}: {outcome['behavior']} (closing: {outcome['behaviorClose']})"]
    for field in ("description", "expectation", "result", "resultClose"):
        text = str(report.get(field, "")).replace("<b>", "").replace("</b>", "")
        lines.append(f"    {field}: {text}")
    if outcome["behavior"] != "OK":
        lines.append(f"    received: {_short(report.get('received'))}")
        lines.append(f"    OK would be: {_short(report.get('expected', {}).get('OK'))}")
    return lines


def _short(value: object, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def main(argv: list[str]) -> int:
    directory = Path(argv[1])
    index = json.loads((directory / "index.json").read_text())
    agent = argv[2] if len(argv) > 2 else next(iter(index))
    results: dict[str, dict[str, Any]] = index[agent]
    failed = sorted((c for c, o in results.items() if not passed(o)), key=case_key)
    lines = [f"Autobahn|Testsuite fuzzing client against {agent}: {len(results)} cases", ""]
    lines += table(results)
    noted = sorted(
        (c for c, o in results.items() if c in failed or o["behavior"] == "NON-STRICT"),
        key=case_key,
    )
    if noted:
        lines += ["", "cases not plainly OK:"]
    for case in noted:
        lines += details(directory, case, results[case])
    lines += ["", f"{len(failed)} failed" + (f": {' '.join(failed)}" if failed else "")]
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
