"""Atom (RFC 4287) and AtomPub (RFC 5023) documents: parsing entries, writing documents.

Request bodies are parsed with ``defusedxml`` with DTDs refused outright: Atom never
needs one, and refusing them rules out entity-expansion bombs and external entities.
Everything else about a client's entry -- foreign markup, categories, extensions -- is
kept as it came.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

import webob.exc
from markupsafe import Markup

from examples.atompub.sanitize import clean_html
from examples.atompub.xmlio import ATOM, XHTML, parse_untrusted, serialize

__all__ = [
    "APP",
    "ATOM",
    "ENTRY_TYPE",
    "FEED_TYPE",
    "XHTML",
    "Category",
    "categories_document",
    "parse_entry",
    "plain_text",
    "rfc3339",
    "serialize",
    "title_text",
]
# Inline content a reader takes as text or markup; any other media type is Base64
# (RFC 4287 section 4.1.3.3), unless it is XML.
_TEXT_CONTENT_TYPES = frozenset({"text", "html", "xhtml"})

APP = "http://www.w3.org/2007/app"
ENTRY_TYPE = "application/atom+xml;type=entry"
FEED_TYPE = "application/atom+xml;type=feed"

# RFC 3339 section 5.6 date-time, as RFC 4287 section 3.3 restricts it (upper-case T/Z
# are what Atom requires; "a date-time MUST be uppercase").
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})\Z", re.ASCII
)
# Links the server owns (RFC 5023 section 9.1): a client cannot choose where they point.
_SERVER_LINKS = frozenset({"edit", "edit-media"})


class Category:
    """One ``atom:category`` of a category document (RFC 5023 section 7)."""

    __slots__ = ("label", "term")

    def __init__(self, term: str, label: str) -> None:
        self.term = term
        self.label = label


def atom(name: str) -> str:
    """The qualified name of an Atom element."""
    return f"{{{ATOM}}}{name}"


def app(name: str) -> str:
    """The qualified name of an AtomPub element."""
    return f"{{{APP}}}{name}"


def rfc3339(moment: datetime) -> str:
    """A UTC date-time with microseconds, e.g. ``2024-05-01T12:00:00.000001Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_entry(
    body: bytes, fixed_scheme: str, fixed_terms: Iterable[str], *, needs_content: bool = True
) -> ET.Element:
    """The ``atom:entry`` in ``body``, checked; 400 with the reason when it is not one.

    A category of ``fixed_scheme`` must use one of ``fixed_terms`` (the collection's
    ``fixed="yes"`` list, RFC 5023 section 7.2.1.1).  Server-owned parts (the edit
    links, ``app:edited``) are removed: the server writes its own.  ``needs_content``
    False is for a Media Link Entry, whose content the server writes.
    """
    root = parse_untrusted(body)
    if root.tag != atom("entry"):
        raise _bad(f"the document is a {_local(root.tag)!r} element, not an Atom entry")
    title = root.find(atom("title"))
    if title is None:
        raise _bad("an entry needs an atom:title (RFC 4287 section 4.1.2)")
    updated = root.find(atom("updated"))
    if updated is not None and not _DATE_TIME.match((updated.text or "").strip()):
        raise _bad(f"atom:updated {updated.text!r} is not an RFC 3339 date-time")
    allowed = frozenset(fixed_terms)
    for category in root.iter(atom("category")):
        term = category.get("term")
        if not term:
            raise _bad("an atom:category needs a term attribute (RFC 4287 section 4.2.2)")
        if category.get("scheme") == fixed_scheme and term not in allowed:
            raise _bad(f"category {term!r} is not one of the fixed terms of {fixed_scheme}")
    _strip_server_parts(root)
    if needs_content:
        _check_content(root)
    return root


def _check_content(entry: ET.Element) -> None:
    content = entry.find(atom("content"))
    if content is None:
        # RFC 4287 section 4.1.1: no content means a rel="alternate" link (a link
        # without rel is an alternate one, section 4.2.7.2).
        if not any(link.get("rel", "alternate") == "alternate" for link in _links(entry)):
            raise _bad(
                'an entry needs an atom:content or a rel="alternate" atom:link '
                "(RFC 4287 section 4.1.1)"
            )
        return
    if entry.find(atom("summary")) is not None:
        return
    if content.get("src") is not None:
        raise _bad("an entry whose atom:content has src needs an atom:summary (RFC 4287 4.1.1.1)")
    if _is_base64(content.get("type", "text")):
        raise _bad(
            "an entry whose atom:content is Base64 (not text, HTML, XHTML or XML) needs "
            "an atom:summary (RFC 4287 section 4.1.1.1)"
        )


def _links(entry: ET.Element) -> list[ET.Element]:
    return entry.findall(atom("link"))


def _is_base64(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in _TEXT_CONTENT_TYPES or media_type.startswith("text/"):
        return False
    # RFC 4287 section 4.1.3.3: XML media types are inline XML.
    return not (media_type.endswith(("+xml", "/xml")))


def _strip_server_parts(entry: ET.Element) -> None:
    for child in list(entry):
        if child.tag == app("edited") or (
            child.tag == atom("link") and child.get("rel") in _SERVER_LINKS
        ):
            entry.remove(child)


def text_of(entry: ET.Element, name: str) -> str:
    """The text of the entry's first Atom child ``name`` ('' when it has none)."""
    child = entry.find(atom(name))
    return "" if child is None else "".join(child.itertext()).strip()


def plain_text(construct: ET.Element | None) -> str:
    """What a reader sees of a Text construct (RFC 4287 section 3.1) as plain text: the
    text of its markup for ``type="html"`` and ``"xhtml"``, '' when there is none."""
    if construct is None:
        return ""
    if construct.get("type", "text") == "html":
        # The element's text is HTML (section 3.1.1.2): its tags go, its entities are read.
        return str(Markup(clean_html(construct.text or "")).striptags())
    return "".join(construct.itertext()).strip()


def title_text(entry: ET.Element) -> str:
    """The entry's title as plain text: what its page shows and its slug is made of."""
    return plain_text(entry.find(atom("title")))


def set_child(entry: ET.Element, name: str, text: str) -> None:
    """Give the entry exactly one ``name`` element (qualified) with ``text``."""
    for old in entry.findall(name):
        entry.remove(old)
    ET.SubElement(entry, name).text = text


def add_link(parent: ET.Element, rel: str, href: str, media_type: str | None = None) -> None:
    link = ET.SubElement(parent, atom("link"), rel=rel, href=href)
    if media_type is not None:
        link.set("type", media_type)


def categories_document(scheme: str, fixed: bool, terms: Sequence[Category]) -> ET.Element:
    """An ``app:categories`` element listing ``terms`` (RFC 5023 section 7.2)."""
    categories = ET.Element(app("categories"), fixed="yes" if fixed else "no", scheme=scheme)
    # The AtomPub namespace is the default one here: Atom elements keep this prefix.
    categories.set("xmlns:atom", ATOM)
    for category in terms:
        ET.SubElement(categories, atom("category"), term=category.term, label=category.label)
    return categories


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _bad(reason: str) -> webob.exc.HTTPBadRequest:
    return webob.exc.HTTPBadRequest(reason)
