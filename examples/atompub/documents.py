"""The documents the service writes: member entries, feeds, the service document.

Links are absolute URLs built by the caller from the request (so they stay right behind
a mount prefix); everything else comes from the store.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from examples.atompub.atom import (
    APP,
    ATOM,
    FEED_TYPE,
    XHTML,
    Category,
    add_link,
    app,
    atom,
    categories_document,
    serialize,
    set_child,
)
from examples.atompub.store import CollectionState, Member
from examples.atompub.xmlio import parse_trusted

__all__ = [
    "CollectionInfo",
    "FeedPage",
    "entry_document",
    "member_entry",
    "render_categories",
    "render_feed",
    "render_service",
]


@dataclass(frozen=True)
class CollectionInfo:
    """How the service document describes one collection."""

    name: str
    title: str
    accept: tuple[str, ...]
    media: bool


@dataclass(frozen=True)
class FeedPage:
    """One page of a paged feed (RFC 5005 section 3) and the links around it."""

    state: CollectionState
    members: Sequence[Member]
    number: int
    last_number: int
    url: Callable[[int], str]  # page number -> its URL


# Service and category documents are AtomPub documents: Atom elements keep a prefix.
_APP_DOCUMENT_DEFAULTS = frozenset({XHTML})

MemberUrls = Callable[[Member], tuple[str, str | None]]  # -> (edit URL, edit-media URL)


def member_entry(member: Member, edit_url: str, media_url: str | None) -> ET.Element:
    """The stored entry with the server's links; a media entry also gets its content."""
    entry = parse_trusted(member.entry_xml)  # our own serialization: trusted bytes
    add_link(entry, "edit", edit_url)
    if media_url is not None and member.media_type is not None:
        # RFC 5023 section 9.6: a Media Link Entry points at its media resource.
        for content in entry.findall(atom("content")):
            entry.remove(content)
        ET.SubElement(entry, atom("content"), type=member.media_type, src=media_url)
        add_link(entry, "edit-media", media_url, member.media_type)
        if entry.find(atom("summary")) is None:
            # RFC 4287 section 4.1.1.1: an entry whose content has src needs a summary.
            set_child(entry, atom("summary"), f"{member.title} ({member.media_type})")
    return entry


def render_feed(page: FeedPage, title: str, author: str, member_urls: MemberUrls) -> bytes:
    """A valid Atom feed of one page, newest ``app:edited`` first."""
    feed = ET.Element(atom("feed"))
    feed.set("xmlns:app", APP)  # once for the feed, not once per entry's app:edited
    set_child(feed, atom("id"), page.state.feed_id)
    set_child(feed, atom("title"), title)
    set_child(feed, atom("updated"), page.state.updated)
    author_element = ET.SubElement(feed, atom("author"))
    ET.SubElement(author_element, atom("name")).text = author
    add_link(feed, "self", page.url(page.number), FEED_TYPE)
    # RFC 5005 section 3: first/previous/next/last let a client walk the whole collection.
    add_link(feed, "first", page.url(1), FEED_TYPE)
    if page.number > 1:
        add_link(feed, "previous", page.url(page.number - 1), FEED_TYPE)
    if page.number < page.last_number:
        add_link(feed, "next", page.url(page.number + 1), FEED_TYPE)
    add_link(feed, "last", page.url(page.last_number), FEED_TYPE)
    for member in page.members:
        edit_url, media_url = member_urls(member)
        feed.append(member_entry(member, edit_url, media_url))
    return serialize(feed)


def render_service(
    workspace_title: str,
    collections: Sequence[tuple[CollectionInfo, str]],
    fixed: tuple[str, Sequence[Category]],
    categories_url: str,
) -> bytes:
    """The service document (RFC 5023 section 8) with one workspace.

    ``collections`` pairs each collection with its URL; the entry collection lists the
    ``fixed`` (scheme, terms) categories inline and links the open ones out of line.
    """
    service = ET.Element(app("service"))
    service.set("xmlns:atom", ATOM)
    workspace = ET.SubElement(service, app("workspace"))
    ET.SubElement(workspace, atom("title")).text = workspace_title
    for info, href in collections:
        collection = ET.SubElement(workspace, app("collection"), href=href)
        ET.SubElement(collection, atom("title")).text = info.title
        for media_range in info.accept:
            ET.SubElement(collection, app("accept")).text = media_range
        if not info.media:
            scheme, terms = fixed
            collection.append(categories_document(scheme, True, terms))
            ET.SubElement(collection, app("categories"), href=categories_url)
    return serialize(service, _APP_DOCUMENT_DEFAULTS)


def render_categories(scheme: str, terms: Sequence[Category]) -> bytes:
    """An out-of-line category document (RFC 5023 section 7.1)."""
    return serialize(categories_document(scheme, False, terms), _APP_DOCUMENT_DEFAULTS)


def entry_document(entry: ET.Element) -> bytes:
    """A member entry as a document of its own (``application/atom+xml;type=entry``)."""
    return serialize(entry)
