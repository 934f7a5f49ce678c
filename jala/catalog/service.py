"""Catalogue services of the pages: record look-up, uploaded imports and their progress."""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.audit import record_audit
from jala.catalog.models import ImportRun, Record, RecordIdentifier
from jala.catalog.readers import ENCODINGS, FORMATS, ImportFileError, detect_format
from jala.catalog.tasks import run_import_job
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import store_stream
from jala.jobs import enqueue_after_commit
from jala.membership import get_library
from jala.permissions import can_manage_library, is_library_staff


def record_by_isbn(isbn):
    """The union record holding a canonical ISBN-13, or None."""
    record_id = db.session.execute(
        select(RecordIdentifier.record_id).where(RecordIdentifier.kind == "isbn",
                                                 RecordIdentifier.value == isbn)
    ).scalar_one_or_none()
    return None if record_id is None else db.session.get(Record, record_id)


def get_record(record_id):
    """A record by its public id (a string of digits), or NotFound."""
    record_id = str(record_id)
    record = None
    if record_id.isdecimal() and len(record_id) <= 18:
        record = db.session.get(Record, int(record_id))
    if record is None:
        raise NotFound(_("No record has the id %(id)s.", id=record_id[:40]))
    return record


def get_raw_record(actor, record_id):
    """A record with its source records as imported (原始记录): for library staff only."""
    if not is_library_staff(actor):
        raise NotAllowed(_("Only library staff can see the records as the libraries sent "
                           "them."))
    return get_record(record_id)


def holdings_by_library(record, first_library_id=None):
    """``[(library, has an available copy)]``, one per library, the reader's own first.

    ``first_library_id`` (the reader's library) leads, then the libraries with a copy on the
    shelf.
    """
    libraries = {}
    for holding in record.holdings:
        entry = libraries.setdefault(holding.library_id, [holding.library, False])
        entry[1] = entry[1] or holding.status == "available"
    rows = [tuple(entry) for entry in libraries.values()]
    rows.sort(key=lambda row: (row[0].id != first_library_id, not row[1], row[0].id))
    return rows


UPLOAD_LIMIT = 200 * 1024 * 1024


def _check_import_rights(actor, library):
    if actor is None or not can_manage_library(actor, library.id):
        raise NotAllowed(_("Only this library's admins can import records for it."))


def start_upload_import(actor, library_code, upload, *, format_name=None, flavour=None,
                        encoding="utf-8"):
    """Keep an uploaded file privately and queue its import (after the commit)."""
    library = get_library(library_code)
    _check_import_rights(actor, library)
    if format_name not in (None, "", *FORMATS) or encoding not in ENCODINGS:
        raise RuleViolation(_("Choose a known format and encoding."))
    head = upload.stream.read(64)
    if not head:
        raise RuleViolation(_("The file is empty."))
    try:
        detected = format_name or detect_format(head, upload.filename or "")
    except ImportFileError as exc:
        raise RuleViolation(_("The file is not JSON Lines, MARC XML or ISO 2709 MARC.")) from exc
    stored = store_stream(upload.stream, upload.filename, head=head,
                          content_type="application/octet-stream", max_bytes=UPLOAD_LIMIT,
                          owner=actor, delete_after=clock.now() + timedelta(days=30))
    run = ImportRun(library_id=library.id, user_id=actor.id, stored_file_id=stored.id,
                    filename=stored.original_name, format=detected,
                    options={"flavour": flavour or None, "encoding": encoding},
                    enqueued_at=clock.now())
    db.session.add(run)
    db.session.flush()
    enqueue_after_commit(run_import_job, run.id)
    record_audit(actor, "catalog.import_upload", "import_run", run.id, library_id=library.id,
                 details={"file": stored.original_name, "format": detected})
    return run


def restart_import(actor, run_id):
    """Import a failed run's file again, as a new run (records already in are updated, once)."""
    old = get_import_run(actor, run_id)
    if old.status != "failed":
        raise RuleViolation(_("Only an import that failed can be started again."))
    run = ImportRun(library_id=old.library_id, user_id=actor.id,
                    stored_file_id=old.stored_file_id, filename=old.filename, format=old.format,
                    options=dict(old.options or {}), enqueued_at=clock.now())
    db.session.add(run)
    db.session.flush()
    enqueue_after_commit(run_import_job, run.id)
    record_audit(actor, "catalog.import_restart", "import_run", run.id,
                 library_id=old.library_id, details={"again": old.id})
    return run


def get_import_run(actor, run_id):
    """An import run the actor may see (their library's, or any for portal admins)."""
    run = db.session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(_("No such import."))
    _check_import_rights(actor, run.library)
    return run


def recent_imports(actor, library_code, limit=20):
    """The latest imports of a library, newest first."""
    library = get_library(library_code)
    _check_import_rights(actor, library)
    return library, db.session.execute(
        select(ImportRun).where(ImportRun.library_id == library.id)
        .order_by(ImportRun.id.desc()).limit(limit)).scalars().all()
