"""Server-sent events for bench/events.py: ``/events`` streams a hub, ``POST /publish``
publishes its body into it (``sse:app``)."""

from __future__ import annotations

from httpkit.web import EventHub, EventStream, Request, Router

hub = EventHub()


def events(request: Request) -> EventStream:
    return hub.stream(request, heartbeat=60.0)


def publish(request: Request) -> None:
    hub.publish(request.body.decode())


app = Router()
app.add("/events", events)
app.add("/publish", publish, methods=["POST"])
