"""Reading and writing XML so that namespace prefixes survive the round trip.

ElementTree forgets the namespace declarations a document made and, on output, gives
every namespace a prefix of its own (``atom:entry``, ``xhtml:p``).  Here a document
keeps the declarations it came with, as ``xmlns`` and ``xmlns:PREFIX`` entries of the
element that made them, so that QName-valued attributes and text of foreign markup
still resolve; on output the Atom and XHTML namespaces are the default namespace where
they are used, foreign markup written in a default namespace keeps it, and every other
namespace keeps its prefix.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterable

import webob.exc

try:
    import defusedxml
    import defusedxml.ElementTree
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ModuleNotFoundError(
        "examples.atompub needs defusedxml to parse XML safely: pip install defusedxml",
        name="defusedxml",
    ) from error

__all__ = [
    "ATOM",
    "XHTML",
    "inner_html",
    "is_declaration",
    "parse_trusted",
    "parse_untrusted",
    "serialize",
]

ATOM = "http://www.w3.org/2005/Atom"
XHTML = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# The attribute keys holding the source's declarations: "xmlns" (the default namespace)
# and "xmlns:PREFIX", as the source wrote them.
DEFAULT_DECLARATION = "xmlns"
DECLARATION = "xmlns:"
# The namespaces a document writes as the default namespace where they appear.
DEFAULT_NAMESPACES = frozenset({ATOM, XHTML})
PREFERRED_PREFIXES = {"http://www.w3.org/2007/app": "app", XHTML: "xhtml", ATOM: "atom"}
# HTML's void elements (WHATWG HTML 13.1.2): the only XHTML elements written as <x/>;
# a feed reader pasting <span/> into HTML would leave the span open.
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr"}
)


def parse_untrusted(body: bytes) -> ET.Element:
    """A client's document, DTDs refused (no entity bombs, no external entities);
    400 with the reason when it is not well-formed."""
    if not body.strip():
        raise webob.exc.HTTPBadRequest("the request body is empty; send an Atom entry")
    try:
        events = defusedxml.ElementTree.iterparse(
            io.BytesIO(body), events=("start-ns", "start"), forbid_dtd=True
        )
        return _with_declarations(events)
    except defusedxml.DefusedXmlException as error:
        reason = f"the XML is refused: {type(error).__name__} (no DTDs or entities)"
        raise webob.exc.HTTPBadRequest(reason) from None
    except ET.ParseError as error:
        raise webob.exc.HTTPBadRequest(f"the body is not well-formed XML: {error}") from None


def parse_trusted(document: bytes) -> ET.Element:
    """A document this service wrote itself (stored entries)."""
    return _with_declarations(ET.iterparse(io.BytesIO(document), events=("start-ns", "start")))


def _with_declarations(events: Iterable[tuple[str, object]]) -> ET.Element:
    root: ET.Element | None = None
    pending: list[tuple[str, str]] = []
    for event, item in events:
        if event == "start-ns":
            assert isinstance(item, tuple)
            pending.append(item)
            continue
        assert isinstance(item, ET.Element)
        root = item if root is None else root
        for prefix, uri in pending:
            # The default namespace too: foreign markup written in one keeps it, so that
            # its unprefixed QNames still resolve (the writer still puts Atom and XHTML
            # in the default namespace where they appear).
            item.set(DECLARATION + prefix if prefix else DEFAULT_DECLARATION, uri)
        pending = []
    assert root is not None  # a well-formed document has a root element
    return root


def is_declaration(key: str) -> bool:
    """True when ``key`` is not an attribute but one of the source's declarations."""
    return key == DEFAULT_DECLARATION or key.startswith(DECLARATION)


def serialize(root: ET.Element, default_namespaces: Collection[str] = DEFAULT_NAMESPACES) -> bytes:
    """UTF-8 XML with a declaration; the namespaces of ``default_namespaces`` are
    written unprefixed where an element of theirs appears, others keep a prefix."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n']
    _Writer(parts, frozenset(default_namespaces)).element(root, {"xml": XML_NS}, True)
    return "".join(parts).encode("utf-8")


def inner_html(element: ET.Element) -> str:
    """The children of an XHTML element as HTML text (for the sanitizer)."""
    parts = [_escape_text(element.text or "")]
    writer = _Writer(parts, frozenset({XHTML}))
    for child in element:
        writer.element(child, {"": XHTML, "xml": XML_NS}, False)
        parts.append(_escape_text(child.tail or ""))
    return "".join(parts)


class _Writer:
    def __init__(self, parts: list[str], default_namespaces: frozenset[str]) -> None:
        self.parts = parts
        self.default_namespaces = default_namespaces

    def element(
        self, element: ET.Element, scope: dict[str, str], is_root: bool, source_default: str = ""
    ) -> None:
        """Write ``element``; ``source_default`` is the default namespace the source
        document had in force there (its own ``xmlns``, else its parent's)."""
        declared: dict[str, str] = {}
        attributes: list[tuple[str, str]] = []
        for key, value in element.items():
            if not is_declaration(key):
                attributes.append((key, value))
                continue
            prefix = key[len(DECLARATION) :]
            # No default namespace in scope is the same as xmlns="" (no namespace).
            if scope.get(prefix, "" if not prefix else None) != value:
                declared[prefix] = value
        inner = {**scope, **declared}
        namespace, local = _split(element.tag)
        source_default = element.get(DEFAULT_DECLARATION, source_default)
        # An element the source wrote unprefixed stays so, even where the writer made
        # Atom or XHTML the default namespace around it.
        unprefixed = is_root or namespace == source_default
        name = self._element_name(namespace, local, inner, declared, unprefixed)
        attribute_names = [
            (self._attribute_name(key, inner, declared), value) for key, value in attributes
        ]
        head = [name]
        # The default namespace first: the reader sees at once which vocabulary this is.
        ordered = sorted(declared.items(), key=lambda item: item[0] != "")
        head += [_declaration(prefix, uri) for prefix, uri in ordered]
        head += [f'{key}="{_escape_attribute(value)}"' for key, value in attribute_names]
        self.parts.append("<" + " ".join(head))
        if element.text or len(element) or (namespace == XHTML and local not in VOID_ELEMENTS):
            self.parts.append(">" + _escape_text(element.text or ""))
            for child in element:
                self.element(child, inner, False, source_default)
                self.parts.append(_escape_text(child.tail or ""))
            self.parts.append(f"</{name}>")
        else:
            self.parts.append("/>")

    def _element_name(
        self,
        namespace: str,
        local: str,
        scope: dict[str, str],
        declared: dict[str, str],
        unprefixed: bool,
    ) -> str:
        if scope.get("", "") == namespace:
            return local
        if unprefixed or not namespace or namespace in self.default_namespaces:
            declared[""] = scope[""] = namespace
            return local
        return f"{_prefix_for(namespace, scope, declared)}:{local}"

    def _attribute_name(self, key: str, scope: dict[str, str], declared: dict[str, str]) -> str:
        namespace, local = _split(key)
        # Unprefixed attributes are in no namespace, whatever the default namespace is.
        return f"{_prefix_for(namespace, scope, declared)}:{local}" if namespace else local


def _prefix_for(namespace: str, scope: dict[str, str], declared: dict[str, str]) -> str:
    for prefix, uri in reversed(scope.items()):
        if uri == namespace and prefix:
            return prefix
    prefix = PREFERRED_PREFIXES.get(namespace, "ns")
    candidate, number = prefix, 0
    while candidate in scope:
        number += 1
        candidate = f"{prefix}{number}"
    declared[candidate] = scope[candidate] = namespace
    return candidate


def _split(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


def _declaration(prefix: str, uri: str) -> str:
    name = f"xmlns:{prefix}" if prefix else "xmlns"
    return f'{name}="{_escape_attribute(uri)}"'


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(value: str) -> str:
    # Whitespace other than a space would be normalized away by the reader (XML 3.3.3).
    return (
        _escape_text(value)
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )
