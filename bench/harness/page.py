"""``docs/performance.rst``, written from a results dict (see :mod:`bench.suite`).

Each ``*_section`` function renders one benchmark's part of the page, or says it was not
measured; :func:`render_page` puts them in order under the machine and method tables.
Charts are referenced only when :mod:`harness.charts` drew them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.prose import INTRODUCTION, METHOD
from harness.report import (
    BASELINE,
    CEILING,
    MISSING,
    figure,
    heading,
    image,
    list_table,
    number,
    ratio,
    times,
    why_not,
)

__all__ = ["render_page"]

RPS = "requests_per_second"


def _percent(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:.0f} %"


def summary(results: dict[str, Any]) -> list[str]:
    """The headline ratios, each measured within this run."""
    server = results.get("server", {})
    lines = []
    best = "httpkit-t0"
    rate = figure(server, best, "c50", RPS)
    if rate is not None:
        versus = [
            f"{times(ratio(rate, figure(server, peer, 'c50', RPS)))} {peer}"
            for peer in (BASELINE, "gunicorn-gthread", "cheroot", "uvicorn")
            if figure(server, peer, "c50", RPS) is not None
        ]
        ceiling = _percent(ratio(rate, figure(server, CEILING, "c50", RPS)))
        lines.append(
            f"- Hello world, 50 keep-alive connections: httpkit ``--threads 0`` answers "
            f"{number(rate)} requests/s: {', '.join(versus) or 'no peer measured'}; "
            f"{ceiling} of the bare-asyncio ceiling."
        )
    fullstack = results.get("fullstack", {})
    own = figure(fullstack, "httpkit", RPS)
    if own is not None:
        versus = [
            f"{times(ratio(own, figure(fullstack, name, RPS)))} {name}"
            for name in fullstack
            if name != "httpkit" and figure(fullstack, name, RPS) is not None
        ]
        lines.append(
            f"- Full stack (100 routes, each framework on its usual server): httpkit "
            f"{number(own)} requests/s, {', '.join(versus) or 'no peer measured'}."
        )
    dispatch = results.get("dispatch", {})
    at_1000 = figure(dispatch, "httpkit", "1000")
    if at_1000 is not None:
        growth = times(ratio(at_1000, figure(dispatch, "httpkit", "10")))
        lines.append(
            f"- Dispatch at 1,000 routes: httpkit {number(at_1000, 1)} µs per request, Falcon "
            f"{number(figure(dispatch, 'falcon', '1000'), 1)} µs; httpkit's cost at 1,000 "
            f"routes is {growth} its cost at 10."
        )
    parse = results.get("parse", {})
    head = "browser head"
    if figure(parse, "httpkit.h1", head) is not None and figure(parse, "h11", head) is not None:
        speedup = ratio(figure(parse, "h11", head), figure(parse, "httpkit.h1", head))
        lines.append(f"- Parsing a browser's request head: httpkit.h1 is {times(speedup)} h11.")
    idle = results.get("idle", {})
    if figure(idle, "httpkit", "kib_per_connection") is not None:
        lines.append(
            f"- {number(figure(idle, 'httpkit', 'connections'))} idle keep-alive connections "
            f"cost httpkit {number(figure(idle, 'httpkit', 'kib_per_connection'), 1)} KiB each."
        )
    return [*lines, ""] if lines else ["No benchmark ran.", ""]


def machine_section(results: dict[str, Any]) -> list[str]:
    machine = results.get("machine", {})
    rows = [
        (key, f"``{value}``" if key == "httpkit commit" else str(value))
        for key, value in machine.items()
    ]
    rows += [(tool, str(version)) for tool, version in results.get("tools", {}).items()]
    settings = results.get("settings", {})
    if settings:
        rows.append(("Settings", ", ".join(f"{key}={value}" for key, value in settings.items())))
    lines = [*heading("Machine and versions"), *list_table(("Item", "Value"), rows)]
    versions = results.get("versions", {})
    if versions:
        lines += list_table(("Package", "Version"), list(versions.items()))
    return lines


def server_section(results: dict[str, Any], charts: Sequence[str]) -> list[str]:
    lines = heading("Server throughput and latency: hello world")
    server = results.get("server")
    if not server:
        return [*lines, "Not measured in this run.", ""]
    scenarios: dict[str, str] = results.get("scenarios", {})
    measured = [name for name in scenarios if any(name in entry for entry in server.values())]
    lines += [
        "Requests per second (higher is better) and, below, the 50th/99th-percentile latency",
        "in milliseconds.  The last column is the 50-connection rate as a fraction of the",
        "bare-asyncio ceiling.",
        "",
        *image(charts, "server", "requests per second of each server under each load"),
    ]
    rows = []
    for name, entry in server.items():
        if not any(scenario in entry for scenario in measured):
            rows.append((f"**{name}**", *[MISSING] * len(measured), why_not(entry)))
            continue
        cells = [number(figure(server, name, scenario, RPS)) for scenario in measured]
        ceiling = _percent(
            ratio(figure(server, name, "c50", RPS), figure(server, CEILING, "c50", RPS))
        )
        rows.append((f"**{name}**", *cells, ceiling))
    lines += list_table(("Server", *[scenarios[name] for name in measured], "of ceiling"), rows)
    latency_rows = [
        (
            f"**{name}**",
            *[
                f"{number(figure(server, name, s, 'p50_ms'), 2)} / "
                f"{number(figure(server, name, s, 'p99_ms'), 2)}"
                for s in measured
            ],
        )
        for name in server
        if any(scenario in server[name] for scenario in measured)
    ]
    lines += list_table(("p50 / p99 ms", *[scenarios[name] for name in measured]), latency_rows)
    descriptions = results.get("servers", {})
    lines += [f"- **{name}**: {descriptions[name]}" for name in server if name in descriptions]
    return [*lines, ""]


def noise_note(results: dict[str, Any]) -> list[str]:
    """How much the rounds of one load differed: the margin below which ratios mean nothing."""
    spreads = sorted(
        1 - min(rates) / max(rates)
        for entry in results.get("server", {}).values()
        for figures in entry.values()
        if isinstance(figures, dict)
        and len(rates := figures.get("round_rates", [])) > 1
        and min(rates) > 0
    )
    if not spreads:
        return []
    median = spreads[len(spreads) // 2]
    return [
        f"Noise: the slower round of a load was a median {median * 100:.0f} % below the faster",
        f"(at worst {spreads[-1] * 100:.0f} %); the tables keep the faster.  Differences",
        "smaller than that between two servers are not a result.",
        "",
    ]


def errors_note(results: dict[str, Any]) -> list[str]:
    """Runs where wrk counted socket errors or non-2xx answers: their rates are suspect."""
    notes = []
    for name, entry in results.get("server", {}).items():
        for scenario, figures in entry.items():
            if not isinstance(figures, dict):
                continue
            socket_errors = figures.get("socket_errors", 0)
            bad = figures.get("bad_responses", 0)
            if socket_errors or bad:
                notes.append(
                    f"- {name}, {scenario}: {socket_errors:,} socket errors "
                    f"(timeouts, resets), {bad:,} non-2xx/3xx answers"
                )
    if not notes:
        return ["wrk counted no socket errors and no error answers in any run.", ""]
    return [
        "Runs in which wrk counted errors (their rates include failed requests):",
        "",
        *notes,
        "",
    ]


def fullstack_section(results: dict[str, Any], charts: Sequence[str]) -> list[str]:
    lines = heading("Full stack: 100 routes, method-based handlers")
    fullstack = results.get("fullstack")
    if not fullstack or "skipped" in fullstack:
        return [*lines, f"Not measured in this run ({why_not(fullstack)}).", ""]
    lines += [
        "Each framework's usual server, 50 keep-alive connections, the last of 101 routes",
        "``/r{i}/{id}`` requested.  The ratio column is the framework's rate over httpkit's.",
        "",
        *image(charts, "fullstack", "requests per second of each framework on its server"),
    ]
    own = figure(fullstack, "httpkit", RPS)
    rows = []
    for name, entry in fullstack.items():
        if RPS not in entry:
            rows.append((f"**{name}**", MISSING, MISSING, MISSING, MISSING, why_not(entry)))
            continue
        rows.append(
            (
                f"**{name}**",
                entry.get("server", MISSING),
                number(entry[RPS]),
                number(entry.get("p50_ms"), 2),
                number(entry.get("p99_ms"), 2),
                times(ratio(entry[RPS], own)),
            )
        )
    return lines + list_table(
        ("Framework", "Server", "req/s", "p50 ms", "p99 ms", "\u00d7 httpkit"), rows
    )


def dispatch_section(results: dict[str, Any], charts: Sequence[str]) -> list[str]:
    lines = heading("In-process dispatch cost")
    dispatch = results.get("dispatch")
    if not dispatch:
        return [*lines, "Not measured in this run.", ""]
    sizes = sorted({int(size) for timings in dispatch.values() for size in timings})
    lines += [
        "Microseconds per request (lower is better), the WSGI app called directly for the",
        "last of N + 1 routes, no server involved (``bench/dispatch.py``).",
        "",
        *image(charts, "dispatch", "microseconds per request against the number of routes"),
    ]
    rows = [
        (
            f"**{name}**",
            *[number(figure(dispatch, name, str(size)), 2) for size in sizes],
            times(
                ratio(
                    figure(dispatch, name, str(sizes[-1])), figure(dispatch, name, str(sizes[0]))
                )
            ),
        )
        for name in dispatch
    ]
    headers = ("Framework", *[f"N = {size:,}" for size in sizes], f"{sizes[-1]:,} / {sizes[0]:,}")
    return lines + list_table(headers, rows)


def parse_section(results: dict[str, Any], charts: Sequence[str]) -> list[str]:
    lines = heading("Parsing cost of the HTTP/1.1 core")
    parse = results.get("parse")
    if not parse:
        return [*lines, "Not measured in this run.", ""]
    inputs = list(next(iter(parse.values())))
    lines += [
        "Microseconds per request (lower is better) for a fresh parser fed one whole request",
        "(``bench/parse.py``): a 525-byte browser request head, and a small chunked upload.",
        "httptools is a C extension, h11 and httpkit.h1 are pure Python.",
        "",
        *image(charts, "parse", "microseconds to parse one request"),
    ]
    rows = [
        (
            f"**{name}**",
            *[number(figure(parse, name, item), 2) for item in inputs],
            *[
                times(ratio(figure(parse, "h11", item), figure(parse, name, item)))
                for item in inputs
            ],
        )
        for name in parse
    ]
    headers = (
        "Parser",
        *[f"{item} µs" for item in inputs],
        *[f"{item}, \u00d7 h11" for item in inputs],
    )
    return lines + list_table(headers, rows)


def streaming_section(results: dict[str, Any], charts: Sequence[str]) -> list[str]:
    lines = heading("Streaming: upload and download")
    streaming = results.get("streaming")
    if not streaming:
        return [*lines, "Not measured in this run.", ""]
    size = results.get("settings", {}).get("stream_mib", MISSING)
    lines += [
        f"One {size} MiB request body up, then one {size} MiB response body down, each to a",
        "fresh server process; the app holds at most 64 KiB.  Peak memory is the server's",
        "resident high-water mark (VmHWM, all its processes) after the transfer.  The servers",
        "take two turns: the table has the faster throughput and the higher peak of the two.",
        "",
        *image(charts, "streaming", "upload and download throughput and peak memory"),
    ]
    rows = []
    for name, entry in streaming.items():
        if "upload_mib_per_s" not in entry:
            rows.append((f"**{name}**", MISSING, MISSING, MISSING, MISSING, why_not(entry)))
            continue
        rows.append(
            (
                f"**{name}**",
                number(entry["upload_mib_per_s"]),
                number(entry["upload_peak_mib"]),
                number(entry["download_mib_per_s"]),
                number(entry["download_peak_mib"]),
                number(entry.get("upload_idle_mib")),
            )
        )
    headers = ("Server", "up MiB/s", "up peak MiB", "down MiB/s", "down peak MiB", "idle MiB")
    return lines + list_table(headers, rows)


def idle_section(results: dict[str, Any], charts: Sequence[str]) -> list[str]:
    lines = heading("Memory with idle keep-alive connections")
    idle = results.get("idle")
    if not idle:
        return [*lines, "Not measured in this run.", ""]
    lines += [
        "Resident memory of the server (all its processes) before and after the connections",
        "were opened (each made one request, then stays idle), and the latency of a new",
        "request while they are open.",
        "",
        *image(charts, "idle", "resident memory with idle connections"),
    ]
    rows = []
    for name, entry in idle.items():
        if "rss_idle_mib" not in entry:
            rows.append((f"**{name}**", MISSING, MISSING, MISSING, MISSING, why_not(entry)))
            continue
        rows.append(
            (
                f"**{name}**",
                number(entry["connections"]),
                f"{number(entry['rss_before_mib'], 1)} → {number(entry['rss_idle_mib'], 1)}",
                number(entry["kib_per_connection"], 1),
                number(entry["new_request_median_ms"], 2),
                number(entry["new_request_max_ms"], 2),
            )
        )
    headers = ("Server", "Connections", "RSS MiB", "KiB/connection", "new p50 ms", "new max ms")
    return lines + list_table(headers, rows)


def pipelining_section(results: dict[str, Any], charts: Sequence[str]) -> list[str]:
    lines = heading("Pipelining (h2load, HTTP/1.1)")
    pipelining = results.get("pipelining")
    if not pipelining or "skipped" in pipelining:
        return [*lines, f"Not measured in this run ({why_not(pipelining)}).", ""]
    lines += [
        "``h2load --h1 -c 50 -m 16``: 50 connections with 16 requests in flight on each,",
        "hello world, the better of two turns.  *Stalled* means h2load never got all its",
        "answers.",
        "",
        *image(charts, "pipelining", "requests per second with pipelining"),
    ]
    rows = []
    for name, entry in pipelining.items():
        if RPS not in entry:
            rows.append((f"**{name}**", MISSING, MISSING, why_not(entry)))
            continue
        failures = f"{entry['failed']:,} failed, {entry['non_2xx']:,} non-2xx"
        rows.append((f"**{name}**", number(entry[RPS]), number(entry["mean_ms"], 2), failures))
    return lines + list_table(("Server", "req/s", "mean ms", "errors"), rows)


def render_page(results: dict[str, Any], charts: Sequence[str] = ()) -> str:
    """The whole of ``docs/performance.rst``; ``charts`` names the PNGs that exist."""
    lines = [
        *summary(results),
        *machine_section(results),
        *server_section(results, charts),
        *noise_note(results),
        *errors_note(results),
        *fullstack_section(results, charts),
        *dispatch_section(results, charts),
        *parse_section(results, charts),
        *streaming_section(results, charts),
        *idle_section(results, charts),
        *pipelining_section(results, charts),
    ]
    return INTRODUCTION + "\n".join(lines).rstrip() + "\n\n" + METHOD.rstrip() + "\n"
