"""The performance page and the JSON, written from a small hand-made results dict."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from harness.page import render_page
from harness.report import load_results, ratio, save_results

X = "\u00d7"  # the multiplication sign the page writes after a ratio


def wrk(rate: float, p99: float = 2.0, socket_errors: int = 0) -> dict[str, Any]:
    return {
        "requests": int(rate * 5),
        "seconds": 5.0,
        "requests_per_second": rate,
        "p50_ms": p99 / 2,
        "p99_ms": p99,
        "socket_errors": socket_errors,
        "bad_responses": 0,
    }


RESULTS: dict[str, Any] = {
    "machine": {"CPU": "Test CPU 9000", "Cores": "2", "Python": "CPython 3.11.7"},
    "tools": {"wrk": "wrk 4.1.0"},
    "versions": {"httpkit": "0.1.0", "waitress": "3.0.2"},
    "settings": {"duration_s": 5.0, "stream_mib": 1024},
    "servers": {"httpkit-t0": "httpkit, threads 0", "waitress": "waitress, 4 threads"},
    "scenarios": {"c1": "1 conn., keep-alive", "c50": "50 conn., keep-alive"},
    "server": {
        "httpkit-t0": {"c1": wrk(8000), "c50": wrk(20000)},
        "waitress": {"c1": wrk(2000), "c50": wrk(5000, socket_errors=12)},
        "asyncio-canned": {"c1": wrk(40000), "c50": wrk(80000)},
        "cheroot": {"skipped": "needs cheroot"},
    },
    "fullstack": {
        "httpkit": {"server": "httpkit", **wrk(15000)},
        "flask": {"server": "gunicorn-gthread", **wrk(3000)},
    },
    "dispatch": {
        "httpkit": {"10": 3.0, "100": 3.0, "1000": 3.3},
        "falcon": {"10": 5.0, "1000": 20.0},
    },
}


def test_ratio_is_none_when_a_figure_is_missing() -> None:
    assert ratio(20000, 5000) == 4.0
    assert ratio(None, 5000) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0) is None


def test_page_shows_the_machine_and_versions() -> None:
    page = render_page(RESULTS)
    assert "Test CPU 9000" in page
    assert "CPython 3.11.7" in page
    assert "wrk 4.1.0" in page
    assert "   * - waitress\n     - 3.0.2" in page


def test_summary_gives_ratios_measured_in_the_same_run() -> None:
    page = render_page(RESULTS)
    assert f"20,000 requests/s: 4.00{X} waitress" in page
    assert "25 % of the bare-asyncio ceiling" in page
    assert f"httpkit 15,000 requests/s, 5.00{X} flask" in page  # 15,000 / 3,000
    assert f"1.10{X} its cost at 10" in page  # 3.3 / 3.0


def test_server_table_has_a_row_per_server_and_says_why_one_is_missing() -> None:
    page = render_page(RESULTS)
    assert "   * - **httpkit-t0**\n     - 8,000\n     - 20,000\n     - 25 %" in page
    assert "skipped: needs cheroot" in page
    assert "waitress, c50: 12 socket errors" in page


def test_sections_not_run_say_so_and_charts_appear_only_when_drawn() -> None:
    without_charts = render_page(RESULTS)
    assert without_charts.count("Not measured in this run") == 4  # parse, streaming, ...
    assert ".. image::" not in without_charts
    with_charts = render_page(RESULTS, charts=["server", "dispatch"])
    assert ".. image:: _static/perf/server.png" in with_charts
    assert ".. image:: _static/perf/dispatch.png" in with_charts
    assert "fullstack.png" not in with_charts


def test_page_is_valid_restructuredtext(tmp_path: Path) -> None:
    docutils_core = pytest.importorskip("docutils.core")
    # :download: and :ref: are Sphinx roles; plain docutils would flag them: swapped out.
    page = render_page(RESULTS).replace(":download:", ":literal:").replace(":ref:", ":literal:")
    messages = tmp_path / "messages.txt"
    with messages.open("w") as stream:
        docutils_core.publish_doctree(
            page, settings_overrides={"warning_stream": stream, "report_level": 2}
        )
    assert messages.read_text() == ""


def test_json_round_trip_and_refusal_of_other_files(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "results.json"
    save_results(copy.deepcopy(RESULTS), str(path))
    assert load_results(str(path)) == RESULTS
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"rows": []}))
    with pytest.raises(ValueError, match="not a bench results file"):
        load_results(str(other))


def test_page_says_how_much_rounds_of_the_same_load_differed() -> None:
    assert "Noise:" not in render_page(RESULTS)  # a single round: nothing to compare
    noisy = copy.deepcopy(RESULTS)
    noisy["server"]["httpkit-t0"]["c50"]["round_rates"] = [15000.0, 20000.0]  # 25 % apart
    noisy["server"]["waitress"]["c50"]["round_rates"] = [4500.0, 5000.0]  # 10 % apart
    page = render_page(noisy)
    assert "a median 25 % below the faster" in page  # the upper median of [10, 25]
    assert "(at worst 25 %)" in page
