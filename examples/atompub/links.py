"""The addresses a client writes into an entry, and which of them a page may link.

An entry carries IRIs of the client's choosing: ``atom:link/@href``, ``atom:content/@src``,
``atom:uri`` of a person, ``atom:icon``, ``atom:logo``, ``atom:generator/@uri`` and
``xml:base``.  A browser runs a ``javascript:`` (or ``vbscript:``) address when the link
is followed, and a ``data:`` address is a whole document of the client's.  So:

* with sanitizing on, an entry that uses one of those schemes anywhere is refused with a
  400 naming the element (:func:`refuse_script_addresses`): silently dropping a link could
  leave an entry without its only ``rel="alternate"`` link, i.e. invalid Atom;
* the HTML pages make an address a live ``href`` only for a few web schemes, or a
  relative reference (:func:`is_web_address`), whatever the store holds; any other is
  shown as text.

Browsers find the scheme after removing tabs and newlines anywhere and control
characters and spaces at both ends (WHATWG URL, "basic URL parser"), so
``" java&#9;script:"`` is ``javascript:``: both checks read the scheme the same way.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import webob.exc

from examples.atompub.xmlio import ATOM

__all__ = ["SCRIPT_SCHEMES", "WEB_SCHEMES", "is_web_address", "refuse_script_addresses"]

SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "data"})
WEB_SCHEMES = frozenset({"http", "https", "mailto", "ftp"})
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

# RFC 3986 section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_C0_OR_SPACE = "".join(map(chr, range(0x21)))
# Where an entry (or its atom:source) holds an address: (element, attribute or None).
_ADDRESSES = (
    ("link", "href"),
    ("content", "src"),
    ("generator", "uri"),
    ("uri", None),
    ("icon", None),
    ("logo", None),
)


def scheme_of(address: str) -> str | None:
    """The scheme a browser reads in ``address``, lower-cased; None for a relative one."""
    cleaned = _TAB_OR_NEWLINE.sub("", address).strip(_C0_OR_SPACE)
    found = _SCHEME.match(cleaned)
    return found.group(1).lower() if found else None


def is_web_address(address: str) -> bool:
    """True when a page may make ``address`` a live link: a relative reference, or an
    absolute one of a scheme in :data:`WEB_SCHEMES`."""
    scheme = scheme_of(address)
    return scheme is None or scheme in WEB_SCHEMES


def refuse_script_addresses(entry: ET.Element) -> None:
    """400 naming the first address of ``entry`` whose scheme is in :data:`SCRIPT_SCHEMES`."""
    for element in entry.iter():
        base = element.get(XML_BASE)
        if base is not None and scheme_of(base) in SCRIPT_SCHEMES:
            raise _refused(f"the xml:base of {_name(element.tag)}", base)
    for name, attribute in _ADDRESSES:
        for element in entry.iter(f"{{{ATOM}}}{name}"):
            address = element.get(attribute) if attribute else "".join(element.itertext())
            if address is not None and scheme_of(address) in SCRIPT_SCHEMES:
                where = f"atom:{name}" + (f" {attribute}" if attribute else "")
                if name == "link":
                    where += f' (rel="{element.get("rel", "alternate")}")'
                raise _refused(where, address)


def _refused(where: str, address: str) -> webob.exc.HTTPBadRequest:
    shown = address if len(address) <= 60 else address[:57] + "..."
    scheme = scheme_of(address)
    return webob.exc.HTTPBadRequest(
        f"{where} is {shown!r}: this service refuses {scheme}: addresses, which a browser "
        "would run or open as a page of the client's"
    )


def _name(tag: str) -> str:
    namespace, _, local = tag.rpartition("}")
    return f"atom:{local}" if namespace == "{" + ATOM else local
