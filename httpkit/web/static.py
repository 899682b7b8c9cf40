"""Static files: the file, its type and validators, conditional and range requests.

WebOb's ``FileApp`` sends no ETag, serves unknown types as ``text/html`` (a
script-injection risk for uploaded files), answers only the first of several ranges and
``DirectoryApp`` follows symlinks out of its root.  :class:`StaticFiles` sends an ETag
and Last-Modified (so If-None-Match and If-Modified-Since give 304, If-Match 412), types
unknown files as ``application/octet-stream``, refuses ``..``, dotfiles and anything that
resolves outside the root, serves an index file for directories, precompressed
siblings (:mod:`~httpkit.web.static_encoding`), single and multiple ranges
(:mod:`~httpkit.web.static_ranges`) and sets Cache-Control.

The body goes out through ``wsgi.file_wrapper`` when the server offers one, so that
httpkit's server (and others) send it with ``sendfile``.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable, Iterator
from stat import S_ISREG
from typing import IO

import webob
import webob.exc

from httpkit.web import error_pages
from httpkit.web.conditional import Validators, evaluate_preconditions
from httpkit.web.guards import decode_path
from httpkit.web.handler import GET_OR_HEAD
from httpkit.web.static_encoding import SIBLINGS, choose_encoding
from httpkit.web.static_ranges import MultipartBody, content_range, plan_ranges
from httpkit.wsgitypes import Environ, StartResponse

__all__ = ["StaticFiles"]

_ALLOW = "GET, HEAD, OPTIONS"
_UNKNOWN_TYPE = "application/octet-stream"
_BLOCK = 65536


class _FileSpan:
    """``length`` bytes of an open file from its current position, in blocks, for a
    server without ``wsgi.file_wrapper``; ``close()`` closes the file (also after a
    304, a HEAD or a client that went away)."""

    def __init__(self, file: IO[bytes], length: int) -> None:
        self.file = file
        self.left = length

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self.left <= 0:
            raise StopIteration
        block = self.file.read(min(_BLOCK, self.left))
        if not block:
            raise StopIteration
        self.left -= len(block)
        return block

    def close(self) -> None:
        self.file.close()


class StaticFiles:
    """A WSGI application serving the files below ``directory``.

    :param index: the file served for a directory path ending in '/' (``None``: 404).
        A directory path without the slash is redirected (308) to the slash form, so
        that relative links in the index page work.
    :param cache_control: the ``Cache-Control`` value for every file, e.g.
        ``"public, max-age=3600"`` (``None``: no header).
    :param dotfiles: serve paths with a segment starting with ``.`` (``.env``,
        ``.git/config``, ``.well-known/...``); by default they are 404.
    :param precompressed: serve ``NAME.br`` or ``NAME.gz`` beside ``NAME`` to clients
        that accept that coding.
    """

    def __init__(
        self,
        directory: str,
        *,
        index: str | None = "index.html",
        cache_control: str | None = None,
        dotfiles: bool = False,
        precompressed: bool = True,
    ) -> None:
        root = os.path.realpath(directory)
        if not os.path.isdir(root):
            raise ValueError(f"static directory {directory!r} does not exist")
        if index is not None and ("/" in index or index in ("", ".", "..")):
            raise ValueError(f"index must be a plain file name, not {index!r}")
        self.root = root
        self.index = index
        self.cache_control = cache_control
        self.dotfiles = dotfiles
        self.precompressed = precompressed

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        request = webob.Request(environ)
        try:
            response = self.respond(request)
        except webob.exc.HTTPException as exc:
            response = error_pages.error_reply(exc, request)
        return response(environ, start_response)  # type: ignore[no-any-return]

    def respond(self, request: webob.Request) -> webob.Response:
        """The response for ``request``; errors (404, 403, 405, 308 to a directory's
        slash form) are raised as ``webob.exc`` exceptions.  A :class:`Router` calls
        this, so that its error handlers and error pages answer them."""
        if request.method not in GET_OR_HEAD:
            if request.method == "OPTIONS":
                return webob.Response(status=204, headerlist=[("Allow", _ALLOW)])
            raise webob.exc.HTTPMethodNotAllowed(headers=[("Allow", _ALLOW)])
        relative = self._relative_path(request.environ.get("PATH_INFO", ""))
        target = os.path.realpath(os.path.join(self.root, *relative))
        # realpath resolved every symlink: what lies outside the root is not ours.
        if target != self.root and not target.startswith(self.root + os.sep):
            raise webob.exc.HTTPNotFound()
        if os.path.isdir(target):
            target = self._directory_index(request, target)
        return self._file_response(request, target)

    def _relative_path(self, raw_path: str) -> list[str]:
        path = decode_path(raw_path)
        segments = [segment for segment in path.split("/") if segment not in ("", ".")]
        for segment in segments:
            # '..' would climb out of the root; NUL and '\\' mean other things to the OS.
            if segment == ".." or "\x00" in segment or "\\" in segment:
                raise webob.exc.HTTPNotFound()
            # .env, .git/, .htpasswd: deployment secrets, not content (unless asked).
            if segment.startswith(".") and not self.dotfiles:
                raise webob.exc.HTTPNotFound()
        return segments

    def _directory_index(self, request: webob.Request, directory: str) -> str:
        if not request.path_info.endswith("/"):
            location = request.path_url + "/"
            if request.query_string:
                location += "?" + request.query_string
            raise webob.exc.HTTPPermanentRedirect(location=location)
        if self.index is None:
            raise webob.exc.HTTPNotFound()
        return os.path.join(directory, self.index)

    def _file_response(self, request: webob.Request, target: str) -> webob.Response:
        file = _open(target)
        try:
            siblings = self._siblings(target)
            coding = choose_encoding(
                request.environ.get("HTTP_ACCEPT_ENCODING"), [name for name, _ in siblings]
            )
            if coding is not None:
                sibling = _open_checked(*dict(siblings)[coding])
                if sibling is None:
                    coding = None  # replaced since it was checked: send the plain file
                else:
                    file.close()
                    file = sibling
            return self._representation(request, target, file, coding, bool(siblings))
        except BaseException:
            file.close()
            raise

    def _siblings(self, target: str) -> list[tuple[str, tuple[str, os.stat_result]]]:
        """The precompressed files beside ``target``, in preference order: each coding
        with the sibling's real path and its stat.  A sibling is kept only if it is a
        regular file inside the root: a symlink ``a.txt.gz -> /etc/passwd`` must not
        be served as ``a.txt``."""
        if not self.precompressed:
            return []
        found: list[tuple[str, tuple[str, os.stat_result]]] = []
        for coding, suffix in SIBLINGS:
            real = os.path.realpath(target + suffix)
            if not real.startswith(self.root + os.sep):
                continue
            try:
                stat = os.stat(real)
            except OSError:
                continue
            if S_ISREG(stat.st_mode):
                found.append((coding, (real, stat)))
        return found

    def _representation(
        self,
        request: webob.Request,
        target: str,
        file: IO[bytes],
        coding: str | None,
        varies: bool,
    ) -> webob.Response:
        stat = os.fstat(file.fileno())
        # mtime and size change with any ordinary edit; each coding is its own variant.
        tag = f"{stat.st_mtime_ns:x}-{stat.st_size:x}" + (f"-{coding}" if coding else "")
        validators = Validators(f'"{tag}"', stat.st_mtime)
        # The choice of file, so any answer, depends on Accept-Encoding (RFC 9110 12.5.5).
        vary = [("Vary", "Accept-Encoding")] if varies else []
        # What the 200 and the 304 both say (RFC 9110 section 15.4.5); an error says
        # only Vary: a cache must not keep a 412 or 416 in the file's place.
        headers = validators.headers() + vary
        if self.cache_control is not None:
            headers.append(("Cache-Control", self.cache_control))
        failed = evaluate_preconditions(request.environ, request.method, validators)
        if failed is not None:
            file.close()
            if failed == 304:
                return webob.Response(status=304, headerlist=headers)
            raise webob.exc.HTTPPreconditionFailed(headers=vary)
        headers.append(("Accept-Ranges", "bytes"))
        if coding is not None:
            headers.append(("Content-Encoding", coding))
        content_type = _content_type(target)
        return _body_response(
            request,
            file,
            stat.st_size,
            content_type=content_type,
            validators=validators,
            headers=headers,
            error_headers=vary,
        )


def _open(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise webob.exc.HTTPNotFound() from None
    except PermissionError:
        raise webob.exc.HTTPForbidden() from None


def _open_checked(path: str, checked: os.stat_result) -> IO[bytes] | None:
    """``path`` opened, if it is still the file ``checked`` described (same device and
    inode): a file swapped for a symlink between the check and the open is not read."""
    try:
        file = open(path, "rb")  # noqa: SIM115 - returned open, the response closes it
    except OSError:
        return None
    opened = os.fstat(file.fileno())
    if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
        file.close()
        return None
    return file


def _content_type(target: str) -> str:
    content_type, encoding = mimetypes.guess_type(target)
    if content_type is None or encoding is not None:
        # A .gz asked for by name is sent as stored bytes, not as a compressed text/html.
        return _UNKNOWN_TYPE
    if content_type.startswith("text/") or content_type == "application/javascript":
        return content_type + "; charset=UTF-8"
    return content_type


def _body_response(
    request: webob.Request,
    file: IO[bytes],
    size: int,
    *,
    content_type: str,
    validators: Validators,
    headers: list[tuple[str, str]],
    error_headers: list[tuple[str, str]],
) -> webob.Response:
    """200, 206 (one range or multipart/byteranges) or 416, with the file as body."""
    plan = plan_ranges(_range_header(request, validators), size)
    if plan.unsatisfiable:
        file.close()
        # Content-Range (RFC 9110 section 15.5.17), not the file's Content-Encoding or
        # Cache-Control: the error page is not the file.
        raise webob.exc.HTTPRequestRangeNotSatisfiable(
            headers=[*error_headers, ("Content-Range", f"bytes */{size}")]
        )
    body: Iterable[bytes]
    if len(plan.spans) > 1:
        multipart = MultipartBody(file, plan.spans, size, content_type)
        status, length, body = 206, multipart.length, multipart
        content_type = f"multipart/byteranges; boundary={multipart.boundary}"
    else:
        status, start, length = 200, 0, size
        if plan.spans:
            (start, last), status = plan.spans[0], 206
            length = last - start + 1
            headers.append(("Content-Range", content_range(plan.spans[0], size)))
            file.seek(start)
        body = _file_body(request.environ, file, length)
    headers += [("Content-Type", content_type), ("Content-Length", str(length))]
    return webob.Response(status=status, headerlist=headers, app_iter=body)


def _range_header(request: webob.Request, validators: Validators) -> str | None:
    """Range, unless If-Range names another version (RFC 9110 section 13.1.5)."""
    if request.method != "GET":
        return None
    header: str | None = request.environ.get("HTTP_RANGE")
    if_range = request.environ.get("HTTP_IF_RANGE")
    if header is None or if_range is None:
        return header
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        # A strong comparison: a weak tag never matches.
        return header if if_range == validators.etag else None
    return header if if_range == validators.last_modified else None


def _file_body(environ: Environ, file: IO[bytes], length: int) -> Iterable[bytes]:
    """The server's file wrapper (sendfile) when it has one, else blocks."""
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is not None and length == os.fstat(file.fileno()).st_size - file.tell():
        return wrapper(file, _BLOCK)  # type: ignore[no-any-return]
    return _FileSpan(file, length)
