"""Turning a client's entry into a stored member: ids, slugs, server-maintained dates."""

from __future__ import annotations

import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

from examples.atompub.atom import app, atom, rfc3339, serialize, set_child, text_of, title_text
from examples.atompub.store import Member, entity_tag
from examples.atompub.xmlio import parse_trusted

__all__ = [
    "build_member",
    "media_summary",
    "new_entry_id",
    "new_media_entry",
    "pick_slug",
    "refresh_media_summary",
    "slug_title",
    "stored_entry",
]

MAX_SLUG_LENGTH = 60
MAX_SLUG_TRIES = 100  # "slug-2" .. "slug-100", then a random suffix
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# The server's own summary, "A ..." or "An ..." (older members say "A image/png ...").
_SERVER_SUMMARY = re.compile(r"An? \S+(?: [^ ]+)* file of \d+ bytes\.")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def new_entry_id() -> str:
    """A stable, globally unique atom:id (RFC 4287 section 4.2.6)."""
    return f"urn:uuid:{uuid.uuid4()}"


def pick_slug(slug_header: str | None, title: str, taken: Callable[[str], bool]) -> str:
    """A free URI segment from the ``Slug`` hint, else from the title (its plain text).

    RFC 5023 section 9.7: Slug is percent-encoded UTF-8 and only a hint; the server
    keeps what fits its URI space (here ``[a-z0-9-]``) and makes it unique.
    """
    base = _slugify(_decode_slug(slug_header)) if slug_header else ""
    base = base or _slugify(title) or uuid.uuid4().hex[:12]
    if not taken(base):
        return base
    for number in range(2, MAX_SLUG_TRIES + 1):
        candidate = f"{base[: MAX_SLUG_LENGTH - 4]}-{number}"
        if not taken(candidate):
            return candidate
    return f"{base[: MAX_SLUG_LENGTH - 13]}-{uuid.uuid4().hex[:12]}"


def _decode_slug(header: str) -> str:
    # WSGI gives header bytes as latin-1 text; some clients send raw UTF-8.
    raw = header.encode("latin-1", errors="replace").decode("utf-8", errors="replace")
    return unquote(raw, errors="replace")


def slug_title(slug_header: str | None) -> str:
    """The Slug hint as readable text (a media entry's default title)."""
    return _decode_slug(slug_header).strip() if slug_header else ""


def stored_entry(member: Member) -> ET.Element:
    """The member's stored entry as an element tree (our own bytes: trusted)."""
    return parse_trusted(member.entry_xml)


def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")[:MAX_SLUG_LENGTH].strip("-")


def new_media_entry(title: str, media_type: str, size: int) -> ET.Element:
    """The Media Link Entry the server makes for an uploaded media resource."""
    entry = ET.Element(atom("entry"))
    ET.SubElement(entry, atom("title")).text = title
    # RFC 4287 section 4.1.1.1: content with src needs a summary; say what it points at.
    ET.SubElement(entry, atom("summary")).text = media_summary(media_type, size)
    return entry


def media_summary(media_type: str, size: int) -> str:
    """The summary the server writes for a media resource."""
    # The top-level types that start with a vowel (application, audio, example, image)
    # are all said with one: "an image/png file".
    article = "An" if media_type.lower().startswith(("a", "e", "i", "o", "u")) else "A"
    return f"{article} {media_type} file of {size} bytes."


def refresh_media_summary(entry: ET.Element, media_type: str, size: int) -> None:
    """Rewrite the summary for new media bytes, unless a client wrote its own."""
    summary = entry.find(atom("summary"))
    if summary is None or _SERVER_SUMMARY.fullmatch(summary.text or ""):
        set_child(entry, atom("summary"), media_summary(media_type, size))


def build_member(
    entry: ET.Element,
    *,
    collection: str,
    slug: str,
    entry_id: str,
    author: str,
    media_type: str | None = None,
    media_etag: str | None = None,
) -> Member:
    """Set the server's parts of ``entry``: id, ``app:edited``, and ``updated`` and
    ``author`` when the client left them out (RFC 4287 section 4.1.2 requires both)."""
    now = datetime.now(timezone.utc)
    if entry.find(atom("author")) is None:
        author_element = ET.SubElement(entry, atom("author"))
        ET.SubElement(author_element, atom("name")).text = author
    set_child(entry, atom("id"), entry_id)
    if entry.find(atom("updated")) is None:
        set_child(entry, atom("updated"), rfc3339(now))
    # RFC 5023 section 10.2: app:edited is the server's, changed on every edit.
    set_child(entry, app("edited"), rfc3339(now))
    if media_type is not None:
        # The content of a media entry points at the media resource: the server writes it.
        for content in entry.findall(atom("content")):
            entry.remove(content)
    entry_xml = serialize(entry)
    return Member(
        collection=collection,
        slug=slug,
        entry_id=entry_id,
        title=title_text(entry),
        edited_us=(now - _EPOCH) // _MICROSECOND,
        updated=text_of(entry, "updated"),
        entry_xml=entry_xml,
        etag=entity_tag(entry_xml, (media_etag or "").encode()),
        media_type=media_type,
        media_etag=media_etag,
    )
