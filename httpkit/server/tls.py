"""HTTPS: the server's TLS context, made once from the settings."""

from __future__ import annotations

import ssl
from typing import Any

from httpkit.config import Settings
from httpkit.errors import ConfigError

__all__ = ["client_subject", "make_ssl_context"]

_SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
}


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
    """The verified client certificate's subject as ``CN=...,O=...`` ("" without one)."""
    if ssl_object is None:
        return ""
    certificate = ssl_object.getpeercert()
    if not certificate:
        return ""
    # Typeshed's union for getpeercert() values; "subject" is always RDNs of pairs.
    subject: Any = certificate.get("subject", ())
    parts = []
    for rdn in subject:
        for name, value in rdn:
            parts.append(f"{_SHORT_NAMES.get(name, name)}={value}")
    return ",".join(parts)
