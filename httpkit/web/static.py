"""Static files on ``webob.static``, with its gaps filled.

WebOb's ``FileApp`` streams a file and, through ``Response.conditional_response``,
answers Range and If-Modified-Since.  It sends no ETag, serves unknown types as
``text/html`` (a script-injection risk for uploaded files) and ``DirectoryApp`` follows
symlinks out of its root.  :class:`StaticFiles` adds the ETag (so If-None-Match gives
304), types unknown files as ``application/octet-stream``, refuses ``..`` and anything
that resolves outside the root, serves an index file for directories and sets
Cache-Control.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable

import webob
import webob.exc
from webob.static import FileIter

from httpkit.web import error_pages
from httpkit.web.guards import decode_path
from httpkit.web.handler import GET_OR_HEAD
from httpkit.wsgitypes import Environ, StartResponse

__all__ = ["StaticFiles"]

_ALLOW = "GET, HEAD, OPTIONS"
_UNKNOWN_TYPE = "application/octet-stream"


class _ClosingFileIter(FileIter):  # type: ignore[misc]
    """WebOb's FileIter closes the file only once iterated to the end; a 304, a HEAD
    or a client that goes away must close it too."""

    def close(self) -> None:
        self.file.close()


class StaticFiles:
    """A WSGI application serving the files below ``directory``.

    :param index: the file served for a directory path ending in '/' (``None``: 404).
        A directory path without the slash is redirected (308) to the slash form, so
        that relative links in the index page work.
    :param cache_control: the ``Cache-Control`` value for every file, e.g.
        ``"public, max-age=3600"`` (``None``: no header).
    """

    def __init__(
        self, directory: str, *, index: str | None = "index.html", cache_control: str | None = None
    ) -> None:
        root = os.path.realpath(directory)
        if not os.path.isdir(root):
            raise ValueError(f"static directory {directory!r} does not exist")
        if index is not None and ("/" in index or index in ("", ".", "..")):
            raise ValueError(f"index must be a plain file name, not {index!r}")
        self.root = root
        self.index = index
        self.cache_control = cache_control

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
        return self._file_response(target)

    def _relative_path(self, raw_path: str) -> list[str]:
        path = decode_path(raw_path)
        segments = [segment for segment in path.split("/") if segment not in ("", ".")]
        for segment in segments:
            # '..' would climb out of the root; NUL and '\\' mean other things to the OS.
            if segment == ".." or "\x00" in segment or "\\" in segment:
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

    def _file_response(self, target: str) -> webob.Response:
        try:
            file = open(target, "rb")  # noqa: SIM115 (the response body closes it)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise webob.exc.HTTPNotFound() from None
        except PermissionError:
            raise webob.exc.HTTPForbidden() from None
        stat = os.fstat(file.fileno())
        content_type, encoding = mimetypes.guess_type(target)
        if content_type is None or encoding is not None:
            # A .gz is sent as stored bytes, not as a compressed text/html.
            content_type = _UNKNOWN_TYPE
        response = webob.Response(
            app_iter=_ClosingFileIter(file),
            content_type=content_type,
            content_length=stat.st_size,
            last_modified=stat.st_mtime,
            conditional_response=True,
        )
        response.accept_ranges = "bytes"
        # mtime and size change with any ordinary edit of the file.
        response.etag = f"{stat.st_mtime_ns:x}-{stat.st_size:x}"
        if self.cache_control is not None:
            response.headers["Cache-Control"] = self.cache_control
        return response
