"""The AtomPub example through WebTest: service document, feeds, member entries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from atompub_helpers import (
    APP,
    ATOM,
    ENTRY_HEADERS,
    ENTRY_TYPE,
    FEED_TYPE,
    RFC3339,
    atompub_client,
    entry_xml,
    link,
    parse,
    text,
)
from webtest import TestApp

from examples.atompub import make_app


@pytest.fixture(params=["wsgi", "live"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with atompub_client(request.param, tmp_path / "atom.db", page_size=2) as made:
        yield made


def post_entry(client: Any, title: str, slug: str | None = None, extra: str = "") -> object:
    headers = dict(ENTRY_HEADERS)
    if slug is not None:
        headers["Slug"] = slug
    return client.post("/entries", entry_xml(title, extra=extra), headers=headers, status=201)


def test_home_page_links_the_service_document(client: Any) -> None:
    response = client.get("/")
    assert response.headers["Link"] == '</service>; rel="service"'
    assert 'rel="service"' in response.text and 'href="/service"' in response.text


def test_service_document_describes_both_collections(client: Any) -> None:
    response = client.get("/service")
    assert response.content_type == "application/atomsvc+xml"
    service = parse(response.body)
    collections = service.findall(f"{APP}workspace/{APP}collection")
    by_href = {c.get("href"): c for c in collections}
    assert set(by_href) == {client.base + "/entries", client.base + "/media"}
    entries = by_href[client.base + "/entries"]
    assert [a.text for a in entries.findall(f"{APP}accept")] == [ENTRY_TYPE]
    fixed, out_of_line = entries.findall(f"{APP}categories")
    assert fixed.get("fixed") == "yes"
    assert {c.get("term") for c in fixed.findall(f"{ATOM}category")} >= {"article", "note"}
    assert out_of_line.get("href") == client.base + "/categories"
    media_accept = [a.text for a in by_href[client.base + "/media"].findall(f"{APP}accept")]
    assert "image/png" in media_accept


def test_out_of_line_categories_document(client: Any) -> None:
    response = client.get("/categories")
    assert response.content_type == "application/atomcat+xml"
    categories = parse(response.body)
    assert categories.tag == f"{APP}categories"
    assert categories.get("fixed") == "no"
    assert "python" in {c.get("term") for c in categories.findall(f"{ATOM}category")}


def test_post_creates_a_member_with_location_and_etag(client: Any) -> None:
    response = post_entry(client, "First post", slug="My%20First%20Post")
    location = response.headers["Location"]
    assert location == client.base + "/entries/my-first-post"
    assert response.headers["Content-Location"] == location
    assert response.headers["Content-Type"] == ENTRY_TYPE
    entry = parse(response.body)
    assert link(entry, "edit") == location
    assert text(entry, f"{ATOM}id").startswith("urn:uuid:")
    assert RFC3339.match(text(entry, f"{APP}edited"))
    assert RFC3339.match(text(entry, f"{ATOM}updated"))
    fetched = client.get(location)
    assert fetched.headers["ETag"] == response.headers["ETag"]
    assert text(parse(fetched.body), f"{ATOM}title") == "First post"


def test_slug_is_a_hint_made_unique_and_safe(client: Any) -> None:
    first = post_entry(client, "x", slug="Caf%C3%A9 Society")
    second = post_entry(client, "x", slug="Caf%C3%A9 Society")
    from_title = post_entry(client, "Only a Title!")
    assert first.headers["Location"].endswith("/entries/cafe-society")
    assert second.headers["Location"].endswith("/entries/cafe-society-2")
    assert from_title.headers["Location"].endswith("/entries/only-a-title")


def test_a_slug_from_a_markup_title_is_made_of_its_text(client: Any) -> None:
    html = '<title type="html">&lt;b&gt;Caf&amp;eacute;&lt;/b&gt; news</title>'
    body = f'<entry xmlns="http://www.w3.org/2005/Atom">{html}<content>c</content></entry>'
    response = client.post("/entries", body.encode(), headers=ENTRY_HEADERS, status=201)
    assert response.headers["Location"] == client.base + "/entries/cafe-news"


def test_foreign_markup_and_categories_are_kept(client: Any) -> None:
    extra = (
        '<category term="note" scheme="tag:httpkit.example,2024:kind"/>'
        '<category term="anything" scheme="urn:my:tags"/>'
        '<geo:point xmlns:geo="http://www.georss.org/georss">45.2 4.5</geo:point>'
    )
    location = post_entry(client, "Tagged", extra=extra).headers["Location"]
    entry = parse(client.get(location).body)
    terms = {c.get("term") for c in entry.findall(f"{ATOM}category")}
    assert terms == {"note", "anything"}
    assert text(entry, "{http://www.georss.org/georss}point") == "45.2 4.5"


def test_feed_is_valid_atom_newest_edited_first(client: Any) -> None:
    post_entry(client, "Older", slug="older")
    post_entry(client, "Newer", slug="newer")
    feed = client.get("/entries")
    assert feed.headers["Content-Type"] == FEED_TYPE
    root = parse(feed.body)
    assert text(root, f"{ATOM}id").startswith("urn:uuid:")
    assert text(root, f"{ATOM}title") == "Entries"
    assert RFC3339.match(text(root, f"{ATOM}updated"))
    assert text(root, f"{ATOM}author/{ATOM}name")
    assert link(root, "self") == client.base + "/entries"
    titles = [text(e, f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert titles == ["Newer", "Older"]
    # Editing the older entry moves it to the top: the order is by app:edited.
    older = client.get("/entries/older")
    client.put("/entries/older", entry_xml("Older, edited"), headers=ENTRY_HEADERS)
    root = parse(client.get("/entries").body)
    titles = [text(e, f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert titles == ["Older, edited", "Newer"]
    assert older.status_int == 200


def test_feed_pages_link_first_next_previous(client: Any) -> None:
    for number in range(5):
        post_entry(client, f"Entry {number}")
    seen: list[str] = []
    url: str | None = "/entries"
    pages = 0
    while url is not None and pages < 10:
        root = parse(client.get(url).body)
        seen += [text(e, f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
        assert link(root, "first") == client.base + "/entries"
        if pages > 0:
            assert link(root, "previous") is not None
        url = link(root, "next")
        pages += 1
    assert pages == 3
    assert seen == [f"Entry {n}" for n in range(4, -1, -1)]


@pytest.mark.parametrize("page", ["0", "abc", "-1", "1e3", "99999999999"])
def test_bad_page_numbers_are_400(client: Any, page: str) -> None:
    response = client.get(f"/entries?page={page}", status=400)
    assert "page" in response.text


def test_page_past_the_end_is_404(client: Any) -> None:
    post_entry(client, "Only one")
    client.get("/entries?page=2", status=404)


def test_put_edits_the_member_keeping_its_id(client: Any) -> None:
    created = post_entry(client, "Draft", slug="doc")
    before = parse(created.body)
    client_id = "<id>urn:uuid:00000000-0000-0000-0000-000000000000</id>"
    response = client.put(
        "/entries/doc",
        entry_xml("Final", extra=client_id),
        headers={**ENTRY_HEADERS, "If-Match": created.headers["ETag"]},
    )
    after = parse(response.body)
    assert text(after, f"{ATOM}title") == "Final"
    assert text(after, f"{ATOM}id") == text(before, f"{ATOM}id")
    assert _edited(after) > _edited(before)
    assert response.headers["ETag"] != created.headers["ETag"]
    assert client.get("/entries/doc").headers["ETag"] == response.headers["ETag"]


def test_stale_if_match_is_412_and_changes_nothing(client: Any) -> None:
    created = post_entry(client, "Original", slug="doc")
    client.put("/entries/doc", entry_xml("Edit 1"), headers=ENTRY_HEADERS)
    stale = {**ENTRY_HEADERS, "If-Match": created.headers["ETag"]}
    client.put("/entries/doc", entry_xml("Edit 2"), headers=stale, status=412)
    client.delete("/entries/doc", headers={"If-Match": created.headers["ETag"]}, status=412)
    assert text(parse(client.get("/entries/doc").body), f"{ATOM}title") == "Edit 1"


def test_delete_removes_the_member(client: Any) -> None:
    created = post_entry(client, "Doomed", slug="doomed")
    client.delete("/entries/doomed", headers={"If-Match": created.headers["ETag"]}, status=204)
    client.get("/entries/doomed", status=404)
    assert parse(client.get("/entries").body).find(f"{ATOM}entry") is None


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_unknown_members_are_404(client: Any, method: str) -> None:
    kwargs = {"params": entry_xml("x"), "headers": ENTRY_HEADERS} if method == "put" else {}
    getattr(client, method)("/entries/no-such-thing", status=404, **kwargs)


def test_conditional_get_on_feed_and_member(client: Any) -> None:
    created = post_entry(client, "Cached", slug="cached")
    etag = created.headers["ETag"]
    client.get("/entries/cached", headers={"If-None-Match": etag}, status=304)
    feed = client.get("/entries")
    client.get("/entries", headers={"If-None-Match": feed.headers["ETag"]}, status=304)
    post_entry(client, "Another")
    # The collection changed: the old feed ETag no longer matches.
    changed = client.get("/entries", headers={"If-None-Match": feed.headers["ETag"]})
    assert changed.status_int == 200
    assert changed.headers["ETag"] != feed.headers["ETag"]


def _edited(entry: object) -> datetime:
    value = text(entry, f"{APP}edited")  # type: ignore[arg-type]
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_atompub_db_variable_names_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMPUB_DB", str(tmp_path / "from-env.db"))
    monkeypatch.chdir(tmp_path)
    TestApp(make_app()).post("/entries", entry_xml("Env"), headers=ENTRY_HEADERS, status=201)
    assert (tmp_path / "from-env.db").is_file()
    assert not (tmp_path / "atompub.db").exists()


@pytest.mark.parametrize("page_size", [0, -1, "10"])
def test_make_app_refuses_a_bad_page_size(tmp_path: Path, page_size: Any) -> None:
    with pytest.raises(ValueError, match="page_size"):
        make_app(str(tmp_path / "x.db"), page_size=page_size)


def test_in_memory_store_is_refused() -> None:
    with pytest.raises(ValueError, match="file path"):
        make_app(":memory:")
