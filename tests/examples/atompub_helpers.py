"""Shared pieces of the AtomPub tests: namespaces, sample entries, XML look-ups."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

ATOM = "{http://www.w3.org/2005/Atom}"
APP = "{http://www.w3.org/2007/app}"
ENTRY_TYPE = "application/atom+xml;type=entry"
FEED_TYPE = "application/atom+xml;type=feed"
ENTRY_HEADERS = {"Content-Type": ENTRY_TYPE}
# RFC 3339 date-time (upper-case T and Z, as Atom requires).
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def entry_xml(title: str, *, extra: str = "", content: str = "Hello") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<entry xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><content>{content}</content>{extra}</entry>"
    ).encode()


def parse(body: bytes) -> ET.Element:
    return ET.fromstring(body)


def link(element: ET.Element, rel: str) -> str | None:
    for found in element.findall(f"{ATOM}link"):
        if found.get("rel") == rel:
            return found.get("href")
    return None


def text(element: ET.Element, path: str) -> str:
    found = element.find(path)
    assert found is not None, f"{path} missing"
    return found.text or ""
