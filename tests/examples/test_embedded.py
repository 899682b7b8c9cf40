"""examples.embedded: a job queue that keeps running while httpkit serves its state.

The in-process tests run the program's queue and its web side in the test's own event
loop and drive both: a form posted over HTTP becomes a job the workers run, a job the
program submits shows on the page.  The last tests run the documented command,
``python -m examples.embedded``, and stop it with a signal.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import examples.embedded
import httpkit
from examples.embedded import JobQueue, make_web_app

ROOT = Path(__file__).resolve().parent.parent.parent
WAIT_SECONDS = 10.0


def request(url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    """GET, or POST ``form``; redirects followed (a 303 ends on the page)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


async def eventually(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        assert time.monotonic() < deadline, "the program did not get there in time"
        await asyncio.sleep(0.01)


Scenario = Callable[[JobQueue, str, Callable[..., Awaitable[tuple[int, str]]]], Awaitable[None]]


def run_program(scenario: Scenario, *, workers: int = 1) -> None:
    """The queue and its web interface on the test's loop, as the program runs them."""

    async def program() -> None:
        loop = asyncio.get_running_loop()

        async def web(path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
            # A blocking client in a thread: the loop keeps running the workers and the
            # server, whose handlers run on it (threads=0).
            return await loop.run_in_executor(None, request, url + path, form)

        queue = JobQueue(workers=workers, step_seconds=0.01)
        async with queue, httpkit.AsyncServer(make_web_app(queue), port=0, threads=0) as server:
            url = server.url
            await scenario(queue, url, web)

    asyncio.run(program())


def test_a_job_added_by_the_form_is_run_by_the_program() -> None:
    async def scenario(queue: JobQueue, url: str, web: Any) -> None:
        status, page = await web("/jobs", {"name": "resize photos", "steps": "5"})
        assert status == 200  # the 303 led back to the page
        assert "resize photos" in page
        [job] = queue.jobs.values()
        assert (job.name, job.steps) == ("resize photos", 5)
        await eventually(lambda: job.status == "finished")
        status, page = await web("/")
        assert re.search(r"resize photos</td><td>finished</td><td>5/5<", page)
        assert "0 queued, 0 running, 1 finished" in page

    run_program(scenario)


def test_a_job_the_program_submits_shows_on_the_page_and_in_the_json() -> None:
    async def scenario(queue: JobQueue, url: str, web: Any) -> None:
        job = queue.submit("nightly <backup>", 3)
        status, page = await web("/")
        assert status == 200
        assert "nightly &lt;backup&gt;" in page  # the program's text is escaped
        await eventually(lambda: job.status == "finished")
        state = json.loads((await web("/state"))[1])
        assert state["counts"] == {"queued": 0, "running": 0, "finished": 1}
        assert state["jobs"][0] == {
            "id": job.id,
            "name": "nightly <backup>",
            "steps": 3,
            "done": 3,
            "status": "finished",
            "worker": 1,
        }

    run_program(scenario)


def test_pausing_from_the_page_holds_the_workers_until_resumed() -> None:
    async def scenario(queue: JobQueue, url: str, web: Any) -> None:
        _, page = await web("/pause", {})
        assert queue.paused
        assert "paused" in page and ">Resume</button>" in page
        job = queue.submit("held", 2)
        await asyncio.sleep(0.2)  # twenty steps' time: a running worker would be done
        assert (job.status, job.done) == ("queued", 0)
        await web("/resume", {})
        assert not queue.paused
        await eventually(lambda: job.status == "finished")
        await web("/clear", {})
        assert queue.jobs == {}

    run_program(scenario, workers=2)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "x", "steps": "many"}, "steps must be a whole number, not &#x27;many&#x27;"),
        ({"name": "x", "steps": "0"}, "a job has between 1 and 1000 steps, not 0"),
        ({"name": "  ", "steps": "3"}, "a job needs a name"),
    ],
)
def test_a_bad_form_is_answered_400_and_queues_nothing(form: dict[str, str], message: str) -> None:
    async def scenario(queue: JobQueue, url: str, web: Any) -> None:
        status, page = await web("/jobs", form)
        assert status == 400
        assert f'<p class="error">{message}</p>' in page
        assert queue.jobs == {}

    run_program(scenario)


# -- the documented command ---------------------------------------------------------------

URL_LINE = re.compile(r"web interface on (http://127\.0\.0\.1:\d+)/")


def start_command(*arguments: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.embedded", "--port", "0", *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # the program's first line says where it listens
    found = URL_LINE.search(line)
    if found is None:
        process.kill()
        raise AssertionError(f"the program did not start: {line}{process.communicate()}")
    return process, found.group(1)


def test_the_module_documents_its_command() -> None:
    assert "python -m examples.embedded" in (examples.embedded.__doc__ or "")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_command_serves_the_queue_and_stops_on_a_signal(signum: int) -> None:
    process, url = start_command("--step", "0.01", "--workers", "3")
    try:
        status, page = request(url + "/jobs", {"name": "from the browser", "steps": "4"})
        assert status == 200
        assert "3 workers, running" in page
        deadline = time.monotonic() + WAIT_SECONDS
        while json.loads(request(url + "/state")[1])["counts"]["finished"] != 1:
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.02)
        process.send_signal(signum)
        out, err = process.communicate(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out.splitlines()[-2:] == [
        "stopping: the web interface drains, then the workers stop",
        "stopped",
    ]
    assert "Traceback" not in err


def test_the_command_reports_a_port_in_use() -> None:
    process, url = start_command()
    try:
        port = url.rsplit(":", 1)[1]
        result = subprocess.run(
            [sys.executable, "-m", "examples.embedded", "--port", port],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        process.terminate()
        process.communicate(timeout=WAIT_SECONDS)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"python -m examples.embedded: error: cannot listen on 127.0.0.1:{port}: "
        "Address already in use"
    )
