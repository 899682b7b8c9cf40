"""A page that shows a running program's state live, with server-sent events.

Run it from a checkout::

    httpkit serve examples.livepage:app --threads 0

and open http://127.0.0.1:8000/: the page follows a (pretend) batch job as it works
through its items, without polling.  The job runs on its own thread and publishes its
state into an :class:`~httpkit.web.EventHub` after every item; the page's
``EventSource`` reads ``/events``, a stream of those states.  When the connection drops
(the server restarts, a proxy times out, the laptop sleeps), the browser reconnects by
itself and sends the ``id`` of the last state it saw as ``Last-Event-ID``; the hub sends
the states it missed first.

``--threads 0`` suits it: a stream that waits for the next state costs no thread there,
only its connection.  On worker threads each open page holds a thread, and at most
``--max-streams`` of them (by default half of ``--threads``) are served at once.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from httpkit.web import EventHub, EventStream, Request, Router, Templates

__all__ = ["PAGE", "Program", "app", "make_app"]

RETRY_MILLISECONDS = 1000  # how soon a page reconnects after losing its stream

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ program.name }}</title>
<style>
body{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em}
progress{width:100%}.offline{color:#b00}
</style></head>
<body>
<h1>{{ program.name }}</h1>
<progress id="progress" max="{{ state.total }}" value="{{ state.processed }}"></progress>
<p><span id="processed">{{ state.processed }}</span> of {{ state.total }} items;
now: <span id="current">{{ state.current }}</span></p>
<p id="connection">connecting...</p>
<script>
"use strict";
const source = new EventSource({{ url_for("events")|tojson }});
const seen = [];  // the ids of the states received, for the page's tests
const connection = document.getElementById("connection");
source.addEventListener("state", (event) => {
  const state = JSON.parse(event.data);
  seen.push(Number(event.lastEventId));
  document.body.dataset.seen = seen.join(",");
  document.getElementById("progress").value = state.processed;
  document.getElementById("processed").textContent = state.processed;
  document.getElementById("current").textContent = state.current;
});
source.addEventListener("open", () => {
  document.body.dataset.opens = String(Number(document.body.dataset.opens || 0) + 1);
  connection.textContent = "live";
  connection.className = "";
});
source.addEventListener("error", () => {
  connection.textContent = "reconnecting...";
  connection.className = "offline";
});
</script>
</body></html>
"""


class Program:
    """A stand-in for any long-running job: it works through items, one per ``interval``
    seconds, and publishes its state after each (starting over when done)."""

    def __init__(self, hub: EventHub, *, name: str = "Nightly import", total: int = 50):
        self.hub = hub
        self.name = name
        self.total = total
        self.processed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "processed": self.processed,
                "total": self.total,
                "current": f"item {self.processed + 1}" if self.processed < self.total else "-",
            }

    def step(self) -> None:
        """One item done: the new state goes to every open page."""
        with self._lock:
            self.processed = self.processed + 1 if self.processed < self.total else 0
        self.hub.publish(json.dumps(self.state()), event="state")

    def start(self, interval: float) -> Program:
        """Run on a daemon thread until :meth:`stop`."""
        threading.Thread(target=self._run, args=(interval,), name=self.name, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.step()


def make_app(program: Program, *, retry: int = RETRY_MILLISECONDS) -> Router:
    """The page and its event stream, for ``program``."""
    router = Router(templates=Templates(strings={"page.html": PAGE}))

    def page(request: Request) -> object:
        return request.render(
            "page.html",
            program=program,
            state=program.state(),
            headers={"Cache-Control": "no-store"},
        )

    def events(request: Request) -> EventStream:
        # After the states this page missed, if it is reconnecting (Last-Event-ID).
        return program.hub.stream(request, retry=retry)

    router.add("/", page, name="page")
    router.add("/events", events, name="events")
    return router


program = Program(EventHub()).start(interval=1.0)
app = make_app(program)
