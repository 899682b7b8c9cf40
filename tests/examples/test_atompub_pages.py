"""A browser gets readable HTML pages; feed readers and AtomPub clients still get Atom."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from atompub_helpers import ENTRY_HEADERS, FEED_TYPE, PNG, atompub_client, entry_xml

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
FEED_READERS = [
    None,
    "*/*",
    "application/atom+xml",
    "application/atom+xml, application/rss+xml;q=0.9, application/xml;q=0.8, */*;q=0.7",
    "application/atom+xml,text/html;q=0.5",
]


@pytest.fixture(params=["wsgi", "live"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with atompub_client(request.param, tmp_path / "atom.db", page_size=2) as made:
        yield made


def browse(client: Any, path: str, **kwargs: Any) -> Any:
    return client.get(path, headers={"Accept": BROWSER, **kwargs.pop("headers", {})}, **kwargs)


def post(client: Any, title: str, slug: str, content: str = "Hello") -> Any:
    headers = {**ENTRY_HEADERS, "Slug": slug}
    return client.post("/entries", entry_xml(title, content=content), headers=headers)


def test_the_home_page_links_each_collection(client: Any) -> None:
    post(client, "One", "one")
    page = browse(client, "/")
    assert page.content_type == "text/html"
    assert page.headers["Vary"] == "Accept"
    assert '<a href="/entries">Entries</a> (1 member)' in page.text
    assert '<a href="/media">Media</a>' in page.text
    assert 'href="/service"' in page.text


def test_a_browser_reads_the_collection_and_each_entry(client: Any) -> None:
    for number in range(3):
        post(client, f"Post {number}", f"post-{number}", content=f"Body {number}")
    page = browse(client, "/entries")
    assert page.content_type == "text/html"
    assert page.headers["Vary"] == "Accept"
    assert page.text.index("Post 2") < page.text.index("Post 1")  # newest edit first
    assert "Post 0" not in page.text  # on page 2
    assert f'href="{client.base}/entries/post-2"' in page.text
    assert '<link rel="alternate" type="application/atom+xml"' in page.text
    assert f'href="{client.base}/entries?page=2">Older</a>' in page.text
    assert "Post 0" in browse(client, "/entries?page=2").text
    member = browse(client, "/entries/post-1")
    assert member.content_type == "text/html"
    assert "<h1>Post 1</h1>" in member.text and "<p>Body 1</p>" in member.text


@pytest.mark.parametrize("accept", FEED_READERS)
def test_feed_readers_and_clients_still_get_atom(client: Any, accept: str | None) -> None:
    post(client, "Post", "post")
    headers = {} if accept is None else {"Accept": accept}
    feed = client.get("/entries", headers=headers)
    assert feed.headers["Content-Type"] == FEED_TYPE
    assert feed.headers["Vary"] == "Accept"
    member = client.get("/entries/post", headers=headers)
    assert member.headers["Content-Type"].startswith("application/atom+xml")
    assert member.headers["Vary"] == "Accept"


def test_the_two_representations_have_their_own_etags(client: Any) -> None:
    created = post(client, "Post", "post")
    atom_tag = created.headers["ETag"]
    page = browse(client, "/entries/post")
    assert page.headers["ETag"] != atom_tag
    browse(client, "/entries/post", headers={"If-None-Match": page.headers["ETag"]}, status=304)
    # The Atom ETag does not validate the HTML page, nor the other way round.
    assert browse(client, "/entries/post", headers={"If-None-Match": atom_tag}).status_int == 200
    client.get("/entries/post", headers={"If-None-Match": atom_tag}, status=304)
    # An edit from an AtomPub client is checked against the Atom ETag.
    client.put(
        "/entries/post",
        entry_xml("Edited"),
        headers={**ENTRY_HEADERS, "If-Match": atom_tag, "Accept": BROWSER},
    )


@pytest.mark.parametrize("path", ["/entries", "/entries/post"])
@pytest.mark.parametrize("accept", [BROWSER, "application/atom+xml", None])
def test_a_conditional_gets_304_says_vary_accept(
    client: Any, path: str, accept: str | None
) -> None:
    # RFC 9110 section 15.4.5: the 304 carries the Vary its 200 would, so that a cache
    # that revalidates keeps the page and the feed apart.
    post(client, "Post", "post")
    headers = {} if accept is None else {"Accept": accept}
    full = client.get(path, headers=headers)
    assert full.headers["Vary"] == "Accept"
    conditional = {**headers, "If-None-Match": full.headers["ETag"]}
    not_modified = client.get(path, headers=conditional, status=304)
    assert not_modified.headers["Vary"] == "Accept"
    assert not_modified.headers["ETag"] == full.headers["ETag"]


def test_pages_escape_titles_and_clean_content_even_unsanitized(tmp_path: Path) -> None:
    hostile = '&lt;p onclick="steal()"&gt;Hi&lt;script&gt;steal()&lt;/script&gt;&lt;/p&gt;'
    body = (
        '<entry xmlns="http://www.w3.org/2005/Atom"><title>&lt;b&gt;Bold&lt;/b&gt;</title>'
        f'<content type="html">{hostile}</content></entry>'
    ).encode()
    with atompub_client("wsgi", tmp_path / "raw.db", sanitize=False) as client:
        client.post("/entries", body, headers={**ENTRY_HEADERS, "Slug": "x"}, status=201)
        for path in ("/entries", "/entries/x"):
            page = browse(client, path).text
            assert "&lt;b&gt;Bold&lt;/b&gt;" in page
            assert "<p>Hi</p>" in page
            assert "onclick" not in page and "steal" not in page


HTML_TITLE = "&lt;b&gt;Bold&lt;/b&gt; &amp;amp; title"
XHTML_TITLE = '<div xmlns="http://www.w3.org/1999/xhtml"><b>Bold</b> &amp; title</div>'


@pytest.mark.parametrize(
    ("kind", "title"), [("html", HTML_TITLE), ("xhtml", XHTML_TITLE)], ids=["html", "xhtml"]
)
def test_a_markup_title_shows_as_its_text(client: Any, kind: str, title: str) -> None:
    body = (
        '<entry xmlns="http://www.w3.org/2005/Atom">'
        f'<title type="{kind}">{title}</title><content>c</content></entry>'
    ).encode()
    created = client.post("/entries", body, headers={**ENTRY_HEADERS, "Slug": "bold"})
    member = browse(client, "/entries/bold").text
    assert "<h1>Bold &amp; title</h1>" in member
    assert "<title>Bold &amp; title · " in member
    assert (
        f'<a href="{client.base}/entries/bold">Bold &amp; title</a></h2>'
        in browse(client, "/entries").text
    )
    # The Atom documents keep the title as it was posted, its type and markup included.
    for document in (created.body, client.get("/entries/bold").body):
        assert f'<title type="{kind}">{title}</title>'.encode() in document


def test_media_members_show_their_picture(client: Any) -> None:
    client.post("/media", PNG, headers={"Content-Type": "image/png", "Slug": "logo"})
    page = browse(client, "/media/logo").text
    assert f'<img src="{client.base}/media/logo/content"' in page
    assert f"An image/png file of {len(PNG)} bytes." in page
