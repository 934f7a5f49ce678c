"""Reading rules: preview pages of a record, link resolvers, saved lists and their sharing.

Preview pages are public; only staff of a member library that holds the record (or portal
admins) change them. A link resolver belongs to one member library and its admins. A saved
list belongs to its owner alone: anyone else asking for it by id gets "not found", and a
shared list is reached only through its random token, read-only.
"""
import re
import secrets
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, lazyload

from jala import clock
from jala.accounts.models import ROLE_PORTAL_ADMIN, Library, User
from jala.audit import record_audit
from jala.catalog.models import Record
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import StoredFile, signed_view_url, store_upload
from jala.membership import get_library, is_member, member_library_ids
from jala.permissions import can_manage_library, can_staff_library
from jala.reading.models import PREVIEW_KINDS, LinkResolver, PreviewPage, SavedList, SavedListItem
from jala.reading.openurl import resolver_url
from jala.settings import declare, get_setting

declare("reading.preview_max_mb", 10, 1, 50, _l("Maximum size of a preview file"), "MB")
declare("reading.preview_pages_per_record", 40, 1, 500, _l("Preview pages per record"),
        _l("pages"))
declare("reading.lists_per_user", 20, 1, 500, _l("Saved lists per user"), _l("lists"))
declare("reading.items_per_list", 500, 10, 10000, _l("Records per saved list"), _l("records"))

PREVIEW_URL_SECONDS = 3600  # how long a preview image URL works once the page is shown
IMAGE_KINDS = ("png", "jpeg", "webp")
SHARE_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
LIST_NAME_MAX = 200


def kind_label(kind):
    """A preview kind in the user's language."""
    return {"cover": _("Cover"), "front": _("Front matter"), "toc": _("Contents"),
            "sample": _("Sample pages")}.get(kind, kind)


# --- preview pages -------------------------------------------------------------------------

def preview_library_id(user, record):
    """The library ``user`` may change ``record``'s previews for, or None.

    Staff of a member library that holds the record act for that library; a portal admin
    acts for any record (for the library of their admin role, else the first holder).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    members = member_library_ids()
    for library_id in sorted(set(record.library_ids or [])):
        if library_id in members and can_staff_library(user, library_id):
            return library_id
    if user.is_portal_admin:
        grants = sorted(g.library_id for g in user.grants
                        if g.role == ROLE_PORTAL_ADMIN and g.library_id is not None)
        holders = sorted(record.library_ids or [])
        return (grants or holders or [None])[0]
    return None


def can_manage_previews(user, record):
    """Whether ``user`` may upload, reorder and delete ``record``'s preview pages."""
    return preview_library_id(user, record) is not None


def require_preview_manager(user, record):
    """Raise unless ``user`` may change ``record``'s preview pages; returns their library id."""
    library_id = preview_library_id(user, record)
    if library_id is None:
        raise NotAllowed(_("Only staff of a member library that holds this record can change "
                           "its preview pages."))
    return library_id


def _lock_record(user, record_id):
    """Lock the record (serialises changes to its previews) after checking who may change them."""
    record = db.session.execute(
        select(Record).where(Record.id == record_id).with_for_update(key_share=True)
    ).scalar_one_or_none()
    if record is None:
        raise NotFound(_("No such record."))
    return record, require_preview_manager(user, record)


def _live_pages_query(record_id):
    return (select(PreviewPage).join(StoredFile, StoredFile.id == PreviewPage.file_id)
            .where(PreviewPage.record_id == record_id, StoredFile.deleted_at.is_(None),
                   db.or_(StoredFile.delete_after.is_(None),
                          StoredFile.delete_after > clock.now())))


def preview_pages(record_id):
    """The record's preview pages in reading order: cover, front matter, contents, samples."""
    pages = db.session.execute(
        _live_pages_query(record_id).options(contains_eager(PreviewPage.file))
    ).scalars().all()
    return sorted(pages, key=lambda p: (PREVIEW_KINDS.index(p.kind), p.position, p.id))


def is_pdf(page):
    """Whether the preview page is a PDF (opened by a link) rather than an image (shown)."""
    return page.file.content_type == "application/pdf"


def _renumber(record_id, kind):
    pages = db.session.execute(
        select(PreviewPage).where(PreviewPage.record_id == record_id, PreviewPage.kind == kind)
        .order_by(PreviewPage.position, PreviewPage.id)
    ).scalars().all()
    for number, page in enumerate(pages, start=1):
        page.position = number
    return pages


def _retire_file(page):
    """The file goes with its page (the file sweeper deletes it from disk)."""
    page.file.delete_after = clock.now()


def upload_preview(user, record_id, *, kind, upload, caption=None):
    """Add one preview page (an image, or a PDF except for the cover), checked by content."""
    if kind not in PREVIEW_KINDS:
        raise RuleViolation(_("Choose what the file shows: cover, front matter, contents or "
                              "sample pages."))
    record, library_id = _lock_record(user, record_id)
    existing = db.session.execute(
        select(func.count()).select_from(_live_pages_query(record.id).subquery())
    ).scalar_one()
    limit = get_setting("reading.preview_pages_per_record")
    replaced = db.session.execute(
        _live_pages_query(record.id).where(PreviewPage.kind == "cover")
    ).scalars().all() if kind == "cover" else []
    if existing - len(replaced) >= limit:
        raise RuleViolation(_("A record can have at most %(n)d preview pages. Delete some "
                              "first.", n=limit))
    allowed = IMAGE_KINDS if kind == "cover" else IMAGE_KINDS + ("pdf",)
    try:
        stored = store_upload(upload.stream, upload.filename or f"{kind}",
                              allowed_kinds=allowed,
                              max_bytes=get_setting("reading.preview_max_mb") * 1024 * 1024,
                              owner=user)
    except RuleViolation as exc:
        if kind == "cover":
            raise RuleViolation(_("The cover must be an image (PNG, JPEG or WebP): %(why)s",
                                  why=exc.message)) from exc
        raise
    for old in replaced:  # one cover per record: a new one replaces the old
        _retire_file(old)
        db.session.delete(old)
    position = db.session.execute(
        select(func.coalesce(func.max(PreviewPage.position), 0)).where(
            PreviewPage.record_id == record.id, PreviewPage.kind == kind)
    ).scalar_one() + 1
    page = PreviewPage(record_id=record.id, kind=kind, position=position, file_id=stored.id,
                       caption=(caption or "").strip()[:200] or None, library_id=library_id,
                       uploaded_by_id=user.id, created_at=clock.now())
    page.file = stored
    db.session.add(page)
    db.session.flush()
    record_audit(user, "reading.preview_upload", "preview_page", page.id, library_id=library_id,
                 details={"record_id": record.id, "kind": kind, "file": stored.original_name,
                          "replaced": [p.id for p in replaced]})
    return page


def get_preview_page(record_id, page_id):
    """A page of the record's preview (one of another record is 'not found')."""
    page = db.session.get(PreviewPage, page_id)
    if page is None or page.record_id != record_id:
        raise NotFound(_("No such preview page."))
    return page


def move_preview(user, record_id, page_id, direction):
    """Move a page one place earlier (``up``) or later (``down``) among pages of its kind."""
    if direction not in ("up", "down"):
        raise RuleViolation(_("Move a page up or down."))
    record, library_id = _lock_record(user, record_id)
    page = get_preview_page(record.id, page_id)
    siblings = _renumber(record.id, page.kind)
    index = siblings.index(page)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(siblings):
        neighbour = siblings[other]
        page.position, neighbour.position = neighbour.position, page.position
        db.session.flush()
        record_audit(user, "reading.preview_move", "preview_page", page.id,
                     library_id=library_id,
                     details={"record_id": record.id, "direction": direction,
                              "position": page.position})
    return page


def delete_preview(user, record_id, page_id):
    """Take a page out of the record's preview (its file is deleted by the sweeper)."""
    record, library_id = _lock_record(user, record_id)
    page = get_preview_page(record.id, page_id)
    kind = page.kind
    _retire_file(page)
    db.session.delete(page)
    db.session.flush()
    _renumber(record.id, kind)
    record_audit(user, "reading.preview_delete", "preview_page", page_id, library_id=library_id,
                 details={"record_id": record.id, "kind": kind,
                          "file": page.file.original_name})


def preview_view_url(page):
    """A short-lived signed URL showing the page's file inline."""
    return signed_view_url(page.file, PREVIEW_URL_SECONDS)


def cover_urls(records):
    """``{record id: cover image URL}`` for a page of search results (one query)."""
    ids = [r.id for r in records]
    if not ids:
        return {}
    rows = db.session.execute(
        select(PreviewPage.record_id, StoredFile)
        .join(StoredFile, StoredFile.id == PreviewPage.file_id)
        .where(PreviewPage.record_id.in_(ids), PreviewPage.kind == "cover",
               StoredFile.deleted_at.is_(None),
               db.or_(StoredFile.delete_after.is_(None), StoredFile.delete_after > clock.now()))
        .order_by(PreviewPage.record_id, PreviewPage.position.desc())
    ).all()
    return {record_id: signed_view_url(stored, PREVIEW_URL_SECONDS)
            for record_id, stored in rows}


# --- link resolvers --------------------------------------------------------------------------

def _check_resolver_url(url):
    url = (url or "").strip()
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment
            or len(url) > 500 or any(ch.isspace() for ch in url)):
        raise RuleViolation(_("Give the resolver's full base address, starting with https:// "
                              "(for example https://sfx.example.edu.cn/sfx_local)."))
    return url


def _managed_library(actor, code):
    library = get_library(code)
    if not can_manage_library(actor, library.id):
        raise NotAllowed(_("Only this library's admins can change its link resolver."))
    return library


def link_resolver_of(actor, code):
    """``(library, its LinkResolver or None)`` for the library's admins."""
    library = _managed_library(actor, code)
    resolver = db.session.execute(
        select(LinkResolver).where(LinkResolver.library_id == library.id)
    ).scalar_one_or_none()
    return library, resolver


def save_link_resolver(actor, code, base_url, label=None):
    """Set the library's OpenURL resolver (its base address and the link's words)."""
    library = _managed_library(actor, code)
    if not is_member(library):
        raise RuleViolation(_("%(code)s has left the alliance: its readers no longer get "
                              "alliance services.", code=library.code))
    base_url = _check_resolver_url(base_url)
    label = (label or "").strip()[:100] or None
    # the library row is the lock: two admins saving at once take turns
    db.session.execute(select(Library.id).where(Library.id == library.id)
                       .with_for_update(key_share=True))
    resolver = db.session.execute(
        select(LinkResolver).where(LinkResolver.library_id == library.id)
    ).scalar_one_or_none()
    before = {"base_url": resolver.base_url, "label": resolver.label} if resolver else None
    if resolver is None:
        resolver = LinkResolver(library_id=library.id)
        db.session.add(resolver)
    resolver.base_url, resolver.label = base_url, label
    resolver.updated_by_id, resolver.updated_at = actor.id, clock.now()
    db.session.flush()
    record_audit(actor, "reading.link_resolver_save", "link_resolver", resolver.id,
                 library_id=library.id,
                 details={"from": before, "to": {"base_url": base_url, "label": label}})
    return resolver


def delete_link_resolver(actor, code):
    """Remove the library's resolver (its readers then see only the record's own links)."""
    library = _managed_library(actor, code)
    resolver = db.session.execute(
        select(LinkResolver).where(LinkResolver.library_id == library.id).with_for_update()
    ).scalar_one_or_none()
    if resolver is None:
        return None
    record_audit(actor, "reading.link_resolver_delete", "link_resolver", resolver.id,
                 library_id=library.id,
                 details={"base_url": resolver.base_url, "label": resolver.label})
    db.session.delete(resolver)
    db.session.flush()
    return library


def resolver_links(user, record):
    """``[(library, label, url)]``: a link through each member library's resolver.

    The reader's home library comes first; the rest follow in join order.
    """
    today = clock.local_today()
    resolvers = db.session.execute(
        select(LinkResolver).join(Library, Library.id == LinkResolver.library_id)
        .options(contains_eager(LinkResolver.library))
        .order_by(Library.joined_on, Library.id)
    ).scalars().all()
    home = getattr(user, "home_library_id", None) if getattr(
        user, "is_authenticated", False) else None
    links = [(r.library, r.label, resolver_url(r.base_url, record)) for r in resolvers
             if is_member(r.library, today)]
    return sorted(links, key=lambda link: link[0].id != home)


# --- saved lists ---------------------------------------------------------------------------

def _clean_name(name):
    name = " ".join((name or "").split())[:LIST_NAME_MAX]
    if not name:
        raise RuleViolation(_("Give the list a name."))
    return name


def my_lists(user):
    """The user's lists, oldest (the default one) first (their items are not loaded)."""
    return db.session.execute(
        select(SavedList).where(SavedList.owner_id == user.id).order_by(SavedList.id)
        .options(lazyload(SavedList.items))
    ).scalars().all()


def list_sizes(user):
    """``{list id: number of records}`` for the user's lists."""
    return dict(db.session.execute(
        select(SavedListItem.list_id, func.count())
        .join(SavedList, SavedList.id == SavedListItem.list_id)
        .where(SavedList.owner_id == user.id).group_by(SavedListItem.list_id)
    ).all())


def get_own_list(user, list_id, lock=False):
    """A list its owner asks for; anyone else's is 'not found', never 'forbidden'."""
    query = select(SavedList).where(SavedList.id == list_id).options(lazyload(SavedList.items))
    if lock:
        query = query.with_for_update()
    saved = db.session.execute(query).scalar_one_or_none()
    if saved is None or saved.owner_id != user.id:
        raise NotFound(_("No such list."))
    return saved


def _lock_owner(user):
    """Lock the user's row: their list-making takes turns (no two default lists)."""
    db.session.execute(select(User.id).where(User.id == user.id)
                       .with_for_update(key_share=True))


def create_list(user, name):
    """Start a new, private list."""
    name = _clean_name(name)
    _lock_owner(user)
    limit = get_setting("reading.lists_per_user")
    if len(my_lists(user)) >= limit:
        raise RuleViolation(_("You can keep at most %(n)d lists. Delete one first.", n=limit))
    saved = SavedList(owner_id=user.id, name=name, created_at=clock.now())
    db.session.add(saved)
    db.session.flush()
    return saved


def rename_list(user, list_id, name):
    """Give a list a new name."""
    saved = get_own_list(user, list_id, lock=True)
    saved.name = _clean_name(name)
    db.session.flush()
    return saved


def delete_list(user, list_id):
    """Delete a list and what is in it (a shared link stops working)."""
    saved = get_own_list(user, list_id, lock=True)
    db.session.delete(saved)
    db.session.flush()


def default_list(user):
    """The user's first list, made ("My list") on their first save."""
    _lock_owner(user)
    lists = my_lists(user)
    if lists:
        return lists[0]
    saved = SavedList(owner_id=user.id, name=_("My list"), created_at=clock.now())
    db.session.add(saved)
    db.session.flush()
    return saved


def save_record(user, record_id, list_id=None, note=None):
    """Put a record in one of the user's lists (the default one if none is named).

    Returns ``(list, item)``; saving a record already in the list changes nothing.
    """
    record = db.session.get(Record, record_id)
    if record is None:
        raise NotFound(_("No such record."))
    saved = get_own_list(user, list_id, lock=True) if list_id else default_list(user)
    if list_id is None:
        saved = get_own_list(user, saved.id, lock=True)
    item = db.session.execute(
        select(SavedListItem).where(SavedListItem.list_id == saved.id,
                                    SavedListItem.record_id == record.id)
    ).scalar_one_or_none()
    if item is not None:
        return saved, item
    limit = get_setting("reading.items_per_list")
    count = db.session.execute(
        select(func.count()).select_from(SavedListItem).where(SavedListItem.list_id == saved.id)
    ).scalar_one()
    if count >= limit:
        raise RuleViolation(_("“%(name)s” already holds %(n)d records, the most a list can "
                              "hold. Start another list.", name=saved.name, n=limit))
    item = SavedListItem(list_id=saved.id, record_id=record.id,
                         note=(note or "").strip()[:2000] or None, added_at=clock.now())
    db.session.add(item)
    db.session.flush()
    return saved, item


def remove_record(user, list_id, record_id):
    """Take a record out of one of the user's lists (no error if it was not there)."""
    saved = get_own_list(user, list_id, lock=True)
    item = db.session.execute(
        select(SavedListItem).where(SavedListItem.list_id == saved.id,
                                    SavedListItem.record_id == record_id)
    ).scalar_one_or_none()
    if item is not None:
        db.session.delete(item)
        db.session.flush()
    return saved


def lists_with_record(user, record_id):
    """The user's lists that hold the record."""
    return db.session.execute(
        select(SavedList).join(SavedListItem, SavedListItem.list_id == SavedList.id)
        .where(SavedList.owner_id == user.id, SavedListItem.record_id == record_id)
        .order_by(SavedList.id).options(lazyload(SavedList.items))
    ).scalars().all()


def share_list(user, list_id):
    """Make a read-only link to the list (a new token each time sharing starts)."""
    saved = get_own_list(user, list_id, lock=True)
    if saved.share_token is None:
        saved.share_token = secrets.token_urlsafe(32)
        db.session.flush()
    return saved


def stop_sharing(user, list_id):
    """The shared link stops working at once."""
    saved = get_own_list(user, list_id, lock=True)
    saved.share_token = None
    db.session.flush()
    return saved


def shared_list(token):
    """The list a share link names, or 'not found' (unshared, deleted, or a wrong token)."""
    if not isinstance(token, str) or not SHARE_TOKEN_RE.match(token):
        raise NotFound(_("This shared list does not exist or is no longer shared."))
    saved = db.session.execute(
        select(SavedList).where(SavedList.share_token == token)
        .options(lazyload(SavedList.items))
    ).scalar_one_or_none()
    if saved is None:
        raise NotFound(_("This shared list does not exist or is no longer shared."))
    return saved


def list_records(saved):
    """The records of a list, in the order they were saved (one query)."""
    return db.session.execute(
        select(Record).join(SavedListItem, SavedListItem.record_id == Record.id)
        .where(SavedListItem.list_id == saved.id).order_by(SavedListItem.id)
    ).scalars().all()
