"""Looking inside a record: its cover, front matter, contents and sample pages.

Preview pages are public; only staff of a member library that holds the record (or portal
admins) change them. Their images are served through short-lived signed view URLs.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from jala import clock
from jala.accounts.models import ROLE_PORTAL_ADMIN
from jala.audit import record_audit
from jala.catalog.models import Record
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import StoredFile, signed_view_url, store_upload
from jala.membership import member_library_ids
from jala.permissions import can_staff_library
from jala.reading.models import PREVIEW_KINDS, PreviewPage
from jala.settings import declare, get_setting

declare("reading.preview_max_mb", 10, 1, 50, _l("Maximum size of a preview file"), "MB")
declare("reading.preview_pages_per_record", 40, 1, 500, _l("Preview pages per record"),
        _l("pages"))

PREVIEW_URL_SECONDS = 3600  # how long a preview image URL works once the page is shown
IMAGE_KINDS = ("png", "jpeg", "webp")


def kind_label(kind):
    """A preview kind in the user's language."""
    return {"cover": _("Cover"), "front": _("Front matter"), "toc": _("Contents"),
            "sample": _("Sample pages")}.get(kind, kind)



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
