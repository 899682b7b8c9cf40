"""The stop rule: which stop signal drains, which one is a duplicate, which one cuts.

One stop is often delivered more than once.  Ctrl-C reaches every process of the
terminal's foreground group; systemd's ``KillMode=control-group`` sends ``SIGTERM`` to
every process of the service; a parent (a supervisor, ``honcho``, a shell script) may
forward the signal it got to a child that got it too -- sometimes as another signal
(``SIGINT`` forwarded as ``SIGTERM``).  So:

* the first ``SIGTERM`` or ``SIGINT`` drains;
* another one within :data:`DUPLICATE_WINDOW` seconds of it is the same stop, delivered
  twice, and changes nothing;
* one after that is a deliberate second stop (Ctrl-C again, after the drain message)
  and cuts the requests in progress;
* ``SIGQUIT`` cuts at once, always;
* a worker process never cuts on ``SIGTERM``/``SIGINT`` (``repeat_cuts=False``): its
  supervisor decides, with the same rule, and tells it with ``SIGQUIT``.  A worker's
  stop may reach it long after the first (a supervisor busy starting a worker), and
  must still not cut.
"""

from __future__ import annotations

import enum
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["DUPLICATE_WINDOW", "STOP_SIGNALS", "StopAction", "StopRule", "drain_message"]

DUPLICATE_WINDOW = 1.0  # seconds in which a repeated stop signal is the same stop
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


class StopAction(enum.Enum):
    DRAIN = "drain"  # stop accepting, let the requests in progress finish
    SAME = "same"  # the stop already under way, delivered again: nothing to do
    CUT = "cut"  # abort the requests in progress now


@dataclass
class StopRule:
    """Says what each stop signal received means (see the module documentation)."""

    repeat_cuts: bool = True  # False in a worker: only SIGQUIT cuts
    window: float = DUPLICATE_WINDOW
    clock: Callable[[], float] = time.monotonic
    _first: float | None = field(default=None, init=False)  # when the stop began

    @property
    def stopping(self) -> bool:
        return self._first is not None

    def decide(self, signum: int) -> StopAction:
        now = self.clock()
        if signum == signal.SIGQUIT:
            if self._first is None:
                self._first = now
            return StopAction.CUT
        if self._first is None:
            self._first = now
            return StopAction.DRAIN
        if self.repeat_cuts and now - self._first >= self.window:
            return StopAction.CUT
        return StopAction.SAME


def drain_message(in_flight: int, grace: float, *, at_least: bool = False) -> str:
    """The one line that says a drain began, how much it waits for, and how to cut it."""
    if in_flight == 0 and not at_least:
        return "stopping: no requests in flight"
    if at_least and in_flight == 0:  # a worker busy in its application has not told
        what, them = "the requests in flight", "them"
    else:
        count = f"at least {in_flight}" if at_least else str(in_flight)
        plural = "" if in_flight == 1 and not at_least else "s"
        what, them = f"{count} request{plural} in flight", "it" if plural == "" else "them"
    return (
        f"stopping: draining {what} (for up to {grace:g} s); "
        f"a second Ctrl-C or stop signal cuts {them}"
    )
