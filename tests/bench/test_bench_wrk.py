"""Reading wrk's and h2load's reports, and the commands that bound their runs."""

from __future__ import annotations

import pytest
from harness.h2load import H2loadError, h2load_command, parse_h2load_output
from harness.wrk import WrkError, parse_duration, parse_wrk_output, wrk_command

WRK_REPORT = """\
Running 2s test @ http://127.0.0.1:18765/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.29ms  749.66us   8.23ms   87.87%
    Req/Sec    22.09k     3.05k   26.43k    57.14%
  Latency Distribution
     50%    2.03ms
     75%    2.43ms
     90%    2.99ms
     99%  850.00us
  46101 requests in 2.10s, 5.80MB read
Requests/sec:  21953.43
Transfer/sec:      2.76MB
"""

WRK_REPORT_WITH_ERRORS = WRK_REPORT.replace(
    "Requests/sec:",
    "  Socket errors: connect 3, read 4, write 0, timeout 12\n"
    "  Non-2xx or 3xx responses: 7\nRequests/sec:",
)

H2LOAD_REPORT = """\
starting benchmark...
Application protocol: http/1.1

finished in 3.00s, 27124.50 req/s, 3.41MB/s
requests: 54249 total, 54249 started, 54240 done, 54200 succeeded, 40 failed, 9 errored, 0 timeout
status codes: 54200 2xx, 0 3xx, 38 4xx, 2 5xx
traffic: 6.83MB (7160868) total, 6.36MB (6670104) headers (space savings 0.00%)
                     min         max         mean         sd        +/- sd
time for request:      143us     16.95ms      5.89ms      1.50ms    78.94%
time for connect:        0us         0us         0us         0us     0.00%
"""


def test_wrk_report_gives_rate_latency_and_no_errors() -> None:
    result = parse_wrk_output(WRK_REPORT)
    assert result.requests == 46101
    assert result.seconds == pytest.approx(2.10)
    assert result.requests_per_second == pytest.approx(21953.43)
    assert result.p50_ms == pytest.approx(2.03)
    assert result.p99_ms == pytest.approx(0.85)  # microseconds are converted
    assert (result.socket_errors, result.bad_responses) == (0, 0)


def test_wrk_errors_are_counted() -> None:
    result = parse_wrk_output(WRK_REPORT_WITH_ERRORS)
    assert result.socket_errors == 19
    assert result.bad_responses == 7


def test_wrk_report_without_latency_distribution_is_refused() -> None:
    without = "\n".join(line for line in WRK_REPORT.splitlines() if "%    " not in line)
    with pytest.raises(WrkError, match="--latency"):
        parse_wrk_output(without)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("850.00us", 850e-6), ("2.03ms", 2.03e-3), ("1.50s", 1.5), ("2.00m", 120.0)],
)
def test_wrk_durations_in_every_unit(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "12", "1.5 ms", "-3ms", "3ks"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(WrkError):
        parse_duration(text)


def test_wrk_command_is_bounded_pinned_and_can_close_each_connection() -> None:
    command = wrk_command(
        "http://127.0.0.1:8000/", connections=50, seconds=4.6, keepalive=False, cpus="1"
    )
    assert command[:3] == ["taskset", "-c", "1"]
    assert "-d5s" in command and "-c50" in command and "--latency" in command
    assert command[command.index("-H") + 1] == "Connection: close"


def test_wrk_never_has_more_threads_than_connections() -> None:
    assert "-t1" in wrk_command("http://127.0.0.1:8000/", connections=1, seconds=1, threads=2)


@pytest.mark.parametrize("url", ["http://example.com/", "http://0.0.0.0:80/"])
def test_load_stays_on_loopback(url: str) -> None:
    with pytest.raises(WrkError, match="loopback"):
        wrk_command(url, connections=1, seconds=1)
    with pytest.raises(H2loadError, match="loopback"):
        h2load_command(url, connections=1, depth=1, seconds=1, warmup=0, cpus=None)


def test_h2load_report_counts_failures_and_error_statuses() -> None:
    result = parse_h2load_output(H2LOAD_REPORT)
    assert result.requests_per_second == pytest.approx(27124.50)
    assert result.succeeded == 54200
    assert result.failed == 49
    assert result.non_2xx == 40
    assert result.mean_ms == pytest.approx(5.89)


def test_h2load_command_pipelines_http1_for_a_bounded_time() -> None:
    command = h2load_command(
        "http://127.0.0.1:8000/", connections=50, depth=16, seconds=5, warmup=1, cpus="1"
    )
    assert command[:4] == ["taskset", "-c", "1", "h2load"]
    assert {"--h1", "-c50", "-m16", "-D5", "--warm-up-time=1"} <= set(command)


def test_unreadable_h2load_report_is_refused() -> None:
    with pytest.raises(H2loadError):
        parse_h2load_output("finished in 1s\n")
