"""The same behaviour on both stores, SQLite and PostgreSQL, through the real server:
paging, ETags, ``app:edited`` order, ``If-Match``, racing writers, media."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from atompub_helpers import ATOM, ENTRY_HEADERS, PNG, atompub_client, entry_xml, link, parse, text

RACERS = 8


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "atom.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def client(database: str) -> Iterator[Any]:
    with atompub_client("live", database, page_size=2) as made:
        yield made


def post_entry(client: Any, title: str, slug: str | None = None) -> Any:
    headers = {**ENTRY_HEADERS, **({"Slug": slug} if slug else {})}
    return client.post("/entries", entry_xml(title), headers=headers, status=201)


def feed_titles(client: Any, url: str = "/entries") -> list[str]:
    return [text(e, f"{ATOM}title") for e in parse(client.get(url).body).findall(f"{ATOM}entry")]


def test_the_schema_is_created_on_first_use_and_data_outlives_the_app(database: str) -> None:
    with atompub_client("live", database) as first:
        post_entry(first, "Kept", slug="kept")
    with atompub_client("live", database) as second:
        assert feed_titles(second) == ["Kept"]
        assert second.get("/entries/kept").status_int == 200


def test_pages_walk_the_collection_newest_first(client: Any) -> None:
    for number in range(5):
        post_entry(client, f"Entry {number}")
    seen: list[str] = []
    url: str | None = "/entries"
    for _ in range(5):  # bounded: 3 pages expected
        root = parse(client.get(url).body)
        seen += [text(e, f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
        assert link(root, "first") == client.base + "/entries"
        assert link(root, "last") == client.base + "/entries?page=3"
        url = link(root, "next")
        if url is None:
            break
    assert seen == [f"Entry {n}" for n in range(4, -1, -1)]
    client.get("/entries?page=4", status=404)


def test_an_edit_moves_the_member_to_the_top(client: Any) -> None:
    post_entry(client, "Older", slug="older")
    post_entry(client, "Newer", slug="newer")
    assert feed_titles(client) == ["Newer", "Older"]
    client.put("/entries/older", entry_xml("Older, edited"), headers=ENTRY_HEADERS)
    assert feed_titles(client) == ["Older, edited", "Newer"]


def test_etags_answer_conditional_requests(client: Any) -> None:
    created = post_entry(client, "Cached", slug="cached")
    etag = created.headers["ETag"]
    assert client.get("/entries/cached").headers["ETag"] == etag
    client.get("/entries/cached", headers={"If-None-Match": etag}, status=304)
    feed_tag = client.get("/entries").headers["ETag"]
    client.get("/entries", headers={"If-None-Match": feed_tag}, status=304)
    edited = client.put("/entries/cached", entry_xml("Changed"), headers=ENTRY_HEADERS)
    assert edited.headers["ETag"] != etag
    assert client.get("/entries", headers={"If-None-Match": feed_tag}).status_int == 200


def test_a_stale_if_match_is_412_and_changes_nothing(client: Any) -> None:
    created = post_entry(client, "Original", slug="doc")
    fresh = client.put(
        "/entries/doc",
        entry_xml("Edit 1"),
        headers={**ENTRY_HEADERS, "If-Match": created.headers["ETag"]},
    )
    stale = {**ENTRY_HEADERS, "If-Match": created.headers["ETag"]}
    client.put("/entries/doc", entry_xml("Edit 2"), headers=stale, status=412)
    client.delete("/entries/doc", headers={"If-Match": created.headers["ETag"]}, status=412)
    assert text(parse(client.get("/entries/doc").body), f"{ATOM}title") == "Edit 1"
    client.delete("/entries/doc", headers={"If-Match": fresh.headers["ETag"]}, status=204)
    assert feed_titles(client) == []


def race(count: int, attempt: Callable[[httpx.Client, int], httpx.Response]) -> list[Any]:
    """``attempt`` from ``count`` threads at once, each on its own connection."""
    start = threading.Barrier(count, timeout=20)
    results: list[Any] = [None] * count

    def run(number: int) -> None:
        with httpx.Client(timeout=20) as own:
            start.wait()
            results[number] = attempt(own, number)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_racing_edits_from_one_etag_only_one_wins(client: Any) -> None:
    created = post_entry(client, "Race", slug="race")
    headers = {**ENTRY_HEADERS, "If-Match": created.headers["ETag"]}
    url = client.base + "/entries/race"
    responses = race(
        RACERS, lambda http, n: http.put(url, content=entry_xml(f"Edit {n}"), headers=headers)
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * (RACERS - 1)
    (winner,) = [r for r in responses if r.status_code == 200]
    assert client.get("/entries/race").headers["ETag"] == winner.headers["ETag"]


def test_racing_posts_with_one_slug_get_distinct_uris(client: Any) -> None:
    headers = {**ENTRY_HEADERS, "Slug": "same"}
    url = client.base + "/entries"
    responses = race(
        RACERS, lambda http, n: http.post(url, content=entry_xml(f"Post {n}"), headers=headers)
    )
    assert [r.status_code for r in responses] == [201] * RACERS
    locations = {r.headers["Location"] for r in responses}
    assert len(locations) == RACERS
    assert client.base + "/entries/same" in locations


def test_media_round_trip_keeps_type_parameters(client: Any) -> None:
    created = client.post(
        "/media", PNG, headers={"Content-Type": "image/png", "Slug": "logo"}, status=201
    )
    media_url = link(parse(created.body), "edit-media")
    assert client.get(media_url).body == PNG
    text_type = "text/plain; charset=utf-8"
    client.put(media_url, "héllo".encode(), headers={"Content-Type": text_type}, status=204)
    media = client.get(media_url)
    assert media.headers["Content-Type"] == text_type
    assert media.body.decode("utf-8") == "héllo"
    client.delete("/media/logo", status=204)
    client.get(media_url, status=404)
