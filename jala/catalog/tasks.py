"""RQ jobs of the catalogue: importing an uploaded file."""
import logging
from datetime import timedelta

from sqlalchemy import or_, select

from jala import clock
from jala.accounts.models import Library
from jala.catalog.importer import import_stream
from jala.catalog.models import ImportRun
from jala.catalog.preparation import InvalidRecord
from jala.catalog.readers import ImportFileError, open_records
from jala.extensions import db
from jala.files import StoredFile, storage_dir
from jala.jobs import enqueue_after_commit, run_job, sweep_task

log = logging.getLogger(__name__)
REENQUEUE_AFTER = timedelta(minutes=5)


def run_import(import_run_id):
    """RQ job: import an uploaded file, recording progress on its ImportRun row."""
    run = db.session.execute(select(ImportRun).where(ImportRun.id == import_run_id)
                             .with_for_update(skip_locked=True)).scalar_one_or_none()
    if run is None or run.status != "queued":
        db.session.rollback()
        return "skipped"
    run.status, run.started_at = "running", clock.now()
    library_code = db.session.get(Library, run.library_id).code
    stored = db.session.get(StoredFile, run.stored_file_id)
    path = storage_dir() / stored.storage_name
    options = dict(run.options or {})
    db.session.commit()

    def progress(stats):
        row = db.session.get(ImportRun, import_run_id)
        for name in ("read", "created", "merged", "updated", "unchanged", "skipped"):
            setattr(row, name, getattr(stats, name))
        row.errors = list(stats.errors)
        db.session.commit()

    try:
        with open(path, "rb") as raw:
            _, items, detected = open_records(raw, stored.original_name, run.format,
                                              options.get("encoding", "utf-8"))
            stats = import_stream(items, library_code, format_name=detected,
                                  flavour=options.get("flavour"), progress=progress)
        run = db.session.get(ImportRun, import_run_id)
        run.format, run.status = detected, "done"
        run.message = stats.summary()
    except (ImportFileError, InvalidRecord, OSError) as exc:
        db.session.rollback()
        run = db.session.get(ImportRun, import_run_id)
        run.status, run.message = "failed", str(exc)[:1000]
    run.finished_at = clock.now()
    db.session.commit()
    return run.status


def run_import_job(import_run_id):
    """The job RQ runs (a transaction of its own, rolled back on error)."""
    return run_job(lambda: run_import(import_run_id))


@sweep_task
def enqueue_waiting_imports():
    """Enqueue uploads still queued (Redis was down, or restarted empty)."""
    now = clock.now()
    runs = db.session.execute(
        select(ImportRun).where(
            ImportRun.status == "queued",
            or_(ImportRun.enqueued_at.is_(None), ImportRun.enqueued_at < now - REENQUEUE_AFTER),
            ImportRun.created_at < now - timedelta(seconds=10),
        ).with_for_update(skip_locked=True).limit(20)).scalars().all()
    for run in runs:
        run.enqueued_at = now
        enqueue_after_commit(run_import_job, run.id)
    return len(runs)
