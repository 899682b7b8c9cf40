"""The web side of the job queue: a live status page, its JSON, and forms that change it.

Its handlers run on the program's event loop (the server's ``threads=0``), so they read
and change the :class:`~examples.embedded.jobs.JobQueue` directly, between two of its
steps, with no lock.
"""

from __future__ import annotations

import html
from typing import Any

import webob
import webob.exc

from examples.embedded.jobs import MAX_STEPS, JobQueue
from httpkit.web import Request, Router

__all__ = ["make_web_app"]

_STYLE = (
    "body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left}"
    "form.inline{display:inline}.error{color:#b00}"
)


def make_web_app(queue: JobQueue) -> Router:
    """A Router showing and changing ``queue``."""
    router = Router()

    def home(request: Request) -> webob.Response:
        return _page(request, queue)

    def state(request: Request) -> dict[str, Any]:
        return queue.snapshot()

    def add_job(request: Request) -> webob.Response:
        name = request.POST.get("name", "")
        try:
            queue.submit(name, _whole_number(request.POST.get("steps", "")))
        except ValueError as error:
            return _page(request, queue, error=str(error), status=400)
        return _see_home(request)

    def pause(request: Request) -> webob.Response:
        queue.pause()
        return _see_home(request)

    def resume(request: Request) -> webob.Response:
        queue.resume()
        return _see_home(request)

    def clear(request: Request) -> webob.Response:
        queue.clear_finished()
        return _see_home(request)

    router.add("/", home, name="home")
    router.add("/state", state, name="state")
    router.add("/jobs", add_job, name="jobs", methods=["POST"])
    router.add("/pause", pause, name="pause", methods=["POST"])
    router.add("/resume", resume, name="resume", methods=["POST"])
    router.add("/clear", clear, name="clear", methods=["POST"])
    return router


def _whole_number(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"steps must be a whole number, not {text!r}")
    return int(text)


def _see_home(request: Request) -> webob.Response:
    # Post/Redirect/Get: reloading the page never submits the form again.
    return webob.exc.HTTPSeeOther(location=request.url_for("home"))


def _page(
    request: Request, queue: JobQueue, *, error: str = "", status: int = 200
) -> webob.Response:
    snapshot = queue.snapshot()
    rows = "".join(
        f"<tr><td>{job['id']}</td><td>{html.escape(job['name'])}</td>"
        f"<td>{job['status']}</td><td>{job['done']}/{job['steps']}</td></tr>"
        for job in snapshot["jobs"]
    )
    counts = ", ".join(f"{count} {status}" for status, count in snapshot["counts"].items())
    toggle = "resume" if queue.paused else "pause"
    message = f'<p class="error">{html.escape(error)}</p>' if error else ""
    body = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Job queue</title>'
        # The page follows the program: the browser reloads it every second.
        f'<meta http-equiv="refresh" content="1"><style>{_STYLE}</style></head><body>'
        f"<h1>Job queue</h1>{message}"
        f"<p>{snapshot['workers']} workers, {'paused' if queue.paused else 'running'}: "
        f"{counts}.</p>"
        f"<table><tr><th>#</th><th>job</th><th>status</th><th>steps</th></tr>{rows}</table>"
        f'<form method="post" action="{request.url_for("jobs")}">'
        '<input name="name" placeholder="job name" required> '
        f'<input name="steps" type="number" min="1" max="{MAX_STEPS}" value="10"> '
        "<button>Add job</button></form>"
        f'<form class="inline" method="post" action="{request.url_for(toggle)}">'
        f"<button>{toggle.capitalize()}</button></form> "
        f'<form class="inline" method="post" action="{request.url_for("clear")}">'
        "<button>Clear finished</button></form></body></html>"
    )
    response = webob.Response(
        status=status, body=body.encode(), content_type="text/html", charset="UTF-8"
    )
    response.cache_control = "no-store"
    return response
