"""The HTML view of the service, for browsers: the router's templates, content negotiation.

A browser's ``Accept`` prefers ``text/html``; feed readers and AtomPub clients ask for
Atom or for anything (``*/*``, or no ``Accept`` at all), and get Atom.  Both answers say
``Vary: Accept``, and their ETags differ, so that caches keep them apart.

The pages are the templates in ``templates/``, rendered by the router
(:class:`httpkit.web.Templates`, ``request.render``): autoescaped, streamed, and given
``request`` and ``url_for``.  What a page shows of an entry is built here, and is safe
whatever the store holds: its HTML and XHTML go through the sanitizer again, text is
escaped by the template, content of any other media type (XML included) is shown as a
label only, and a client's address becomes a live link only if it is a web address
(:mod:`examples.atompub.links`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from examples.atompub.atom import atom, plain_text, text_of, title_text
from examples.atompub.documents import FeedPage
from examples.atompub.links import is_web_address
from examples.atompub.sanitize import clean_html
from examples.atompub.store import Member
from examples.atompub.xmlio import XHTML, inner_html, parse_trusted
from httpkit.web import HTML, Request, Templates

__all__ = [
    "EntryView",
    "LinkView",
    "collection_page",
    "entry_view",
    "page",
    "page_templates",
    "wants_html",
]

HTML_TYPE = "text/html"
ATOM_TYPE = "application/atom+xml"
HTML_TAG_SUFFIX = "-html"  # the HTML page's ETag is the Atom one with this suffix
TEMPLATE_DIRECTORY = Path(__file__).with_name("templates")
# Links of the entry that a reader has no use for on its page.
_UNSHOWN_RELS = frozenset({"self", "edit", "edit-media"})


@dataclass(frozen=True)
class LinkView:
    """One of the entry's own links (or its out-of-line content): ``live`` when the
    page may make it an ``href`` (see :func:`examples.atompub.links.is_web_address`)."""

    rel: str
    address: str
    label: str
    live: bool


@dataclass(frozen=True)
class EntryView:
    """What a page shows of one member."""

    title: str
    url: str
    updated: str
    edited: str
    authors: list[str]
    summary: str
    body: Markup
    links: list[LinkView]
    media_url: str | None
    media_type: str | None


def page_templates(service_title: str) -> Templates:
    """The service's templates, for ``Router(templates=...)``; every page sees the
    service's title as ``service_title``."""
    return Templates(
        TEMPLATE_DIRECTORY,
        globals={"service_title": service_title},
        # Jinja's block tags leave their line behind unless told otherwise.
        environment_options={"trim_blocks": True, "lstrip_blocks": True},
    )


def wants_html(request: Request) -> bool:
    """True when the client prefers HTML to Atom (a browser); only GET and HEAD."""
    if request.method not in ("GET", "HEAD"):
        return False
    offers = request.accept.acceptable_offers([ATOM_TYPE, HTML_TYPE])
    # No acceptable offer at all: Atom, the service's own format, rather than a 406.
    return bool(offers) and offers[0][0] == HTML_TYPE


def page(
    request: Request, template: str, *, headers: dict[str, str] | None = None, **context: Any
) -> HTML:
    """The rendered template; its handler says ``vary = ("Accept",)``, so the router adds
    ``Vary: Accept`` to it and to the 304 of a conditional GET."""
    return request.render(template, headers=headers, **context)


def collection_page(
    request: Request, feed: FeedPage, title: str, entries: list[EntryView]
) -> HTML:
    """One page of a collection, newest first, with links to its neighbours."""
    number, last_number = feed.number, feed.last_number
    return page(
        request,
        "collection.html",
        title=title,
        entries=entries,
        feed_url=feed.url(number),
        number=number,
        last_number=last_number,
        previous_url=feed.url(number - 1) if number > 1 else None,
        next_url=feed.url(number + 1) if number < last_number else None,
    )


def entry_view(member: Member, url: str, media_url: str | None) -> EntryView:
    """A member's entry as the templates show it."""
    entry = parse_trusted(member.entry_xml)
    authors = [text_of(author, "name") for author in entry.findall(atom("author"))]
    content = entry.find(atom("content"))
    return EntryView(
        # The title's text, not its markup: a type="html" title is HTML source.
        title=title_text(entry),
        url=url,
        updated=member.updated,
        edited=_edited(entry),
        authors=[name for name in authors if name],
        summary=plain_text(entry.find(atom("summary"))),
        body=_content(content),
        links=_links(entry, content) if media_url is None else [],
        media_url=media_url,
        media_type=member.media_type,
    )


def _edited(entry: ET.Element) -> str:
    found = entry.find("{http://www.w3.org/2007/app}edited")
    return "" if found is None else (found.text or "").strip()


def _links(entry: ET.Element, content: ET.Element | None) -> list[LinkView]:
    shown = []
    if content is not None and content.get("src") is not None:
        shown.append(_link_view("content", content.get("src", ""), "The content"))
    for link in entry.findall(atom("link")):
        rel = link.get("rel", "alternate")
        if rel not in _UNSHOWN_RELS:
            address = link.get("href", "")
            shown.append(_link_view(rel, address, link.get("title") or address))
    return shown


def _link_view(rel: str, address: str, label: str) -> LinkView:
    return LinkView(rel=rel, address=address, label=label, live=is_web_address(address))


def _content(content: ET.Element | None) -> Markup:
    """The entry's content as safe HTML: cleaned markup, escaped text, or a label."""
    if content is None or content.get("src") is not None:
        return Markup("")
    kind = content.get("type", "text").split(";", 1)[0].strip().lower()
    if kind in ("html", "text/html"):
        return Markup(clean_html(content.text or ""))
    if kind in ("xhtml", "application/xhtml+xml"):
        div = content.find(f"{{{XHTML}}}div")
        return Markup("") if div is None else Markup(clean_html(inner_html(div)))
    if kind == "text" or (kind.startswith("text/") and not _is_xml(kind)):
        return Markup("<p>%s</p>") % "".join(content.itertext())
    # XML (image/svg+xml, application/xml, text/xml...) or Base64: never shown as it is,
    # only named -- and the name, the client's own, is escaped like any text.
    return Markup("<p><em>%s content</em></p>") % kind


def _is_xml(media_type: str) -> bool:
    # RFC 4287 section 4.1.3.3 (and RFC 7303): these are XML, carried inline as elements.
    return media_type.endswith(("+xml", "/xml"))
