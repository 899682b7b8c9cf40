"""Cleaning the HTML and XHTML a client publishes, with nh3 (the Rust ``ammonia``).

The service is meant as a blog backend: what a client posts ends up in feed readers and
web pages, so script, event handlers, ``javascript:`` links and style are removed from
every Text construct and from content (RFC 4287 sections 3.1 and 4.1.3) before the
entry is stored.  nh3 works on HTML text: XHTML is written out as HTML, cleaned, and
read back into XHTML elements; what nh3 writes is well-formed, so reading it back is
a plain walk over its tags.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import nh3

from examples.atompub.xmlio import ATOM, VOID_ELEMENTS, XHTML, inner_html, is_declaration

__all__ = ["clean_html", "sanitize_entry"]

# The Text constructs and content of an entry (RFC 4287 sections 4.1.3, 4.2.10, 4.2.13,
# 4.2.14); a source element's title and subtitle count too.
_TEXT_CONSTRUCTS = ("content", "rights", "summary", "title", "subtitle")
_HTML_TYPES = frozenset({"html", "text/html"})
_XHTML_TYPES = frozenset({"xhtml", "application/xhtml+xml"})


def clean_html(markup: str) -> str:
    """``markup`` with only nh3's allowed tags, attributes and URL schemes left."""
    cleaned: str = nh3.clean(markup)
    return cleaned


def sanitize_entry(entry: ET.Element) -> None:
    """Clean every HTML and XHTML Text construct and content of ``entry`` in place."""
    for name in _TEXT_CONSTRUCTS:
        for element in entry.iter(f"{{{ATOM}}}{name}"):
            kind = element.get("type", "text").split(";", 1)[0].strip().lower()
            if kind in _HTML_TYPES:
                element.text = clean_html(element.text or "")
            elif kind in _XHTML_TYPES:
                _clean_xhtml(element)


def _clean_xhtml(element: ET.Element) -> None:
    # RFC 4287 section 3.1.1.3: the content is one xhtml:div; keep the div itself.
    for child in list(element):
        if child.tag == f"{{{XHTML}}}div":
            cleaned = clean_html(inner_html(child))
            attributes = {key: value for key, value in child.items() if is_declaration(key)}
            child.clear()
            child.attrib.update(attributes)
            _XhtmlBuilder(child).feed(cleaned)
        else:
            element.remove(child)  # anything but the div is not XHTML content
    element.text = None


class _XhtmlBuilder(HTMLParser):
    """Reads nh3's HTML back into XHTML elements under ``root``."""

    def __init__(self, root: ET.Element) -> None:
        super().__init__(convert_charrefs=True)
        self._open = [root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self._open[-1]
        element = ET.SubElement(
            parent, f"{{{XHTML}}}{tag}", {name: value or "" for name, value in attrs}
        )
        if tag not in VOID_ELEMENTS:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self._close(tag)

    def handle_endtag(self, tag: str) -> None:
        self._close(tag)

    def _close(self, tag: str) -> None:
        names = [element.tag for element in self._open[1:]]
        if f"{{{XHTML}}}{tag}" in names:
            while self._open[-1].tag != f"{{{XHTML}}}{tag}":
                self._open.pop()
            self._open.pop()

    def handle_data(self, data: str) -> None:
        # Text inside an open element goes after its last child, if it has one.
        parent = self._open[-1]
        if len(parent):
            last = parent[-1]
            last.tail = (last.tail or "") + data
        else:
            parent.text = (parent.text or "") + data
