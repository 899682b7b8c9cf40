"""The stop rule: a stop delivered twice drains once; a deliberate second stop cuts."""

from __future__ import annotations

import signal

from httpkit.server.stopping import DUPLICATE_WINDOW, StopAction, StopRule, drain_message

DRAIN, SAME, CUT = StopAction.DRAIN, StopAction.SAME, StopAction.CUT


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_stop_drains_and_a_repeat_within_the_window_is_the_same_stop() -> None:
    clock = Clock()
    rule = StopRule(clock=clock)
    assert not rule.stopping
    assert rule.decide(signal.SIGINT) is DRAIN
    assert rule.stopping
    clock.now += DUPLICATE_WINDOW / 2
    # Ctrl-C to the group, and a parent forwarding it as SIGTERM: one stop.
    assert rule.decide(signal.SIGTERM) is SAME
    assert rule.decide(signal.SIGINT) is SAME


def test_a_stop_after_the_window_is_deliberate_and_cuts() -> None:
    clock = Clock()
    rule = StopRule(clock=clock)
    assert rule.decide(signal.SIGTERM) is DRAIN
    clock.now += DUPLICATE_WINDOW
    assert rule.decide(signal.SIGTERM) is CUT
    assert rule.decide(signal.SIGINT) is CUT


def test_sigquit_cuts_at_once_even_first() -> None:
    rule = StopRule(clock=Clock())
    assert rule.decide(signal.SIGQUIT) is CUT
    assert rule.stopping
    assert rule.decide(signal.SIGTERM) is SAME  # the cut is under way


def test_a_worker_cuts_only_on_sigquit_however_late_the_repeat() -> None:
    clock = Clock()
    rule = StopRule(repeat_cuts=False, clock=clock)
    assert rule.decide(signal.SIGINT) is DRAIN
    clock.now += 60  # a supervisor that was busy starting a worker forwards it late
    assert rule.decide(signal.SIGTERM) is SAME
    assert rule.decide(signal.SIGQUIT) is CUT


def test_the_drain_message_counts_and_says_how_to_cut() -> None:
    assert drain_message(1, 30) == (
        "stopping: draining 1 request in flight (for up to 30 s); "
        "a second Ctrl-C or stop signal cuts it"
    )
    assert drain_message(2, 2.5).startswith(
        "stopping: draining 2 requests in flight (for up to 2.5 s)"
    )
    assert drain_message(0, 30) == "stopping: no requests in flight"
    assert drain_message(3, 30, at_least=True).startswith("stopping: draining at least 3 requests")
    assert drain_message(1, 30, at_least=True).endswith("cuts them")
    assert "draining the requests in flight" in drain_message(0, 30, at_least=True)
