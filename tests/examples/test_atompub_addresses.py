"""A client's addresses: script schemes refused when sanitizing, never a live link on a
page; XML content never shown as markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from atompub_helpers import ATOM, ENTRY_HEADERS, atompub_client, entry_xml, parse

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Spelled as clients (and attackers) write them; the XML parser decodes the references.
SCRIPT_ADDRESSES = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " java&#9;script:alert(1)",
    "&#13;&#10; javascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;",
]
# Where an entry holds an address, and what the 400 names.
PLACES = {
    "link": ('<link rel="related" href="{}"/>', 'atom:link href (rel="related")'),
    "alternate": ('<link href="{}"/>', 'atom:link href (rel="alternate")'),
    "author uri": ("<author><name>A</name><uri>{}</uri></author>", "atom:uri"),
    "xml:base": ('<link xml:base="{}" href="x"/>', "the xml:base of atom:link"),
}


@pytest.fixture(params=["wsgi", "live"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with atompub_client(request.param, tmp_path / "atom.db") as made:
        yield made


@pytest.fixture
def unsanitized(tmp_path: Path) -> Iterator[Any]:
    with atompub_client("wsgi", tmp_path / "raw.db", sanitize=False) as made:
        yield made


def post(client: Any, body: bytes, slug: str = "x", status: int = 201) -> Any:
    return client.post("/entries", body, headers={**ENTRY_HEADERS, "Slug": slug}, status=status)


class Addresses(HTMLParser):
    """Every href and src of a page, as the browser would read its scheme."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value or "" for name, value in attrs if name in ("href", "src")]


def live_schemes(page: str) -> set[str]:
    schemes = set()
    for address in Addresses(page).found:
        # WHATWG URL parsing: tabs and newlines go, then C0 controls and spaces at the ends.
        cleaned = re.sub(r"[\t\n\r]", "", address).strip("".join(map(chr, range(0x21))))
        found = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
        schemes.add(found.group(1).lower() if found else "")
    return schemes


@pytest.mark.parametrize("address", SCRIPT_ADDRESSES)
@pytest.mark.parametrize("place", sorted(PLACES))
def test_script_addresses_are_refused_naming_where(client: Any, place: str, address: str) -> None:
    markup, named = PLACES[place]
    refused = post(client, entry_xml("T", extra=markup.format(address)), status=400)
    assert named in refused.text
    assert "refuses" in refused.text
    assert parse(client.get("/entries").body).find(f"{ATOM}entry") is None


def test_out_of_line_content_with_a_script_source_is_refused(client: Any) -> None:
    body = (
        b'<entry xmlns="http://www.w3.org/2005/Atom"><title>T</title><summary>S</summary>'
        b'<content src="javascript:alert(1)" type="text/html"/></entry>'
    )
    assert "atom:content src" in post(client, body, status=400).text


def test_an_edit_with_a_script_link_is_refused_and_changes_nothing(client: Any) -> None:
    created = post(client, entry_xml("Kept"))
    edit = entry_xml("Edited", extra='<link rel="related" href="javascript:alert(1)"/>')
    headers = {**ENTRY_HEADERS, "If-Match": created.headers["ETag"]}
    refused = client.put("/entries/x", edit, headers=headers, status=400)
    assert 'atom:link href (rel="related")' in refused.text
    assert client.get("/entries/x").headers["ETag"] == created.headers["ETag"]


def test_other_addresses_are_kept_and_linked_when_they_are_web_addresses(client: Any) -> None:
    links = (
        '<link href="https://example.org/post"/><link rel="related" href="/elsewhere"/>'
        '<link rel="related" href="urn:isbn:0451450523" title="The book"/>'
    )
    post(client, entry_xml("T", extra=links))
    stored = parse(client.get("/entries/x").body).findall(f"{ATOM}link")
    assert {"https://example.org/post", "/elsewhere", "urn:isbn:0451450523"} <= {
        link.get("href") for link in stored
    }
    page = client.get("/entries/x", headers={"Accept": BROWSER}).text
    assert '<a href="https://example.org/post">https://example.org/post</a>' in page
    assert '<a href="/elsewhere">/elsewhere</a>' in page
    assert 'href="urn:' not in page and "urn:isbn:0451450523" in page  # shown as text


@pytest.mark.parametrize("address", SCRIPT_ADDRESSES)
def test_pages_never_link_a_script_address_even_unsanitized(
    unsanitized: Any, address: str
) -> None:
    extra = (
        f'<link rel="related" href="{address}"/><link href="{address}"/>'
        '<link rel="via" href="http://example.org/"/>'
    )
    post(unsanitized, entry_xml("T", extra=extra))
    body = (
        '<entry xmlns="http://www.w3.org/2005/Atom"><title>U</title><summary>S</summary>'
        f'<content src="{address}" type="text/html"/></entry>'
    ).encode()
    post(unsanitized, body, slug="src")
    for path in ("/entries", "/entries/x", "/entries/src"):
        page = unsanitized.get(path, headers={"Accept": BROWSER}).text
        schemes = live_schemes(page)
        assert schemes <= {"", "http"}, (path, schemes)
        assert 'href="http://example.org/"' in page or path == "/entries/src"


XML_CONTENT = [
    ("application/xml", "<x:doc xmlns:x='urn:x'><script>steal()</script>Hi</x:doc>"),
    ("text/xml", "<doc><b onclick='steal()'>Hi</b>steal()</doc>"),
    (
        "image/svg+xml",
        "<svg xmlns='http://www.w3.org/2000/svg'><script>steal()</script></svg>",
    ),
    ("application/&lt;script&gt;steal()&lt;/script&gt;+xml", "<doc>Hi</doc>"),
]


@pytest.mark.parametrize("sanitize", [True, False])
@pytest.mark.parametrize(("media_type", "xml"), XML_CONTENT)
def test_xml_content_is_only_named_on_pages(
    tmp_path: Path, sanitize: bool, media_type: str, xml: str
) -> None:
    body = (
        '<entry xmlns="http://www.w3.org/2005/Atom"><title>T</title><summary>S</summary>'
        f'<content type="{media_type}">{xml}</content></entry>'
    ).encode()
    with atompub_client("wsgi", tmp_path / "xml.db", sanitize=sanitize) as client:
        post(client, body)
        # The Atom side carries the XML as it came: it is the client's document.
        content = parse(client.get("/entries/x").body).find(f"{ATOM}content")
        assert content is not None and len(content) == 1
        for path in ("/entries", "/entries/x"):
            page = client.get(path, headers={"Accept": BROWSER}).text
            main = page[page.index("<main>") : page.index("</main>")]
            assert "steal" not in main.replace("&lt;script&gt;steal()&lt;/script&gt;", "")
            assert "<script" not in page and "onclick" not in page and "<svg" not in page
            assert " content</em></p>" in main
        if media_type == "application/xml":
            assert "<p><em>application/xml content</em></p>" in page
