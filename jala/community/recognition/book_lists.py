"""Book lists (书单): librarians pick union-catalogue records, in order, each with a note.

A list has a title, a theme, an introduction (Markdown) and optionally a cover (one of its
records); it is a draft until it is published.

Only staff (librarians and library admins) of the list's library change it — checked here on
the row, whatever page asked. A draft exists only for them (404 to everyone else).
"""
from flask_babel import gettext as _
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import Library
from jala.audit import record_audit
from jala.catalog.models import Record
from jala.checks import typed_text
from jala.community.recognition.models import BookList, BookListEntry
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.membership import is_member, member_libraries
from jala.permissions import can_staff_library
from jala.search.engine import SearchRequest, load_records, search

TITLE_MAX = 200
THEME_MAX = 100
INTRODUCTION_MAX = 20_000
NOTE_MAX = 2_000
ENTRIES_MAX = 200
PAGE_SIZE = 12
SEARCH_HITS = 10


# --- who may change a list ----------------------------------------------------------------------

def editable_libraries(actor):
    """The member libraries ``actor`` makes book lists for (as a librarian or library admin)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    return [library for library in member_libraries() if can_staff_library(actor, library.id)]


def can_edit_book_list(actor, book_list):
    """Whether ``actor`` works for the list's library."""
    return (actor is not None and getattr(actor, "is_authenticated", False)
            and can_staff_library(actor, book_list.library_id))


def _lock(list_id):
    book_list = db.session.execute(select(BookList).where(BookList.id == list_id)
                                   .with_for_update()).scalar_one_or_none()
    if book_list is None:
        raise NotFound(_("No such book list."))
    return book_list


def _editable(actor, list_id):
    """The list, locked, if ``actor`` may change it; a draft of another library is not found."""
    book_list = _lock(list_id)
    if not can_edit_book_list(actor, book_list):
        if not book_list.is_published:
            raise NotFound(_("No such book list."))
        raise NotAllowed(_("Only librarians of the list's library can change it."))
    return book_list


def get_entry(actor, entry_id):
    """An entry of a list ``actor`` may change."""
    entry = db.session.get(BookListEntry, entry_id)
    if entry is None or not can_edit_book_list(actor, entry.book_list):
        if entry is not None and entry.book_list.is_published:
            raise NotAllowed(_("Only librarians of the list's library can change it."))
        raise NotFound(_("No such entry."))
    return entry


def _entry(actor, entry_id):
    entry = db.session.get(BookListEntry, entry_id)
    if entry is None:
        raise NotFound(_("No such entry."))
    return entry, _editable(actor, entry.book_list_id)


def _touch(book_list):
    book_list.updated_at = clock.now()
    db.session.flush()


# --- checking what was written ------------------------------------------------------------------



def _details(title, theme, introduction):
    return {"title": typed_text(title, TITLE_MAX, missing=_("Give the book list a title."),
                                one_line=True),
            "theme": typed_text(theme, THEME_MAX, one_line=True) or None,
            "introduction": typed_text(introduction, INTRODUCTION_MAX) or None}


# --- the list -----------------------------------------------------------------------------------

def create_book_list(actor, *, library_id, title, theme=None, introduction=None):
    """Start a draft book list for one of the actor's libraries."""
    library = db.session.get(Library, library_id) if library_id else None
    if library is None or not is_member(library):
        raise RuleViolation(_("Choose a member library."))
    if not can_staff_library(actor, library.id):
        raise NotAllowed(_("You can only make book lists for your own library."))
    now = clock.now()
    book_list = BookList(library_id=library.id, created_by_id=actor.id, created_at=now,
                         updated_at=now, **_details(title, theme, introduction))
    db.session.add(book_list)
    db.session.flush()
    record_audit(actor, "book_list.create", "book_list", book_list.id, library_id=library.id,
                 details={"title": book_list.title})
    return book_list


def update_book_list(actor, list_id, *, title, theme=None, introduction=None,
                     cover_record_id=None):
    """Change the title, theme, introduction and cover (one of the list's records)."""
    book_list = _editable(actor, list_id)
    for name, value in _details(title, theme, introduction).items():
        setattr(book_list, name, value)
    if cover_record_id in (None, ""):
        book_list.cover_record_id = None
    else:
        cover = int(cover_record_id) if str(cover_record_id).isdecimal() else None
        if cover not in {entry.record_id for entry in book_list.entries}:
            raise RuleViolation(_("The cover is one of the list's books."))
        book_list.cover_record_id = cover
    _touch(book_list)
    record_audit(actor, "book_list.update", "book_list", book_list.id,
                 library_id=book_list.library_id, details={"title": book_list.title})
    return book_list


def publish_book_list(actor, list_id):
    """Show the list to everyone (it needs at least one book)."""
    book_list = _editable(actor, list_id)
    if not book_list.entries:
        raise RuleViolation(_("Add at least one book before publishing the list."))
    if book_list.published_at is None:
        book_list.published_at = clock.now()
        _touch(book_list)
        record_audit(actor, "book_list.publish", "book_list", book_list.id,
                     library_id=book_list.library_id)
    return book_list


def unpublish_book_list(actor, list_id):
    """Take the list off the public pages (a draft again)."""
    book_list = _editable(actor, list_id)
    if book_list.published_at is not None:
        book_list.published_at = None
        _touch(book_list)
        record_audit(actor, "book_list.unpublish", "book_list", book_list.id,
                     library_id=book_list.library_id)
    return book_list


def delete_book_list(actor, list_id):
    """Delete a book list and its entries."""
    book_list = _editable(actor, list_id)
    record_audit(actor, "book_list.delete", "book_list", book_list.id,
                 library_id=book_list.library_id, details={"title": book_list.title})
    db.session.delete(book_list)
    db.session.flush()


# --- entries ------------------------------------------------------------------------------------

def find_records(actor, list_id, q):
    """Catalogue records matching ``q`` for an editor to add (the portal's own search)."""
    book_list = _editable(actor, list_id)
    q = (q or "").strip()[:500]
    if not q:
        return book_list, []
    result = search(SearchRequest(q=q, per_page=SEARCH_HITS), channel="booklist")
    return book_list, result.hits


def add_entry(actor, list_id, record_id, note=None):
    """Add a catalogue record at the end of the list, with the librarian's note."""
    book_list = _editable(actor, list_id)
    record = db.session.get(Record, int(record_id)) if str(record_id).isdecimal() else None
    if record is None:
        raise NotFound(_("No such record."))
    if any(entry.record_id == record.id for entry in book_list.entries):
        raise RuleViolation(_("This book is on the list already."), status=409)
    if len(book_list.entries) >= ENTRIES_MAX:
        raise RuleViolation(_("A book list holds at most %(n)d books.", n=ENTRIES_MAX))
    last = db.session.execute(select(func.coalesce(func.max(BookListEntry.position), 0))
                              .where(BookListEntry.book_list_id == book_list.id)).scalar_one()
    entry = BookListEntry(book_list_id=book_list.id, record_id=record.id, position=last + 1,
                          note=typed_text(note, NOTE_MAX) or None, added_by_id=actor.id,
                          added_at=clock.now())
    db.session.add(entry)
    db.session.flush()
    db.session.expire(book_list, ["entries"])
    _touch(book_list)
    record_audit(actor, "book_list.add_entry", "book_list", book_list.id,
                 library_id=book_list.library_id, details={"record_id": record.id})
    return entry


def update_entry_note(actor, entry_id, note):
    """Change the librarian's note on one entry."""
    entry, book_list = _entry(actor, entry_id)
    entry.note = typed_text(note, NOTE_MAX) or None
    _touch(book_list)
    record_audit(actor, "book_list.note", "book_list", book_list.id,
                 library_id=book_list.library_id, details={"record_id": entry.record_id})
    return entry


def move_entry(actor, entry_id, direction):
    """Move an entry one place up or down the list."""
    if direction not in ("up", "down"):
        raise RuleViolation(_("Move the book up or down."))
    entry, book_list = _entry(actor, entry_id)
    entries = list(book_list.entries)
    at = entries.index(entry)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(entries):
        entries[at], entries[to] = entries[to], entries[at]
        for position, each in enumerate(entries, start=1):
            each.position = position
        db.session.flush()
        db.session.expire(book_list, ["entries"])
        _touch(book_list)
        record_audit(actor, "book_list.move", "book_list", book_list.id,
                     library_id=book_list.library_id,
                     details={"record_id": entry.record_id, "position": to + 1})
    return entry


def remove_entry(actor, entry_id):
    """Take a book off the list."""
    entry, book_list = _entry(actor, entry_id)
    if book_list.cover_record_id == entry.record_id:
        book_list.cover_record_id = None
    record_audit(actor, "book_list.remove_entry", "book_list", book_list.id,
                 library_id=book_list.library_id, details={"record_id": entry.record_id})
    db.session.delete(entry)
    db.session.flush()
    db.session.expire(book_list, ["entries"])
    _touch(book_list)
    return book_list


# --- reading ------------------------------------------------------------------------------------

def get_book_list(actor, list_id):
    """A published list, or a draft for the staff of its library."""
    book_list = db.session.get(BookList, list_id)
    if book_list is None or not (book_list.is_published or can_edit_book_list(actor, book_list)):
        raise NotFound(_("No such book list."))
    return book_list


def records_of(book_list):
    """``{record id: record}`` of the list's entries, with their holdings (one query each)."""
    return {record.id: record
            for record in load_records([entry.record_id for entry in book_list.entries])}


def published_book_lists(page=1):
    """``(lists of the page, number of pages)``, newest published first."""
    page = max(1, page)
    total = db.session.execute(select(func.count()).select_from(BookList)
                               .where(BookList.published_at.is_not(None))).scalar_one()
    rows = db.session.execute(
        select(BookList).where(BookList.published_at.is_not(None))
        .order_by(BookList.published_at.desc(), BookList.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return rows, max(1, -(-total // PAGE_SIZE))


def recent_book_lists(limit=5):
    """The newest published book lists (for the community and home pages)."""
    return db.session.execute(
        select(BookList).where(BookList.published_at.is_not(None))
        .order_by(BookList.published_at.desc(), BookList.id.desc()).limit(limit)
    ).scalars().all()


def lists_to_edit(actor):
    """Every list (drafts too) of the libraries ``actor`` works for, latest change first."""
    ids = [library.id for library in editable_libraries(actor)]
    if not ids:
        return []
    return db.session.execute(
        select(BookList).where(BookList.library_id.in_(ids))
        .order_by(BookList.updated_at.desc(), BookList.id.desc())).scalars().all()
