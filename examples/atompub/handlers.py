"""The HTTP side of the service: one handler class per kind of resource.

Every handler method runs exactly one store transaction, so an error at any point
leaves nothing half-written.  The router answers conditional requests from each
class's ``etag()``; writes check ``If-Match`` again inside their transaction, because
another request may have changed the member between that check and the write.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import ClassVar

import webob
import webob.exc

from examples.atompub.atom import ENTRY_TYPE, FEED_TYPE, Category, parse_entry, title_text
from examples.atompub.checks import (
    check_preconditions,
    existing,
    page_number,
    read_body,
    read_media_body,
    require_entry_type,
    require_media_type,
)
from examples.atompub.documents import (
    CollectionInfo,
    FeedPage,
    entry_document,
    member_entry,
    render_categories,
    render_feed,
    render_service,
)
from examples.atompub.links import refuse_script_addresses
from examples.atompub.members import (
    build_member,
    new_entry_id,
    new_media_entry,
    pick_slug,
    refresh_media_summary,
    slug_title,
    stored_entry,
)
from examples.atompub.pages import HTML_TAG_SUFFIX, collection_page, entry_view, page, wants_html
from examples.atompub.sanitize import sanitize_entry
from examples.atompub.store import (
    CollectionState,
    Member,
    Store,
    StoreUnavailable,
    Transaction,
    entity_tag,
)
from httpkit.web import HTML, Handler, Request

__all__ = [
    "AtomPubHandler",
    "Categories",
    "Collection",
    "Home",
    "MediaResource",
    "MemberEntry",
    "store_unavailable",
]

SERVICE_TYPE = "application/atomsvc+xml"
CATEGORIES_TYPE = "application/atomcat+xml"
_READS = frozenset({"GET", "HEAD"})
MARKUP_MEDIA_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True)
class AtomService:
    """What the handlers share: the store and how the service describes itself."""

    store: Store
    page_size: int
    title: str
    author: str
    collections: dict[str, CollectionInfo]
    fixed_scheme: str
    fixed_terms: tuple[Category, ...]
    open_scheme: str
    open_terms: tuple[Category, ...]
    sanitize: bool = True  # clean published HTML and XHTML (examples.atompub.sanitize)


class AtomPubHandler(Handler):
    """Base of the service's handlers; ``make_app`` binds ``service`` in a subclass."""

    service: ClassVar[AtomService]
    _collection_urls: dict[str, str] | None = None  # per instance, i.e. per request

    def member_urls(self, request: Request, member: Member) -> tuple[str, str | None]:
        """The member's edit URL and, for a media member, its edit-media URL."""
        # A feed links every member: build the collection's URL once per request and
        # append the slug, as the routes /{collection}/{slug}[/content] do (slugs are
        # [a-z0-9-], nothing to escape).  Route generation per member cost a third of
        # the feed's time.
        if self._collection_urls is None:
            self._collection_urls = {}
        base = self._collection_urls.get(member.collection)
        if base is None:
            base = request.url_for("collection", collection=member.collection, _qualified=True)
            self._collection_urls[member.collection] = base
        edit = f"{base}/{member.slug}"
        return edit, (None if member.media_type is None else f"{edit}/content")

    def parse_body_entry(self, request: Request, collection: str) -> ET.Element:
        """The request's Atom entry, checked against the service's fixed categories;
        unless the service was made with ``sanitize=False``, its HTML and XHTML cleaned
        and a ``javascript:``, ``vbscript:`` or ``data:`` address refused (400)."""
        require_entry_type(request)
        service = self.service
        entry = parse_entry(
            read_body(request),
            service.fixed_scheme,
            (c.term for c in service.fixed_terms),
            # The server writes a Media Link Entry's content itself.
            needs_content=not service.collections[collection].media,
        )
        if service.sanitize:
            refuse_script_addresses(entry)  # a 400 naming the link
            sanitize_entry(entry)
        return entry

    def entry_response(self, request: Request, member: Member, status: int) -> webob.Response:
        edit_url, media_url = self.member_urls(request, member)
        body = entry_document(member_entry(member, edit_url, media_url))
        response = webob.Response(
            status=status, body=body, headerlist=[("Content-Type", ENTRY_TYPE)]
        )
        response.headers["ETag"] = f'"{member.etag}"'
        # The member URI also has an HTML page (said here for PUT and POST answers too).
        response.vary = ("Accept",)
        return response


class Home(AtomPubHandler):
    """``/``: an HTML page linking the service document and each collection."""

    vary = ("Accept",)  # as every page of the service says

    def get(self, request: Request) -> HTML:
        with self.service.store.read() as transaction:
            sizes = {name: transaction.collection(name).size for name in self.service.collections}
        collections = [
            {
                "title": info.title,
                "url": request.url_for("collection", collection=name),
                "size": sizes[name],
            }
            for name, info in self.service.collections.items()
        ]
        service_link = f'<{request.url_for("service")}>; rel="service"'
        return page(request, "home.html", headers={"Link": service_link}, collections=collections)


class ServiceDocument(AtomPubHandler):
    """``/service``: the workspace and its two collections (RFC 5023 section 8)."""

    def get(self, request: Request) -> webob.Response:
        service = self.service
        collections = [
            (info, request.url_for("collection", collection=name, _qualified=True))
            for name, info in service.collections.items()
        ]
        body = render_service(
            service.title,
            collections,
            (service.fixed_scheme, service.fixed_terms),
            request.url_for("categories", _qualified=True),
        )
        return _document(body, SERVICE_TYPE)


class Categories(AtomPubHandler):
    """``/categories``: the out-of-line category document of the entry collection."""

    def get(self, request: Request) -> webob.Response:
        body = render_categories(self.service.open_scheme, self.service.open_terms)
        return _document(body, CATEGORIES_TYPE)


class Collection(AtomPubHandler):
    """``/{collection}``: the paged feed (GET) and member creation (POST)."""

    # The feed and its HTML page: the router says so on each, and on their 304s.
    vary = ("Accept",)

    _snapshot: tuple[CollectionState, list[Member]] | None = None

    def etag(self, request: Request, collection: str) -> str:
        number = page_number(request)
        if request.method in _READS:
            # Read the page now, in the same transaction as the ETag: the body then
            # matches the ETag sent with it, and a GET costs one read, not two.
            self._snapshot = self._read_page(collection, number)
            revision = self._snapshot[0].revision
        else:
            with self.service.store.read() as transaction:
                revision = transaction.collection(collection).revision
        suffix = HTML_TAG_SUFFIX if wants_html(request) else ""
        return f"{collection}-r{revision}-p{number}{suffix}"

    def _read_page(self, collection: str, number: int) -> tuple[CollectionState, list[Member]]:
        size = self.service.page_size
        with self.service.store.read() as transaction:
            state = transaction.collection(collection)
            return state, transaction.page(collection, (number - 1) * size, size)

    def get(self, request: Request, collection: str) -> webob.Response | HTML:
        number = page_number(request)
        size = self.service.page_size
        state, members = self._snapshot or self._read_page(collection, number)
        last_number = max(1, -(-state.size // size))
        if number > last_number:
            raise webob.exc.HTTPNotFound(f"the feed has {last_number} page(s), not {number}")
        base = request.url_for("collection", collection=collection, _qualified=True)
        feed = FeedPage(state, members, number, last_number, lambda n: _page_url(base, n))
        info = self.service.collections[collection]
        if wants_html(request):
            return self._html_page(request, feed, info.title)
        body = render_feed(
            feed, info.title, self.service.author, lambda m: self.member_urls(request, m)
        )
        return _document(body, FEED_TYPE)

    def _html_page(self, request: Request, feed: FeedPage, title: str) -> HTML:
        entries = [entry_view(m, *self.member_urls(request, m)) for m in feed.members]
        return collection_page(request, feed, title, entries)

    def post(self, request: Request, collection: str) -> webob.Response:
        info = self.service.collections[collection]
        if info.media:
            member = self._create_media(request, collection)
        else:
            member = self._create_entry(request, collection)
        response = self.entry_response(request, member, 201)
        edit_url, _ = self.member_urls(request, member)
        # RFC 5023 section 9.2: Location is the member URI; Content-Location says the
        # body is that member's representation.
        response.headers["Location"] = edit_url
        response.headers["Content-Location"] = edit_url
        return response

    def _create_entry(self, request: Request, collection: str) -> Member:
        entry = self.parse_body_entry(request, collection)
        with self.service.store.write() as transaction:
            slug = _free_slug(transaction, collection, request, title_text(entry))
            member = build_member(
                entry,
                collection=collection,
                slug=slug,
                entry_id=new_entry_id(),
                author=self.service.author,
            )
            transaction.save(member)
        return member

    def _create_media(self, request: Request, collection: str) -> Member:
        media_type = require_media_type(request, self.service.collections[collection])
        data = read_media_body(request)
        slug_hint = request.headers.get("Slug")
        title = slug_title(slug_hint) or "Untitled media"
        with self.service.store.write() as transaction:
            slug = _free_slug(transaction, collection, request, title)
            media_etag = entity_tag(data)
            member = build_member(
                new_media_entry(title, media_type, len(data)),
                collection=collection,
                slug=slug,
                entry_id=new_entry_id(),
                author=self.service.author,
                media_type=media_type,
                media_etag=media_etag,
            )
            transaction.save(member, data)
        return member


class MemberEntry(AtomPubHandler):
    """``/{collection}/{slug}``: a member entry -- GET, PUT (edit), DELETE."""

    vary = ("Accept",)  # the entry and its HTML page (and their 304s)

    _read: Member | None = None

    def etag(self, request: Request, collection: str, slug: str) -> str | None:
        with self.service.store.read() as transaction:
            member = transaction.member(collection, slug)
        # Kept for get(): the entry sent is the one the ETag describes.
        self._read = member
        if member is None:
            return None
        return member.etag + (HTML_TAG_SUFFIX if wants_html(request) else "")

    def get(self, request: Request, collection: str, slug: str) -> webob.Response | HTML:
        member = self._read
        if member is None:
            with self.service.store.read() as transaction:
                member = existing(transaction.member(collection, slug))
        if wants_html(request):
            return page(
                request,
                "entry.html",
                entry=entry_view(member, *self.member_urls(request, member)),
                collection_title=self.service.collections[collection].title,
                collection_url=request.url_for("collection", collection=collection),
            )
        return self.entry_response(request, member, 200)

    def put(self, request: Request, collection: str, slug: str) -> webob.Response:
        entry = self.parse_body_entry(request, collection)
        service = self.service
        with service.store.write() as transaction:
            current = existing(transaction.member(collection, slug))
            check_preconditions(request, current.etag)
            member = build_member(
                entry,
                collection=collection,
                slug=slug,
                entry_id=current.entry_id,  # the id is permanent (RFC 4287 4.2.6)
                author=service.author,
                media_type=current.media_type,
                media_etag=current.media_etag,
            )
            transaction.save(member)
        return self.entry_response(request, member, 200)

    def delete(self, request: Request, collection: str, slug: str) -> None:
        # Deleting a Media Link Entry deletes its media resource too (RFC 5023 9.4).
        with self.service.store.write() as transaction:
            current = existing(transaction.member(collection, slug))
            check_preconditions(request, current.etag)
            transaction.delete(collection, slug)


class MediaResource(AtomPubHandler):
    """``/media/{slug}/content``: the media resource -- GET, PUT (replace), DELETE."""

    collection = "media"

    def etag(self, request: Request, slug: str) -> str | None:
        with self.service.store.read() as transaction:
            member = transaction.member(self.collection, slug)
        return None if member is None else member.media_etag

    def get(self, request: Request, slug: str) -> webob.Response:
        with self.service.store.read() as transaction:
            media = existing(transaction.media(self.collection, slug))
        media_type, data, _ = media
        headers = [("Content-Type", media_type), ("X-Content-Type-Options", "nosniff")]
        if _is_markup(media_type):
            # An SVG opened from the page would run its scripts in the service's origin:
            # a sandboxed document with no script is only a picture (CSP 3, "sandbox").
            headers.append(("Content-Security-Policy", MARKUP_MEDIA_POLICY))
        return webob.Response(body=data, headerlist=headers)

    def put(self, request: Request, slug: str) -> None:
        info = self.service.collections[self.collection]
        media_type = require_media_type(request, info)
        data = read_media_body(request)
        with self.service.store.write() as transaction:
            current = existing(transaction.member(self.collection, slug))
            check_preconditions(request, current.media_etag)
            entry = stored_entry(current)
            refresh_media_summary(entry, media_type, len(data))
            member = build_member(
                entry,
                collection=self.collection,
                slug=slug,
                entry_id=current.entry_id,
                author=self.service.author,
                media_type=media_type,
                media_etag=entity_tag(data),
            )
            transaction.save(member, data)

    def delete(self, request: Request, slug: str) -> None:
        with self.service.store.write() as transaction:
            current = existing(transaction.member(self.collection, slug))
            check_preconditions(request, current.media_etag)
            transaction.delete(self.collection, slug)


def store_unavailable(request: Request, error: StoreUnavailable) -> None:
    """The error handler for an unreachable database: a 503 with Retry-After."""
    raise webob.exc.HTTPServiceUnavailable(
        str(error), headers=[("Retry-After", str(error.retry_after))]
    )


def _document(body: bytes, media_type: str) -> webob.Response:
    return webob.Response(body=body, headerlist=[("Content-Type", media_type)])


def _is_markup(media_type: str) -> bool:
    kind = media_type.split(";", 1)[0].strip().lower()
    return kind.endswith(("+xml", "/xml")) or kind in ("text/html", "application/xhtml+xml")


def _page_url(base: str, number: int) -> str:
    return base if number == 1 else f"{base}?page={number}"


def _free_slug(transaction: Transaction, collection: str, request: Request, title: str) -> str:
    return pick_slug(
        request.headers.get("Slug"), title, lambda slug: transaction.slug_taken(collection, slug)
    )
