"""Precompressed siblings of a static file, chosen by Accept-Encoding (RFC 9110 12.5.3).

A file ``app.js`` may have ``app.js.br`` and ``app.js.gz`` beside it, made at build time
(``brotli -k``, ``gzip -k``).  :func:`choose_encoding` picks the coding the client
accepts with the highest q-value among the siblings that exist (``br`` before ``gzip``
when equal); the file itself (``identity``) when none is acceptable or none exists.
"""

from __future__ import annotations

__all__ = ["SIBLINGS", "choose_encoding"]

# content-coding -> the suffix of the sibling file, in order of preference.
SIBLINGS = (("br", ".br"), ("gzip", ".gz"))
_ALIASES = {"x-gzip": "gzip"}  # RFC 9110 section 8.4.1.3


def choose_encoding(accept_encoding: str | None, available: list[str]) -> str | None:
    """The content-coding to send among ``available`` (None: the file as it is)."""
    if not accept_encoding or not available:
        return None
    weights = _weights(accept_encoding)
    wildcard = weights.get("*", 0.0)
    best: str | None = None
    best_weight = 0.0
    for coding in available:  # in preference order: a tie keeps the earlier one
        weight = weights.get(coding, wildcard)
        if weight > best_weight:
            best, best_weight = coding, weight
    return best


def _weights(header: str) -> dict[str, float]:
    """Each listed coding and its q-value; a malformed q-value counts as 0."""
    weights: dict[str, float] = {}
    for item in header.split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        coding = coding.lower()
        if not coding:
            continue
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                weight = _quality(value.strip())
        weights[_ALIASES.get(coding, coding)] = weight
    return weights


def _quality(text: str) -> float:
    # RFC 9110 section 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    whole, _, fraction = text.partition(".")
    if (
        whole not in ("0", "1")
        or len(fraction) > 3
        or not ((fraction.isascii() and fraction.isdigit()) or not fraction)
    ):
        return 0.0
    value = float(text)
    return value if value <= 1.0 else 0.0
