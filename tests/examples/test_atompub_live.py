"""The AtomPub example behind the real server, driven by plain HTTP clients.

One publish-edit-delete cycle through httpkit.testing.live_server with httpx, racing
edits on a thread pool, and the documented command ``httpkit serve examples.atompub:app``
in a subprocess with its default store file.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from atompub_helpers import ATOM, ENTRY_HEADERS, FEED_TYPE, PNG, entry_xml, link, parse, text
from example_commands import httpkit_serve

from examples.atompub import make_app
from httpkit.testing import LiveServer, live_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    app = make_app(str(tmp_path / "live.db"), max_body=64 * 1024)
    with live_server(app, threads=4) as running:
        yield running


def test_publish_edit_delete_cycle(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        created = client.post(
            "/entries", content=entry_xml("Live"), headers={**ENTRY_HEADERS, "Slug": "live"}
        )
        assert created.status_code == 201
        location = created.headers["Location"]
        assert location == f"{server.url}/entries/live"
        etag = created.headers["ETag"]
        feed = client.get("/entries")
        assert feed.headers["Content-Type"] == FEED_TYPE
        assert [text(e, f"{ATOM}title") for e in parse(feed.content).findall(f"{ATOM}entry")] == [
            "Live"
        ]
        assert client.get(location, headers={"If-None-Match": etag}).status_code == 304
        edited = client.put(
            location,
            content=entry_xml("Live, edited"),
            headers={**ENTRY_HEADERS, "If-Match": etag},
        )
        assert edited.status_code == 200
        stale = client.delete(location, headers={"If-Match": etag})
        assert stale.status_code == 412
        deleted = client.delete(location, headers={"If-Match": edited.headers["ETag"]})
        assert deleted.status_code == 204
        assert client.get(location).status_code == 404


def test_media_round_trip_and_limits(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        created = client.post("/media", content=PNG, headers={"Content-Type": "image/png"})
        assert created.status_code == 201
        media_url = link(parse(created.content), "edit-media")
        assert media_url is not None
        assert client.get(media_url).content == PNG
        # A chunked upload (no Content-Length) over the limit is cut off with 413 too.
        chunks = iter([b"x" * 40_000, b"x" * 40_000])
        too_big = client.post("/media", content=chunks, headers={"Content-Type": "text/plain"})
        assert too_big.status_code == 413
        bad = client.post("/entries", content=b"<entry", headers=ENTRY_HEADERS)
        assert bad.status_code == 400
        assert "well-formed" in bad.text
        feed = parse(client.get("/media").content)
        assert len(feed.findall(f"{ATOM}entry")) == 1


def test_racing_edits_with_the_same_etag_only_one_wins(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        created = client.post("/entries", content=entry_xml("Race"), headers=ENTRY_HEADERS)
    location, etag = created.headers["Location"], created.headers["ETag"]
    statuses: list[int] = []
    start = threading.Barrier(4, timeout=10)

    def edit(number: int) -> None:
        with httpx.Client(timeout=10) as own:
            start.wait()
            headers = {**ENTRY_HEADERS, "If-Match": etag}
            response = own.put(location, content=entry_xml(f"Edit {number}"), headers=headers)
            statuses.append(response.status_code)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert sorted(statuses) == [200, 412, 412, 412]


def test_documented_command_serves_with_the_default_store(tmp_path: Path) -> None:
    # No ATOMPUB_DB: the store is atompub.db in the current directory.
    with httpkit_serve("examples.atompub:app", tmp_path, environ={"ATOMPUB_DB": ""}) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/entries", entry_xml("From the CLI"), ENTRY_HEADERS)
        response = connection.getresponse()
        response.read()
        assert response.status == 201
        connection.request("GET", "/service")
        service = connection.getresponse()
        assert service.getheader("Content-Type") == "application/atomsvc+xml"
        service.read()
        connection.close()
        assert (tmp_path / "atompub.db").is_file()
