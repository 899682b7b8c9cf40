"""HTTPS: the server's TLS context, made once from the settings, and the client's names."""

from __future__ import annotations

import ssl
from typing import Any

from httpkit.config import Settings
from httpkit.errors import ConfigError

__all__ = ["client_issuer", "client_subject", "format_dn", "make_ssl_context"]

# OpenSSL's short names for the attribute types Python names by their long names, as
# ``openssl x509 -nameopt RFC2253`` and mod_ssl print them (an unknown type keeps the
# name Python gives it: its long name or dotted OID).
_SHORT_NAMES = {
    "commonName": "CN",
    "surname": "SN",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
    "streetAddress": "street",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "givenName": "GN",
    "domainComponent": "DC",
    "userId": "UID",
    "uniqueIdentifier": "uid",
    "jurisdictionCountryName": "jurisdictionC",
    "jurisdictionStateOrProvinceName": "jurisdictionST",
    "jurisdictionLocalityName": "jurisdictionL",
}
_SPECIAL = frozenset(',+"\\<>;')  # RFC 4514 2.4: escaped anywhere in a value


def make_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The context for ``certfile``/``keyfile``/``ca_certs``; None when serving plain HTTP."""
    if settings.certfile is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # RFC 8996: TLS 1.0 and 1.1 are gone
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_cert_chain(settings.certfile, settings.keyfile)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"certfile: cannot load the certificate: {error}") from None
    if settings.ca_certs is not None:
        try:
            context.load_verify_locations(cafile=settings.ca_certs)
        except (OSError, ssl.SSLError) as error:
            raise ConfigError(f"ca_certs: cannot load: {error}") from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_subject(ssl_object: ssl.SSLObject | None) -> str:
    """The verified client certificate's subject DN in RFC 4514 form ("" without one)."""
    return _peer_name(ssl_object, "subject")


def client_issuer(ssl_object: ssl.SSLObject | None) -> str:
    """The verified client certificate's issuer DN in RFC 4514 form ("" without one)."""
    return _peer_name(ssl_object, "issuer")


def _peer_name(ssl_object: ssl.SSLObject | None, which: str) -> str:
    if ssl_object is None:
        return ""
    certificate = ssl_object.getpeercert()
    if not certificate:
        return ""
    # Typeshed's union for getpeercert() values; "subject" and "issuer" are RDNs of pairs.
    name: Any = certificate.get(which, ())
    return format_dn(name)


def format_dn(rdns: tuple[tuple[tuple[str, str], ...], ...]) -> str:
    """A name as ``getpeercert()`` gives it (RDNs in certificate order) in RFC 4514 form.

    RFC 4514 2.1: the RDNs in reverse order, separated by commas; the attributes of a
    multi-valued RDN joined with "+".  Like OpenSSL's RFC 2253 printing (which mod_ssl
    uses for ``SSL_CLIENT_S_DN``) every attribute is reversed, a multi-valued RDN's too.
    """
    parts: list[str] = []
    for rdn in reversed(rdns):
        attributes = [
            f"{_SHORT_NAMES.get(kind, kind)}={escape_dn_value(value)}"
            for kind, value in reversed(rdn)
        ]
        parts.append("+".join(attributes))
    return ",".join(parts)


def escape_dn_value(value: str) -> str:
    """RFC 4514 2.4: a backslash before ``,+"\\<>;``, a leading "#" or space and a
    trailing space; control characters as ``\\XX`` (UTF-8 stays as it is, as in mod_ssl)."""
    escaped = []
    last = len(value) - 1
    for index, char in enumerate(value):
        if char in _SPECIAL or (index == 0 and char in "# ") or (index == last and char == " "):
            escaped.append("\\" + char)
        elif char < " " or char == "\x7f":
            escaped.append(f"\\{ord(char):02X}")
        else:
            escaped.append(char)
    return "".join(escaped)
