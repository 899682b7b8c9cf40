"""What the service publishes stays valid Atom (RFC 4287) and safe to show: entries
without content refused, Atom as the default namespace, foreign prefixes and default
namespaces kept, media entries with a real summary, published HTML and XHTML cleaned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from atompub_helpers import ATOM, ENTRY_HEADERS, PNG, atompub_client, link, parse, text

XHTML = "{http://www.w3.org/1999/xhtml}"


def entry(inner: str, namespaces: str = "") -> bytes:
    return (
        f'<entry xmlns="http://www.w3.org/2005/Atom"{namespaces}><title>T</title>{inner}</entry>'
    ).encode()


@pytest.fixture(params=["wsgi", "live"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with atompub_client(request.param, tmp_path / "atom.db") as made:
        yield made


def publish(client: Any, body: bytes, status: int = 201) -> Any:
    return client.post("/entries", body, headers=ENTRY_HEADERS, status=status)


@pytest.mark.parametrize(
    ("inner", "reason"),
    [
        ("", 'atom:content or a rel="alternate"'),
        ('<link rel="related" href="http://example.com/"/>', 'rel="alternate"'),
        ('<content src="http://example.com/a.png" type="image/png"/>', "atom:summary"),
        ('<content type="image/png">iVBORw0KGgo=</content>', "Base64"),
    ],
)
def test_entries_that_would_make_the_feed_invalid_are_400(
    client: Any, inner: str, reason: str
) -> None:
    response = publish(client, entry(inner), status=400)
    assert reason in response.text
    assert parse(client.get("/entries").body).find(f"{ATOM}entry") is None


@pytest.mark.parametrize(
    "inner",
    [
        '<link href="http://example.com/post"/>',  # no rel: an alternate link
        '<link rel="alternate" href="http://example.com/post"/>',
        '<content src="http://example.com/a.png" type="image/png"/><summary>A picture</summary>',
        '<content type="application/xml"><data xmlns="urn:x"/></content>',
    ],
)
def test_entries_with_content_or_an_alternate_link_are_accepted(client: Any, inner: str) -> None:
    publish(client, entry(inner))


def test_documents_use_atom_as_the_default_namespace(client: Any) -> None:
    xhtml = (
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi</p></div></content>'
    )
    created = publish(client, entry(xhtml))
    for body in (created.body, client.get("/entries").body):
        assert b"atom:" not in body.replace(b"xmlns:atom", b"")
        assert b'<div xmlns="http://www.w3.org/1999/xhtml"><p>Hi</p></div>' in body
    assert client.get("/entries").body.count(b'xmlns="http://www.w3.org/2005/Atom"') == 1
    div = parse(created.body).find(f"{ATOM}content/{XHTML}div")
    assert div is not None and text(div, f"{XHTML}p") == "Hi"


def test_foreign_markup_keeps_its_prefixes(client: Any) -> None:
    # The value of q:kind is a QName: it resolves only if the prefix q is still bound.
    foreign = '<content>x</content><geo:point q:kind="q:spot">45.2 4.5</geo:point>'
    namespaces = ' xmlns:geo="http://www.georss.org/georss" xmlns:q="urn:example:q"'
    location = publish(client, entry(foreign, namespaces)).headers["Location"]
    body = client.get(location).body
    assert b'<geo:point q:kind="q:spot">45.2 4.5</geo:point>' in body
    assert b'xmlns:q="urn:example:q"' in body
    point = parse(body).find("{http://www.georss.org/georss}point")
    assert point is not None and point.get("{urn:example:q}kind") == "q:spot"


FOREIGN_DEFAULT = [
    entry('<content>x</content><ext xmlns="urn:y" kind="item"><sub>t</sub></ext>'),
    # Atom under a prefix, the foreign namespace the document's default one.
    b'<a:entry xmlns:a="http://www.w3.org/2005/Atom" xmlns="urn:y"><a:title>T</a:title>'
    b'<a:content>x</a:content><ext kind="item"><sub>t</sub></ext></a:entry>',
]


@pytest.mark.parametrize("body", FOREIGN_DEFAULT, ids=["on-the-element", "on-the-entry"])
def test_foreign_markup_in_a_default_namespace_keeps_it(client: Any, body: bytes) -> None:
    # Unprefixed QNames in its content or attributes resolve to the default namespace:
    # it has to stay the default namespace there, not become an invented prefix.
    location = publish(client, body).headers["Location"]
    for document in (client.get(location).body, client.get("/entries").body):
        assert b'<ext xmlns="urn:y" kind="item"><sub>t</sub></ext>' in document
        assert b":ext" not in document and b":sub" not in document
    root = parse(client.get(location).body)
    assert root.tag == f"{ATOM}entry"
    assert text(root, "{urn:y}ext/{urn:y}sub") == "t"


def test_media_entries_get_a_real_summary(client: Any) -> None:
    created = client.post(
        "/media", PNG, headers={"Content-Type": "image/png", "Slug": "logo"}, status=201
    )
    summary = text(parse(created.body), f"{ATOM}summary")
    # The article goes by the sound of the media type's first letter.
    assert summary == f"An image/png file of {len(PNG)} bytes."
    media_url = link(parse(created.body), "edit-media")
    client.put(media_url, b"now text", headers={"Content-Type": "text/plain"}, status=204)
    assert text(parse(client.get("/media/logo").body), f"{ATOM}summary") == (
        "A text/plain file of 8 bytes."
    )
    client.put(media_url, b"%PDF-1.7", headers={"Content-Type": "application/pdf"}, status=204)
    assert text(parse(client.get("/media/logo").body), f"{ATOM}summary") == (
        "An application/pdf file of 8 bytes."
    )


def test_media_type_parameters_are_kept(client: Any) -> None:
    headers = {"Content-Type": "text/plain; charset=utf-8", "Slug": "note"}
    created = client.post("/media", "naïve".encode(), headers=headers, status=201)
    content = parse(created.body).find(f"{ATOM}content")
    assert content is not None and content.get("type") == "text/plain; charset=utf-8"
    media = client.get(link(parse(created.body), "edit-media"))
    assert media.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_empty_media_bodies_are_400(client: Any) -> None:
    response = client.post("/media", b"", headers={"Content-Type": "image/png"}, status=400)
    assert "empty" in response.text
    assert parse(client.get("/media").body).find(f"{ATOM}entry") is None
    created = client.post("/media", PNG, headers={"Content-Type": "image/png"}, status=201)
    media_url = link(parse(created.body), "edit-media")
    client.put(media_url, b"", headers={"Content-Type": "image/png"}, status=400)
    assert client.get(media_url).body == PNG


HOSTILE_HTML = (
    '&lt;p onclick="steal()" style="color:red"&gt;Hi&lt;script&gt;steal()&lt;/script&gt;'
    '&lt;a href="javascript:steal()"&gt;link&lt;/a&gt;&lt;/p&gt;'
)
HOSTILE_XHTML = (
    '<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="steal()" style="color:red">Hi'
    '<script>steal()</script><a href="javascript:steal()">link</a></p></div>'
)


@pytest.mark.parametrize(
    "inner",
    [
        f'<content type="html">{HOSTILE_HTML}</content>',
        f'<content type="xhtml">{HOSTILE_XHTML}</content>',
        f'<summary type="html">{HOSTILE_HTML}</summary><content>x</content>',
    ],
)
def test_published_html_and_xhtml_are_sanitized(client: Any, inner: str) -> None:
    created = publish(client, entry(inner))
    for body in (created.body, client.get("/entries").body):
        assert b"Hi" in body and b"link" in body
        for hostile in (b"onclick", b"script", b"javascript:", b"style", b"steal"):
            assert hostile not in body


def test_sanitizing_can_be_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = entry(f'<content type="xhtml">{HOSTILE_XHTML}</content>')
    with atompub_client("wsgi", tmp_path / "a.db", sanitize=False) as raw:
        assert b"onclick" in publish(raw, body).body
    monkeypatch.setenv("ATOMPUB_SANITIZE", "off")
    with atompub_client("wsgi", tmp_path / "b.db") as from_environment:
        assert b"onclick" in publish(from_environment, body).body
    monkeypatch.setenv("ATOMPUB_SANITIZE", "on")
    with atompub_client("wsgi", tmp_path / "c.db") as cleaned:
        assert b"onclick" not in publish(cleaned, body).body
