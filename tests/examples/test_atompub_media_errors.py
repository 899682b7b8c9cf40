"""The AtomPub example through WebTest: media resources, bad input, transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from atompub_helpers import ATOM, ENTRY_HEADERS, PNG, atompub_client, entry_xml, link, parse, text

MAX_BODY = 4096


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "atom.db"


@pytest.fixture(params=["wsgi", "live"])
def client(request: pytest.FixtureRequest, db_path: Path) -> Iterator[Any]:
    with atompub_client(request.param, db_path, max_body=MAX_BODY) as made:
        made.get("/entries")  # the store (and its file) exists from the first request on
        yield made


def upload_png(client: Any, slug: str = "logo") -> object:
    headers = {"Content-Type": "image/png", "Slug": slug}
    return client.post("/media", PNG, headers=headers, status=201)


def member_count(db_path: Path) -> int:
    with sqlite3.connect(db_path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM members").fetchone()
    return int(count)


def test_media_post_creates_a_media_link_entry(client: Any) -> None:
    response = upload_png(client)
    entry = parse(response.body)
    location = response.headers["Location"]
    assert location == client.base + "/media/logo"
    assert link(entry, "edit") == location
    media_url = link(entry, "edit-media")
    content = entry.find(f"{ATOM}content")
    assert content is not None
    assert content.get("src") == media_url
    assert content.get("type") == "image/png"
    assert entry.find(f"{ATOM}summary") is not None  # required when content has src
    media = client.get(media_url)
    assert media.content_type == "image/png"
    assert media.body == PNG
    client.get(media_url, headers={"If-None-Match": media.headers["ETag"]}, status=304)


def test_media_put_replaces_the_bytes_and_updates_the_entry(client: Any) -> None:
    created = upload_png(client)
    media_url = link(parse(created.body), "edit-media")
    old_tag = client.get(media_url).headers["ETag"]
    stale = {"Content-Type": "text/plain", "If-Match": '"stale"'}
    client.put(media_url, b"new", headers=stale, status=412)
    client.put(media_url, b"plain text now", headers={"Content-Type": "text/plain"}, status=204)
    media = client.get(media_url)
    assert media.body == b"plain text now"
    assert media.content_type == "text/plain"
    assert media.headers["ETag"] != old_tag
    entry = parse(client.get("/media/logo").body)
    assert entry.find(f"{ATOM}content").get("type") == "text/plain"  # type: ignore[union-attr]
    assert client.get("/media/logo").headers["ETag"] != created.headers["ETag"]


def test_media_link_entry_metadata_can_be_edited(client: Any) -> None:
    upload_png(client)
    client.put("/media/logo", entry_xml("Our logo"), headers=ENTRY_HEADERS)
    entry = parse(client.get("/media/logo").body)
    assert text(entry, f"{ATOM}title") == "Our logo"
    assert link(entry, "edit-media") == client.base + "/media/logo/content"
    assert client.get("/media/logo/content").body == PNG


def test_deleting_the_entry_deletes_the_media(client: Any, db_path: Path) -> None:
    upload_png(client)
    client.delete("/media/logo", status=204)
    client.get("/media/logo/content", status=404)
    assert member_count(db_path) == 0


def test_deleting_the_media_deletes_the_entry(client: Any, db_path: Path) -> None:
    upload_png(client)
    client.delete("/media/logo/content", status=204)
    client.get("/media/logo", status=404)
    assert member_count(db_path) == 0


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/media", "application/x-msdownload"),
        ("/media", "application/atom+xml;type=entry"),
        ("/entries", "image/png"),
        ("/entries", "application/atom+xml;type=feed"),
    ],
)
def test_unsupported_media_types_are_415(client: Any, path: str, content_type: str) -> None:
    body = entry_xml("x") if "atom" in content_type else PNG
    response = client.post(path, body, headers={"Content-Type": content_type}, status=415)
    assert "accepts" in response.text


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<entry xmlns="http://www.w3.org/2005/Atom"><title>&lol3;</title></entry>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE entry [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<entry xmlns="http://www.w3.org/2005/Atom"><title>&secret;</title></entry>"""


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<entry xmlns='http://www.w3.org/2005/Atom'><title>x</entry>", "not well-formed"),
        (b"", "empty"),
        (BILLION_LAUGHS, "refused"),
        (EXTERNAL_ENTITY, "refused"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "not an Atom entry"),
        (b"<entry xmlns='urn:not-atom'><title>x</title></entry>", "not an Atom entry"),
        (b"<entry xmlns='http://www.w3.org/2005/Atom'/>", "atom:title"),
        (entry_xml("x", extra="<updated>yesterday</updated>"), "RFC 3339"),
        (
            entry_xml("x", extra='<category scheme="tag:httpkit.example,2024:kind" term="poem"/>'),
            "fixed terms",
        ),
        (entry_xml("x", extra="<category/>"), "term"),
    ],
)
def test_bad_entries_are_400_with_a_reason(
    client: Any, db_path: Path, body: bytes, reason: str
) -> None:
    response = client.post("/entries", body, headers=ENTRY_HEADERS, status=400)
    assert reason in response.text
    assert member_count(db_path) == 0


def test_bad_put_leaves_the_member_as_it_was(client: Any) -> None:
    client.post("/entries", entry_xml("Kept"), headers={**ENTRY_HEADERS, "Slug": "kept"})
    client.put("/entries/kept", b"<entry><oops></entry>", headers=ENTRY_HEADERS, status=400)
    assert text(parse(client.get("/entries/kept").body), f"{ATOM}title") == "Kept"


def test_oversized_bodies_are_413(client: Any, db_path: Path) -> None:
    big = entry_xml("big", content="x" * MAX_BODY)
    client.post("/entries", big, headers=ENTRY_HEADERS, status=413)
    client.post(
        "/media", b"x" * (MAX_BODY + 1), headers={"Content-Type": "text/plain"}, status=413
    )
    assert member_count(db_path) == 0


def test_an_error_inside_a_write_rolls_everything_back(client: Any, db_path: Path) -> None:
    upload_png(client)
    # Make the last statement of every write fail: the member row was already written
    # by then, so only a rollback of the whole transaction leaves the store unchanged.
    with sqlite3.connect(db_path) as connection:
        connection.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE ON collections "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    text_headers = {"Content-Type": "text/plain"}
    client.put("/media/logo/content", b"new", headers=text_headers, status=500)
    client.post("/media", b"more", headers=text_headers, status=500)
    client.delete("/media/logo", status=500)
    with sqlite3.connect(db_path) as connection:
        connection.execute("DROP TRIGGER refuse")
    assert client.get("/media/logo/content").body == PNG
    assert member_count(db_path) == 1
