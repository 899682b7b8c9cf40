"""The performance page's PNG charts, drawn with matplotlib (Agg: no display needed).

:func:`draw_charts` draws one chart per benchmark present in the results and returns the
names it drew; a benchmark without figures gets no chart.  httpkit's bars are drawn in
one colour and everyone else's in another, so the eye finds them first.  The bare-asyncio
ceiling is left out of the bar charts (it would squash every other bar); the tables give
each server's fraction of it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any

from harness.report import CEILING

__all__ = ["draw_charts"]

OURS, THEIRS = "#2a6f97", "#b0b7bf"
RPS = "requests_per_second"
Figures = dict[str, float]


def _numbers(section: dict[str, Any], *keys: str) -> Figures:
    """{name: value} for the entries of a section that have a number under ``keys``."""
    found = {}
    for name, entry in section.items():
        node: Any = entry
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, int | float) and name != CEILING:
            found[name] = float(node)
    return found


def _hbars(axes: Any, figures: Figures, title: str, label: str) -> None:
    names = list(figures)[::-1]  # matplotlib draws the first bar at the bottom
    colours = [OURS if name.startswith("httpkit") else THEIRS for name in names]
    bars = axes.barh(names, [figures[name] for name in names], color=colours)
    axes.bar_label(bars, fmt="{:,.0f}", padding=2, fontsize=7)
    axes.set_title(title, fontsize=9)
    axes.set_xlabel(label, fontsize=8)
    axes.tick_params(labelsize=7)
    axes.margins(x=0.2)


def _server(results: dict[str, Any], plt: Any) -> Any:
    server = results.get("server", {})
    scenarios = [
        (name, label)
        for name, label in results.get("scenarios", {}).items()
        if _numbers(server, name, RPS)
    ]
    if not scenarios:
        return None
    columns = len(scenarios) if len(scenarios) < 3 else 2  # four panels read best as 2 x 2
    rows = -(-len(scenarios) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.8 * columns, 3.0 * rows))
    axes_list = list(getattr(axes, "flat", [axes]))
    for axis, (name, label) in zip(axes_list, scenarios, strict=False):
        _hbars(axis, _numbers(server, name, RPS), label, "requests/s")
    for unused in axes_list[len(scenarios) :]:
        unused.set_visible(False)
    figure.suptitle("Hello world: requests per second (higher is better)", fontsize=10)
    return figure


def _single(
    section_name: str, keys: tuple[str, ...], title: str, label: str
) -> Callable[[dict[str, Any], Any], Any]:
    def draw(results: dict[str, Any], plt: Any) -> Any:
        figures = _numbers(results.get(section_name, {}), *keys)
        if not figures:
            return None
        figure, axes = plt.subplots(figsize=(6.4, 0.35 * len(figures) + 1.2))
        _hbars(axes, figures, title, label)
        return figure

    return draw


def _dispatch(results: dict[str, Any], plt: Any) -> Any:
    dispatch = results.get("dispatch", {})
    if not dispatch:
        return None
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    for name, timings in dispatch.items():
        sizes = sorted(int(size) for size in timings)
        axes.plot(
            sizes,
            [timings[str(size)] for size in sizes],
            marker="o",
            label=name,
            linewidth=2.5 if name == "httpkit" else 1.2,
            color=OURS if name == "httpkit" else None,
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("routes", fontsize=8)
    axes.set_ylabel("µs per request (lower is better)", fontsize=8)
    axes.set_title("In-process dispatch cost against the number of routes", fontsize=9)
    axes.legend(fontsize=7)
    return figure


def _pairs(
    section_name: str, keys: Sequence[tuple[str, str]], title: str
) -> Callable[[dict[str, Any], Any], Any]:
    """One subplot per (key, label): e.g. upload and download side by side."""

    def draw(results: dict[str, Any], plt: Any) -> Any:
        section = results.get(section_name, {})
        panels = [(_numbers(section, key), label) for key, label in keys]
        panels = [(figures, label) for figures, label in panels if figures]
        if not panels:
            return None
        columns = len(panels) if len(panels) < 3 else 2  # four panels read best as 2 x 2
        rows = -(-len(panels) // columns)
        figure, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.0 * rows))
        for axis, (figures, label) in zip(
            list(getattr(axes, "flat", [axes])), panels, strict=True
        ):
            _hbars(axis, figures, label, "")
        figure.suptitle(title, fontsize=10)
        return figure

    return draw


CHARTS: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "server": _server,
    "fullstack": _single(
        "fullstack", (RPS,), "Full stack, 100 routes: requests/s (higher is better)", "requests/s"
    ),
    "dispatch": _dispatch,
    "parse": _pairs(
        "parse",
        [("browser head", "browser head, µs"), ("chunked body", "chunked upload, µs")],
        "Parsing one request (lower is better)",
    ),
    "streaming": _pairs(
        "streaming",
        [
            ("upload_mib_per_s", "upload MiB/s"),
            ("download_mib_per_s", "download MiB/s"),
            ("upload_peak_mib", "peak MiB, upload"),
            ("download_peak_mib", "peak MiB, download"),
        ],
        "Streaming: throughput (higher is better), peak memory (lower is better)",
    ),
    "idle": _pairs(
        "idle",
        [("rss_idle_mib", "resident MiB, connections open"), ("kib_per_connection", "KiB each")],
        "Idle keep-alive connections: memory (lower is better)",
    ),
    "pipelining": _single(
        "pipelining",
        (RPS,),
        "Pipelining, 16 requests in flight per connection: requests/s",
        "requests/s",
    ),
}


def draw_charts(results: dict[str, Any], directory: str) -> list[str]:
    """Write ``<directory>/<name>.png`` for each benchmark with figures; return the names."""
    # Imported here, by name: matplotlib is optional (the smoke run works without it).
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")  # before pyplot: no display is needed or wanted
    plt = importlib.import_module("matplotlib.pyplot")

    os.makedirs(directory, exist_ok=True)
    drawn = []
    for name, draw in CHARTS.items():
        figure = draw(results, plt)
        if figure is None:
            continue
        figure.tight_layout()
        figure.savefig(os.path.join(directory, f"{name}.png"), dpi=110)
        plt.close(figure)
        drawn.append(name)
    return drawn
