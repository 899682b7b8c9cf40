"""The HTML view of the service, for browsers: Jinja2 templates, content negotiation.

A browser's ``Accept`` prefers ``text/html``; feed readers and AtomPub clients ask for
Atom or for anything (``*/*``, or no ``Accept`` at all), and get Atom.  Both answers say
``Vary: Accept``, and their ETags differ, so that caches keep them apart.

Templates live in ``templates/`` and are rendered here only (autoescaped): the one place
to change when the router's own template support takes over.  The entry's text shown in
a page always goes through the sanitizer, whether or not the stored entry was cleaned.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import webob
from markupsafe import Markup

from examples.atompub.atom import atom, text_of
from examples.atompub.documents import FeedPage
from examples.atompub.sanitize import clean_html
from examples.atompub.store import Member
from examples.atompub.xmlio import XHTML, inner_html, parse_trusted
from httpkit.web import Request

__all__ = ["EntryView", "collection_page", "entry_view", "html_page", "wants_html"]

HTML_TYPE = "text/html"
ATOM_TYPE = "application/atom+xml"
HTML_TAG_SUFFIX = "-html"  # the HTML page's ETag is the Atom one with this suffix

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


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
    media_url: str | None
    media_type: str | None


def wants_html(request: Request) -> bool:
    """True when the client prefers HTML to Atom (a browser); only GET and HEAD."""
    if request.method not in ("GET", "HEAD"):
        return False
    offers = request.accept.acceptable_offers([ATOM_TYPE, HTML_TYPE])
    # No acceptable offer at all: Atom, the service's own format, rather than a 406.
    return bool(offers) and offers[0][0] == HTML_TYPE


def html_page(template: str, context: Mapping[str, Any]) -> webob.Response:
    """The rendered template as a response that varies on ``Accept``."""
    body = _TEMPLATES.get_template(template).render(context)
    response = webob.Response(body=body.encode(), content_type=HTML_TYPE, charset="UTF-8")
    response.vary = ("Accept",)
    return response


def collection_page(
    context: Mapping[str, Any], page: FeedPage, title: str, entries: list[EntryView]
) -> webob.Response:
    """One page of a collection, newest first, with links to its neighbours."""
    neighbours = {
        "previous_url": page.url(page.number - 1) if page.number > 1 else None,
        "next_url": page.url(page.number + 1) if page.number < page.last_number else None,
    }
    return html_page(
        "collection.html",
        {
            **context,
            **neighbours,
            "title": title,
            "entries": entries,
            "feed_url": page.url(page.number),
            "number": page.number,
            "last_number": page.last_number,
        },
    )


def entry_view(member: Member, url: str, media_url: str | None) -> EntryView:
    """A member's entry as the templates show it."""
    entry = parse_trusted(member.entry_xml)
    authors = [text_of(author, "name") for author in entry.findall(atom("author"))]
    return EntryView(
        title=member.title,
        url=url,
        updated=member.updated,
        edited=_edited(entry),
        authors=[name for name in authors if name],
        summary=_plain_text(entry.find(atom("summary"))),
        body=_content(entry.find(atom("content"))),
        media_url=media_url,
        media_type=member.media_type,
    )


def _edited(entry: ET.Element) -> str:
    found = entry.find("{http://www.w3.org/2007/app}edited")
    return "" if found is None else (found.text or "").strip()


def _plain_text(element: ET.Element | None) -> str:
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "html":
        # Markup inside a summary: shown as its text only.
        return str(Markup(clean_html(element.text or "")).striptags())
    return "".join(element.itertext()).strip()


def _content(content: ET.Element | None) -> Markup:
    """The entry's content as safe HTML: cleaned markup, or escaped text."""
    if content is None or content.get("src") is not None:
        return Markup("")
    kind = content.get("type", "text").split(";", 1)[0].strip().lower()
    if kind in ("html", "text/html"):
        return Markup(clean_html(content.text or ""))
    if kind in ("xhtml", "application/xhtml+xml"):
        div = content.find(f"{{{XHTML}}}div")
        return Markup("") if div is None else Markup(clean_html(inner_html(div)))
    if kind == "text" or kind.startswith("text/"):
        return Markup("<p>%s</p>") % (content.text or "")
    return Markup("<p><em>%s content</em></p>") % kind
