"""A corpus of request-smuggling and desync tricks, each with the one outcome RFC 9112 allows.

Every row is a byte stream and what a peer must see: the complete messages as
(method, target, body), then ``"closed"`` (a clean end at EOF) or the status the rest was
refused with.  A trick passes only if httpkit frames the stream exactly as the RFC says
or refuses it; a different framing (a body too long or too short, a smuggled request
that appears, or one that vanishes) fails the row.  Each row is also fed one byte at a
time: how the stream is cut into reads must never change the outcome.

Sources: RFC 9112 11.2 and 6.3; "HTTP Desync Attacks" (Kettle, 2019) and its TE
obfuscations; advisories and issues of gunicorn (CVE-2024-1135, TE stripping of
``\\x0b\\x0c\\x85\\xa0``), waitress, aiohttp/llhttp (``\\rx`` in a value, CVE-2023-30589),
Go net/http and Kestrel (bare LF in a chunk line or extension, CVE-2025-22871 and
CVE-2025-55315), pekko-http (``5 0`` read as 0x50), Traffic Server and uhttpd (``0x1``,
``0_0``, ``1garbage`` chunk sizes), h2c/CONNECT tunnelling.
"""

from __future__ import annotations

import pytest
from h1_helpers import Outcome, outcome

from httpkit.h1 import Limits

HOST = b"Host: h\r\n"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
HELLO_CHUNKED = b"5\r\nhello\r\n0\r\n\r\n"
GOT_SMUGGLED = ("GET", "/smuggled", b"")
ET_SMUGGLED = ("ET", "/smuggled", b"")
LOGET_SMUGGLED = ("loGET", "/smuggled", b"")


def post(*fields: bytes, body: bytes = b"", line: bytes = b"POST / HTTP/1.1") -> bytes:
    """A request from its field lines (each without CRLF) and the bytes after the head."""
    return line + b"\r\n" + b"".join(field + b"\r\n" for field in fields) + b"\r\n" + body


def te(value: bytes, body: bytes = HELLO_CHUNKED) -> bytes:
    """A POST whose Transfer-Encoding field line is ``value`` (name and all)."""
    return post(b"Host: h", value, body=body + SMUGGLED)


def chunked(body: bytes) -> bytes:
    return post(b"Host: h", b"Transfer-Encoding: chunked", body=body + SMUGGLED)


def length(value: bytes, body: bytes = b"hello") -> bytes:
    return post(b"Host: h", b"Content-Length: " + value, body=body + SMUGGLED)


def get(line: bytes, *fields: bytes) -> bytes:
    return post(*fields, line=line)


POSTED = ("POST", "/", b"hello")
ACCEPTED: Outcome = [POSTED, GOT_SMUGGLED, "closed"]  # framed as the RFC says

TRANSFER_ENCODING = [
    ("te-plain", te(b"Transfer-Encoding: chunked"), ACCEPTED),
    ("te-no-space", te(b"Transfer-Encoding:chunked"), ACCEPTED),
    ("te-leading-ows", te(b"Transfer-Encoding:  \t chunked"), ACCEPTED),
    ("te-trailing-ows", te(b"Transfer-Encoding: chunked \t "), ACCEPTED),
    # RFC 9112 7: coding names are case-insensitive.
    ("te-upper", te(b"Transfer-Encoding: CHUNKED"), ACCEPTED),
    ("te-mixed-case", te(b"transfer-ENCODING: cHuNkEd"), ACCEPTED),
    # RFC 9110 5.6.1: empty list members are ignored.
    ("te-empty-members", te(b"Transfer-Encoding: , chunked ,"), ACCEPTED),
    ("te-xchunked", te(b"Transfer-Encoding: xchunked"), [400]),
    ("te-chunkedx", te(b"Transfer-Encoding: chunkedx"), [400]),
    ("te-quoted", te(b'Transfer-Encoding: "chunked"'), [400]),
    ("te-with-param", te(b"Transfer-Encoding: chunked;q=1"), [400]),
    ("te-with-bws-param", te(b"Transfer-Encoding: chunked ; x"), [400]),
    ("te-space-in-name", te(b"Transfer Encoding: chunked"), [400]),
    ("te-space-before-colon", te(b"Transfer-Encoding : chunked"), [400]),
    ("te-tab-before-colon", te(b"Transfer-Encoding\t: chunked"), [400]),
    ("te-vt-before-value", te(b"Transfer-Encoding: \x0bchunked"), [400]),
    ("te-ff-after-value", te(b"Transfer-Encoding: chunked\x0c"), [400]),
    ("te-nul-before-value", te(b"Transfer-Encoding: \x00chunked"), [400]),
    ("te-nul-in-name", te(b"Transfer-Encoding\x00: chunked"), [400]),
    # gunicorn stripped these with str.strip(): \x1c-\x1f, NEL (\x85), NBSP (\xa0).
    ("te-gunicorn-strip", te(b"Transfer-Encoding: \x1c\x1dchunked\x1e\x1f"), [400]),
    ("te-nel-nbsp", te(b"Transfer-Encoding: \x85\xa0chunked\x85\xa0"), [400]),
    ("te-cr-before-value", te(b"Transfer-Encoding: \rchunked"), [400]),
    # llhttp (CVE-2023-30589): a bare CR made the rest of a value a new field.
    ("te-after-bare-cr", te(b"X-Abc: \rxTransfer-Encoding: chunked"), [400]),
    ("te-obs-fold", te(b"Transfer-Encoding:\r\n chunked"), [400]),
    ("te-folded-under-other", te(b"X-A: b\r\n\tTransfer-Encoding: chunked"), [400]),
    ("te-leading-space-line", te(b" Transfer-Encoding: chunked"), [400]),
    ("te-twice", te(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"), [400]),
    ("te-chunked-chunked", te(b"Transfer-Encoding: chunked, chunked"), [400]),
    ("te-identity", te(b"Transfer-Encoding: identity"), [400]),
    ("te-chunked-then-identity", te(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x"), [400]),
    ("te-chunked-not-last", te(b"Transfer-Encoding: chunked, gzip"), [400]),
    # RFC 9112 6.1: a coding the server does not decode gets 501.
    ("te-identity-chunked", te(b"Transfer-Encoding: identity, chunked"), [501]),
    ("te-gzip-then-chunked", te(b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked"), [501]),
    ("te-empty", te(b"Transfer-Encoding:"), [400]),
    ("te-only-commas", te(b"Transfer-Encoding: , ,"), [400]),
    # An underscore spells another field: no framing, so the chunk lines are a new request.
    ("te-underscore", te(b"Transfer_Encoding: chunked"), [("POST", "/", b""), 400]),
    # RFC 9112 6.1: TE in HTTP/1.0 means faulty framing.
    (
        "te-in-http-1-0",
        post(b"Transfer-Encoding: chunked", body=HELLO_CHUNKED, line=b"POST / HTTP/1.0"),
        [400],
    ),
    # RFC 9112 6.1 / 11.2: CL.TE and TE.CL, in both orders.
    ("cl-te", te(b"Content-Length: 4\r\nTransfer-Encoding: chunked"), [400]),
    ("te-cl", te(b"Transfer-Encoding: chunked\r\nContent-Length: 4"), [400]),
    ("te-cl-zero", te(b"Content-Length: 0\r\nTransfer-Encoding: chunked"), [400]),
    ("te-bad-cl", te(b"Transfer-Encoding: chunked\r\nContent-Length: x"), [400]),
]

CONTENT_LENGTH = [
    ("cl-plain", length(b"5"), ACCEPTED),
    ("cl-ows", length(b"\t 5 \t"), ACCEPTED),
    ("cl-leading-zeros", length(b"0005"), ACCEPTED),
    ("cl-many-leading-zeros", length(b"0" * 40 + b"5"), ACCEPTED),
    ("cl-equal-list", length(b"5, 5"), ACCEPTED),
    ("cl-equal-list-no-space", length(b"5,5"), ACCEPTED),
    (
        "cl-equal-repeated",
        post(b"Host: h", b"Content-Length: 5", b"content-length: 5", body=b"hello" + SMUGGLED),
        ACCEPTED,
    ),
    (
        "cl-differing-repeated",
        post(b"Host: h", b"Content-Length: 5", b"Content-Length: 6", body=b"hello!"),
        [400],
    ),
    ("cl-differing-list", length(b"5, 6"), [400]),
    ("cl-list-empty-member", length(b"5,"), [400]),
    ("cl-plus", length(b"+5"), [400]),
    ("cl-minus", length(b"-5"), [400]),
    ("cl-hex", length(b"0x5"), [400]),
    ("cl-decimal-point", length(b"5.0"), [400]),
    ("cl-underscore", length(b"5_0"), [400]),
    ("cl-exponent", length(b"5e0"), [400]),
    ("cl-two-numbers", length(b"5 5"), [400]),
    ("cl-empty", length(b""), [400]),
    ("cl-superscript", length(b"\xb2"), [400]),  # "²".isdigit() is True
    ("cl-arabic-indic-utf8", length("\u0665".encode()), [400]),
    ("cl-vt", length(b"5\x0b"), [400]),
    ("cl-nul", length(b"5\x00"), [400]),
    ("cl-huge", length(b"9" * 40), [413]),
    ("cl-over-max-body", length(b"2000"), [413]),  # the corpus runs with max_body=1000
    # A length that does not match the data moves where the next request starts; what
    # follows is read from exactly there ("ET" and "loGET" are valid method tokens).
    ("cl-longer-than-data", length(b"6"), [("POST", "/", b"helloG"), ET_SMUGGLED, "closed"]),
    ("cl-shorter-than-data", length(b"3"), [("POST", "/", b"hel"), LOGET_SMUGGLED, "closed"]),
    # RFC 9112 6.3: a GET with Content-Length has a body (ignoring it would desync).
    ("cl-on-get", get(b"GET / HTTP/1.1", b"Host: h", b"Content-Length: 5") + b"hello", None),
    ("cl-space-before-colon", length(b"5").replace(b"Length:", b"Length :"), [400]),
    ("cl-folded", length(b"\r\n 5"), [400]),
]

CHUNKS = [
    ("chunk-plain", chunked(HELLO_CHUNKED), ACCEPTED),
    ("chunk-leading-zeros", chunked(b"005\r\nhello\r\n000\r\n\r\n"), ACCEPTED),
    ("chunk-hex-case", chunked(b"A\r\nhellohello\r\na\r\nhellohello\r\n0\r\n\r\n"), None),
    ("chunk-ext", chunked(b"5;a=b;c\r\nhello\r\n0;z\r\n\r\n"), ACCEPTED),
    # RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )
    ("chunk-ext-bws", chunked(b"5 ; a = b\r\nhello\r\n0\r\n\r\n"), ACCEPTED),
    ("chunk-ext-quoted", chunked(b'5;a="x \\" ;y"\r\nhello\r\n0\r\n\r\n'), ACCEPTED),
    ("chunk-0x", chunked(b"0x5\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-plus", chunked(b"+5\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-minus", chunked(b"-5\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-leading-space", chunked(b" 5\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-leading-tab", chunked(b"\t5\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-trailing-space", chunked(b"5 \r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-inner-space", chunked(b"5 0\r\n" + b"x" * 80 + b"\r\n0\r\n\r\n"), [400]),
    ("chunk-underscore", chunked(b"0_0\r\n\r\n"), [400]),
    ("chunk-cr-before", chunked(b"\r0\r\n\r\n"), [400]),
    ("chunk-garbage-after-size", chunked(b"5these-bytes\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-not-hex", chunked(b"g\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-empty-size", chunked(b"\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-ext-empty", chunked(b"5;\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-ext-no-name", chunked(b"5;=x\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-ext-unterminated-quote", chunked(b'5;a="x\r\nhello\r\n0\r\n\r\n'), [400]),
    ("chunk-ext-quoted-crlf", chunked(b'5;a="\r\n"\r\nhello\r\n0\r\n\r\n'), [400]),
    # TERM.EXT (Kestrel, fasthttp): a bare LF inside an extension ends the line for some.
    ("chunk-ext-bare-lf", chunked(b"2;\nxx\r\n5\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-ext-bare-cr", chunked(b"5;a\rb\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-size-bare-lf", chunked(b"5\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-size-cr-cr-lf", chunked(b"5\r\r\nhello\r\n0\r\n\r\n"), [400]),
    ("chunk-17-digits", chunked(b"1" + b"0" * 16 + b"\r\nx\r\n0\r\n\r\n"), [400]),
    ("chunk-2-pow-64-minus-1", chunked(b"F" * 16 + b"\r\nx"), [413]),
    ("chunk-over-max-body", chunked(b"3E9\r\n" + b"x" * 10), [413]),
    ("chunk-ext-too-long", chunked(b"5;a=" + b"b" * 200 + b"\r\nhello\r\n0\r\n\r\n"), [400]),
    # Data of the wrong length, or not followed by exactly CRLF (RFC 9112 7.1).
    ("chunk-data-then-lf", chunked(b"5\r\nhello\n0\r\n\r\n"), [400]),
    ("chunk-data-then-cr", chunked(b"5\r\nhello\r0\r\n\r\n"), [400]),
    ("chunk-data-no-crlf", chunked(b"5\r\nhello0\r\n\r\n"), [400]),
    ("chunk-data-longer", chunked(b"5\r\nhelloX\r\n0\r\n\r\n"), [400]),
    ("chunk-data-shorter", chunked(b"5\r\nhell\r\n0\r\n\r\n"), [400]),
    ("chunk-last-missing-crlf", chunked(b"5\r\nhello\r\n0\r\n"), [400]),
    ("chunk-last-bare-lf", chunked(b"5\r\nhello\r\n0\r\n\n"), [400]),
    # Trailers must not carry framing or routing fields (RFC 9110 6.5.1).
    ("trailer-ok", chunked(b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"), ACCEPTED),
    ("trailer-cl", chunked(b"5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n"), [400]),
    ("trailer-te", chunked(b"5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n"), [400]),
    ("trailer-host", chunked(b"5\r\nhello\r\n0\r\nHost: evil\r\n\r\n"), [400]),
    ("trailer-trailer", chunked(b"5\r\nhello\r\n0\r\nTrailer: X\r\n\r\n"), [400]),
    ("trailer-bare-cr", chunked(b"5\r\nhello\r\n0\r\nX: a\rb\r\n\r\n"), [400]),
    ("trailer-bare-lf", chunked(b"5\r\nhello\r\n0\r\nX: a\n\r\n"), [400]),
    ("trailer-folded", chunked(b"5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n"), [400]),
    ("trailer-no-colon", chunked(b"5\r\nhello\r\n0\r\nX-A\r\n\r\n"), [400]),
]

HEAD = [
    ("head-bare-lf-everywhere", b"GET / HTTP/1.1\nHost: h\n\n", [400]),
    ("head-bare-lf-in-field", b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", [400]),
    ("head-bare-lf-last-line", b"GET / HTTP/1.1\r\nHost: h\r\n\n", [400]),
    ("head-bare-cr-line-end", b"GET / HTTP/1.1\rHost: h\r\n\r\n", [400]),
    ("head-bare-cr-in-value", get(b"GET / HTTP/1.1", b"Host: h", b"X: a\rb"), [400]),
    ("head-cr-cr-lf", get(b"GET / HTTP/1.1", b"Host: h", b"X: a\r"), [400]),
    ("head-nul-in-target", get(b"GET /\x00 HTTP/1.1", b"Host: h"), [400]),
    ("head-nul-in-method", get(b"G\x00ET / HTTP/1.1", b"Host: h"), [400]),
    ("head-nul-in-value", get(b"GET / HTTP/1.1", b"Host: h\x00"), [400]),
    ("head-nul-line", get(b"GET / HTTP/1.1", b"Host: h", b"\x00"), [400]),
    ("head-del-in-value", get(b"GET / HTTP/1.1", b"Host: h", b"X: a\x7f"), [400]),
    ("head-esc-in-value", get(b"GET / HTTP/1.1", b"Host: h", b"X: \x1b[2J"), [400]),
    ("name-space", get(b"GET / HTTP/1.1", b"Host: h", b"X Y: z"), [400]),
    ("name-empty", get(b"GET / HTTP/1.1", b"Host: h", b": z"), [400]),
    ("name-del", get(b"GET / HTTP/1.1", b"Host: h", b"X\x7f: z"), [400]),
    ("name-obs-text", get(b"GET / HTTP/1.1", b"Host: h", b"X\xe9: z"), [400]),
    ("name-separator", get(b"GET / HTTP/1.1", b"Host: h", b"X(y): z"), [400]),
    ("name-at", get(b"GET / HTTP/1.1", b"Host: h", b"X@: z"), [400]),
    ("name-no-colon", get(b"GET / HTTP/1.1", b"Host: h", b"X-A"), [400]),
    ("name-only-colon", get(b"GET / HTTP/1.1", b"Host: h", b":"), [400]),
]

REQUEST_LINE = [
    ("line-http-0-9", b"GET /\r\n\r\n", [400]),
    ("line-http-0-9-bare-lf", b"GET /\nHost: h\r\nContent-Length: 5\r\n\r\nhello", [400]),
    ("line-lowercase-version", get(b"GET / http/1.1", b"Host: h"), [400]),
    ("line-double-space", get(b"GET  / HTTP/1.1", b"Host: h"), [400]),
    ("line-double-space-before-version", get(b"GET /  HTTP/1.1", b"Host: h"), [400]),
    ("line-tabs", get(b"GET\t/\tHTTP/1.1", b"Host: h"), [400]),
    ("line-trailing-space", get(b"GET / HTTP/1.1 ", b"Host: h"), [400]),
    ("line-leading-space", get(b" GET / HTTP/1.1", b"Host: h"), [400]),
    ("line-vt-separator", get(b"GET\x0b/ HTTP/1.1", b"Host: h"), [400]),
    ("line-multi-digit-version", get(b"GET / HTTP/1.10", b"Host: h"), [400]),
    ("line-leading-zero-version", get(b"GET / HTTP/01.1", b"Host: h"), [400]),
    ("line-http-2", get(b"GET / HTTP/2.0", b"Host: h"), [505]),
    ("line-http-0-9-version", get(b"GET / HTTP/0.9", b"Host: h"), [505]),
    ("line-fragment", get(b"GET /a#b HTTP/1.1", b"Host: h"), [400]),
    ("line-space-in-target", get(b"GET /a b HTTP/1.1", b"Host: h"), [400]),
    ("line-obs-text-target", get(b"GET /\xe9 HTTP/1.1", b"Host: h"), [400]),
    ("line-method-separator", get(b"GE(T / HTTP/1.1", b"Host: h"), [400]),
    ("line-one-empty-line-first", b"\r\n" + get(b"GET / HTTP/1.1", b"Host: h"), None),
    ("line-two-empty-lines-first", b"\r\n\r\n" + get(b"GET / HTTP/1.1", b"Host: h"), [400]),
    ("line-lf-first", b"\n" + get(b"GET / HTTP/1.1", b"Host: h"), [400]),
    # RFC 9110 4.2.4: userinfo in an http(s) target is an error.
    ("absolute-userinfo", get(b"GET http://a@h/ HTTP/1.1", b"Host: h"), [400]),
    ("absolute-userinfo-port", get(b"GET http://a:b@h:80/ HTTP/1.1", b"Host: h:80"), [400]),
    # RFC 9110 4.2.1: an http URI with an empty host is invalid.
    ("absolute-empty-host", get(b"GET http:///x HTTP/1.1", b"Host: h"), [400]),
    ("absolute-port-only", get(b"GET http://:80/x HTTP/1.1", b"Host: :80"), [400]),
    # RFC 9112 3.2: Host must be identical to the target's authority.
    ("absolute-other-host", get(b"GET http://evil/x HTTP/1.1", b"Host: h"), [400]),
    ("absolute-other-port", get(b"GET http://h:81/x HTTP/1.1", b"Host: h"), [400]),
    ("absolute-empty-host-field", get(b"GET http://h/x HTTP/1.1", b"Host:"), [400]),
    ("absolute-not-http", get(b"GET ftp://h/x HTTP/1.1", b"Host: h"), [400]),
    ("absolute-brackets-in-path", get(b"GET http://h/[x] HTTP/1.1", b"Host: h"), [400]),
]

HOST_FIELD = [
    ("host-missing", get(b"GET / HTTP/1.1"), [400]),
    ("host-twice-same", get(b"GET / HTTP/1.1", b"Host: h", b"host: h"), [400]),
    ("host-twice-different", get(b"GET / HTTP/1.1", b"Host: h", b"Host: evil"), [400]),
    ("host-twice-http-1-0", get(b"GET / HTTP/1.0", b"Host: h", b"Host: evil"), [400]),
    ("host-list", get(b"GET / HTTP/1.1", b"Host: h, evil"), [400]),
    ("host-userinfo", get(b"GET / HTTP/1.1", b"Host: a@h"), [400]),
    ("host-path", get(b"GET / HTTP/1.1", b"Host: h/x"), [400]),
    ("host-open-bracket", get(b"GET / HTTP/1.1", b"Host: [::1"), [400]),
    ("host-tab-inside", get(b"GET / HTTP/1.1", b"Host: h\tx"), [400]),
    ("host-obs-text", get(b"GET / HTTP/1.1", b"Host: h\xe9"), [400]),
]

SINGLETONS = [
    # RFC 9110 5.3: a field that is not a list must not be repeated.  Two parsers (or a
    # proxy and an application) that take the first and the last value of a repeated
    # Authorization or Content-Type act on different requests; refused, even identical.
    (
        "singleton-content-type-differing",
        length(b"5").replace(HOST, HOST + b"Content-Type: text/plain\r\nContent-Type: a/b\r\n"),
        [400],
    ),
    (
        "singleton-content-type-identical",
        length(b"5").replace(HOST, HOST + b"Content-Type: a/b\r\ncontent-type: a/b\r\n"),
        [400],
    ),
    (
        "singleton-authorization-apart",
        get(b"GET / HTTP/1.1", b"Authorization: Basic YTpi", b"Host: h", b"AUTHORIZATION: x"),
        [400],
    ),
    (
        "singleton-range-twice",
        get(b"GET / HTTP/1.1", b"Host: h", b"Range: bytes=0-1", b"Range: bytes=5-9"),
        [400],
    ),
    (
        "singleton-if-modified-since-twice",
        get(
            b"GET / HTTP/1.1",
            b"Host: h",
            b"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT",
            b"If-Modified-Since: Mon, 07 Nov 1994 08:49:37 GMT",
        ),
        [400],
    ),
    (
        "singleton-in-trailers",
        chunked(b"0\r\nDate: a\r\nDate: b\r\n\r\n"),
        [400],
    ),
    # A list field may repeat (its lines join with commas); so may Cookie (RFC 9113 8.2.3).
    (
        "list-field-twice",
        length(b"5").replace(HOST, HOST + b"Accept: a\r\nAccept: b\r\n"),
        ACCEPTED,
    ),
    (
        "cookie-twice",
        length(b"5").replace(HOST, HOST + b"Cookie: a=1\r\nCookie: b=2\r\n"),
        ACCEPTED,
    ),
]

PIPELINES = [
    # RFC 9112 9.6: nothing after a request with "Connection: close" is read.
    (
        "pipeline-after-close",
        get(b"GET /a HTTP/1.1", b"Host: h", b"Connection: close") + SMUGGLED,
        [("GET", "/a", b""), "closed"],
    ),
    (
        "pipeline-after-close-with-body",
        post(b"Host: h", b"Connection: close", b"Content-Length: 5", body=b"hello" + SMUGGLED),
        [POSTED, "closed"],
    ),
    (
        "pipeline-after-http-1-0",
        get(b"GET /a HTTP/1.0") + SMUGGLED,
        [("GET", "/a", b""), "closed"],
    ),
    (
        "pipeline-after-http-1-0-keep-alive",
        get(b"GET /a HTTP/1.0", b"Connection: keep-alive") + SMUGGLED,
        [("GET", "/a", b""), GOT_SMUGGLED, "closed"],
    ),
    # httpkit never tunnels: the bytes after a CONNECT (or any Upgrade a front end
    # believes happened) are not requests of this connection.
    (
        "pipeline-after-connect",
        get(b"CONNECT h:443 HTTP/1.1", b"Host: h:443") + SMUGGLED,
        [("CONNECT", "h:443", b""), "closed"],
    ),
    (
        "pipeline-after-error",
        get(b"GET / HTTP/1.1") + SMUGGLED,  # no Host: refused, and nothing after it
        [400],
    ),
    (
        "pipeline-stray-crlf-after-body",  # RFC 9112 2.2: one empty line is ignored
        post(b"Host: h", b"Content-Length: 5", body=b"hello\r\n" + SMUGGLED),
        ACCEPTED,
    ),
]

EXPECT = [
    ("expect-continue", length(b"5").replace(HOST, HOST + b"Expect: 100-continue\r\n"), ACCEPTED),
    ("expect-upper", length(b"5").replace(HOST, HOST + b"Expect: 100-CONTINUE\r\n"), ACCEPTED),
    ("expect-other", length(b"5").replace(HOST, HOST + b"Expect: 100-continuex\r\n"), [417]),
    ("expect-param", length(b"5").replace(HOST, HOST + b"Expect: 100-continue;a\r\n"), [417]),
    ("expect-vt", length(b"5").replace(HOST, HOST + b"Expect: 100-continue\x0b\r\n"), [400]),
]

# A small max_body so that the 413 rows need only a few bytes.
LIMITS = Limits(max_body=1000, max_chunk_extension=100)
ROWS = TRANSFER_ENCODING + CONTENT_LENGTH + CHUNKS + HEAD + REQUEST_LINE + HOST_FIELD
ROWS += SINGLETONS + PIPELINES + EXPECT

# Rows marked None are accepted; their expected messages are written out here.
ACCEPTED_AS = {
    "cl-on-get": [("GET", "/", b"hello"), "closed"],
    "chunk-hex-case": [("POST", "/", b"hello" * 4), GOT_SMUGGLED, "closed"],
    "line-one-empty-line-first": [("GET", "/", b""), "closed"],
}


@pytest.mark.parametrize(
    ("wire", "expected"),
    [pytest.param(wire, expected or ACCEPTED_AS[name], id=name) for name, wire, expected in ROWS],
)
def test_a_smuggling_trick_is_framed_as_the_rfc_says_or_refused(
    wire: bytes, expected: Outcome
) -> None:
    assert outcome(wire, LIMITS) == expected
    # How the stream is cut into reads never changes where a message ends.
    assert outcome([wire[i : i + 1] for i in range(len(wire))], LIMITS) == expected


def test_the_corpus_names_are_unique() -> None:
    names = [name for name, _, _ in ROWS]
    assert len(names) == len(set(names))
