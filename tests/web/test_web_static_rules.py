"""The rules behind static files' answers: Range plans and Accept-Encoding choices."""

from __future__ import annotations

import pytest

from httpkit.web.static_encoding import choose_encoding
from httpkit.web.static_ranges import plan_ranges


@pytest.mark.parametrize(
    ("header", "size", "spans", "unsatisfiable"),
    [
        ("bytes=0-0", 10, [(0, 0)], False),
        ("bytes=5-", 10, [(5, 9)], False),
        ("bytes=-3", 10, [(7, 9)], False),
        ("bytes=-30", 10, [(0, 9)], False),
        ("bytes=2-100", 10, [(2, 9)], False),
        ("BYTES = 1-2", 10, [(1, 2)], False),
        ("bytes=1-2,,4-5", 10, [(1, 2), (4, 5)], False),
        ("bytes=-0", 10, [], True),
        ("bytes=10-", 10, [], True),
        ("bytes=0-", 0, [], True),
        ("bytes=3-1", 10, [], False),  # invalid: ignored, the whole file
        ("bytes=+1-2", 10, [], False),
        ("bytes=1_0-20", 100, [], False),
        ("bytes=", 10, [], False),
        (None, 10, [], False),
    ],
)
def test_range_plans(
    header: str | None, size: int, spans: list[tuple[int, int]], unsatisfiable: bool
) -> None:
    plan = plan_ranges(header, size)
    assert (plan.spans, plan.unsatisfiable) == (spans, unsatisfiable)


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("gzip;q=2", None),  # not a qvalue: counts as 0
        ("gzip;q=0.0001", None),
        ("gzip;q=0.001, br;q=0", "gzip"),
        ("GZIP", "gzip"),
        ("br;q=0.9, gzip;q=0.9", "br"),
        ("gzip;q=1.0, br;q=0.999", "gzip"),
        ("identity;q=0", None),  # nothing else acceptable: the file as it is anyway
        ("", None),
    ],
)
def test_encoding_choices(header: str, chosen: str | None) -> None:
    assert choose_encoding(header, ["br", "gzip"]) == chosen
