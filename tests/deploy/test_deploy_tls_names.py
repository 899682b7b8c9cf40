"""SSL_CLIENT_S_DN and SSL_CLIENT_I_DN: RFC 4514 strings, as mod_ssl and OpenSSL print them."""

from __future__ import annotations

import http.client
import shutil
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from tls_certs import make_certificate

from httpkit.testing import live_server

OPENSSL = shutil.which("openssl")


def names_app(environ: dict[str, str], start_response: Callable[..., object]) -> list[bytes]:
    body = environ.get("SSL_CLIENT_S_DN", "-") + "\n" + environ.get("SSL_CLIENT_I_DN", "-")
    data = body.encode("utf-8")
    start_response("200 OK", [("Content-Length", str(len(data)))])
    return [data]


def openssl_name(certificate: Path, which: str) -> str:
    """What ``openssl x509 -nameopt RFC2253`` prints, UTF-8 unescaped as mod_ssl does."""
    if OPENSSL is None:
        pytest.skip("the openssl program is not installed")
    printed = subprocess.run(
        [
            OPENSSL,
            "x509",
            "-noout",
            f"-{which}",
            "-nameopt",
            "RFC2253,-esc_msb",
            "-in",
            certificate,
        ],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    return printed.partition("=")[2]  # "subject=CN=..." -> "CN=..."


def attribute(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute:
    return x509.NameAttribute(oid, value)


TRICKY = x509.Name(
    [
        x509.RelativeDistinguishedName([attribute(NameOID.COUNTRY_NAME, "US")]),
        x509.RelativeDistinguishedName([attribute(NameOID.ORGANIZATION_NAME, "Example, Inc.")]),
        x509.RelativeDistinguishedName(
            [
                attribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "R+D"),
                attribute(NameOID.USER_ID, "u1"),
            ]
        ),
        x509.RelativeDistinguishedName([attribute(NameOID.LOCALITY_NAME, '#1 "Main" <St>; ')]),
        x509.RelativeDistinguishedName(
            [attribute(NameOID.STATE_OR_PROVINCE_NAME, " back\\slash")]
        ),
        x509.RelativeDistinguishedName([attribute(NameOID.DOMAIN_COMPONENT, "example")]),
        x509.RelativeDistinguishedName([attribute(NameOID.EMAIL_ADDRESS, "a@example.org")]),
        x509.RelativeDistinguishedName([attribute(NameOID.COMMON_NAME, "Zoë Müller")]),
    ]
)


def https_names(port: int, context: ssl.SSLContext) -> list[str]:
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    try:
        conn.request("GET", "/")
        return conn.getresponse().read().decode("utf-8").split("\n")
    finally:
        conn.close()


@pytest.mark.parametrize(
    "subject",
    [
        TRICKY,
        x509.Name([attribute(NameOID.COMMON_NAME, "alice")]),
        x509.Name([attribute(NameOID.COMMON_NAME, "a\x01b\x7fc=d")]),
    ],
    ids=["escaped-multivalued", "plain", "control-characters"],
)
def test_client_dn_is_what_openssl_prints_in_rfc2253(tmp_path: Path, subject: x509.Name) -> None:
    cert, key = make_certificate(tmp_path, "server")
    client_cert, client_key = make_certificate(tmp_path, "client", server=False, subject=subject)
    expected = openssl_name(client_cert, "subject")
    assert expected == openssl_name(client_cert, "issuer")  # self-signed
    context = ssl.create_default_context(cafile=str(cert))
    context.load_cert_chain(client_cert, client_key)
    with live_server(
        names_app, certfile=str(cert), keyfile=str(key), ca_certs=str(client_cert)
    ) as server:
        subject_dn, issuer_dn = https_names(server.port, context)
    assert subject_dn == expected
    assert issuer_dn == expected


def test_the_comma_in_an_organisation_is_escaped_and_the_order_reversed(tmp_path: Path) -> None:
    # The value mod_ssl documents for such a certificate (without the program).
    cert, key = make_certificate(tmp_path, "server")
    subject = x509.Name(
        [
            attribute(NameOID.COUNTRY_NAME, "US"),
            attribute(NameOID.ORGANIZATION_NAME, "Example, Inc."),
            attribute(NameOID.COMMON_NAME, "alice"),
        ]
    )
    client_cert, client_key = make_certificate(tmp_path, "client", server=False, subject=subject)
    context = ssl.create_default_context(cafile=str(cert))
    context.load_cert_chain(client_cert, client_key)
    with live_server(
        names_app, certfile=str(cert), keyfile=str(key), ca_certs=str(client_cert)
    ) as server:
        subject_dn, _ = https_names(server.port, context)
    assert subject_dn == "CN=alice,O=Example\\, Inc.,C=US"
