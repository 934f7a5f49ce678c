"""RQ jobs of the catalogue: importing an uploaded file, and ending imports whose job is gone.

A running import holds a PostgreSQL advisory lock on its run for as long as its job lives, on a
connection of its own: when the worker dies (killed, restarted, out of memory) its connection
closes and the lock goes with it. The sweeper ends the runs marked running that nobody holds.
"""
import logging
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, or_, select, text

from jala import clock
from jala.accounts.models import Library
from jala.catalog.bulk import build_missing_search_indexes
from jala.catalog.importer import import_stream
from jala.catalog.models import ImportRun
from jala.catalog.preparation import InvalidRecord
from jala.catalog.readers import ImportFileError, open_records
from jala.extensions import db
from jala.files import StoredFile, storage_dir
from jala.jobs import advisory_lock, enqueue_after_commit, run_job, sweep_task
from jala.metrics import scrape_gauge

log = logging.getLogger(__name__)
REENQUEUE_AFTER = timedelta(minutes=5)
# the first key of the advisory locks on import runs (the second is the run's id)
RUN_LOCK = 15_001
ABANDONED = ("The import stopped before it finished: its worker was stopped or restarted. "
             "The records imported so far stay; importing the file again adds the rest.")


def run_import(import_run_id):
    """RQ job: import an uploaded file, recording progress on its ImportRun row."""
    run = db.session.execute(select(ImportRun).where(ImportRun.id == import_run_id)
                             .with_for_update(skip_locked=True)).scalar_one_or_none()
    if run is None or run.status != "queued":
        db.session.rollback()
        return "skipped"
    with advisory_lock(RUN_LOCK, import_run_id) as held:
        if not held:  # another job imports this run
            db.session.rollback()
            return "skipped"
        run.status, run.started_at = "running", clock.now()
        db.session.commit()
        return _import_run(import_run_id)


def _import_run(import_run_id):
    """The import of a run marked running; it ends done or failed, whatever happens."""
    run = db.session.get(ImportRun, import_run_id)
    library_code = db.session.get(Library, run.library_id).code
    stored = db.session.get(StoredFile, run.stored_file_id)
    path = storage_dir() / stored.storage_name
    options = dict(run.options or {})

    def progress(stats):
        row = db.session.get(ImportRun, import_run_id)
        for name in ("read", "created", "merged", "updated", "unchanged", "skipped"):
            setattr(row, name, getattr(stats, name))
        row.errors = list(stats.errors)
        db.session.commit()

    try:
        # a bulk load (`jala import --bulk`) stopped before its indexes were built is mended
        # here too, as the CLI's imports do
        for name, seconds in build_missing_search_indexes():
            log.warning("import %s: built the missing index %s in %.1f s", import_run_id,
                        name, seconds)
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
    except Exception as exc:  # the run ends, and the page stops waiting, whatever the cause
        log.exception("import %s failed", import_run_id)
        db.session.rollback()
        run = db.session.get(ImportRun, import_run_id)
        run.status = "failed"
        run.message = f"The import stopped on an unexpected error ({type(exc).__name__})."
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


@sweep_task
def end_abandoned_imports():
    """End as failed the imports marked running whose job is gone (its worker died)."""
    runs = db.session.execute(
        select(ImportRun).where(ImportRun.status == "running")
        .with_for_update(skip_locked=True).limit(20)).scalars().all()
    ended = 0
    for run in runs:
        # free: no job holds the run (the lock is let go when this transaction ends)
        if db.session.execute(text("SELECT pg_try_advisory_xact_lock(:key, :run)"),
                              {"key": RUN_LOCK, "run": run.id}).scalar():
            run.status, run.message, run.finished_at = "failed", ABANDONED, clock.now()
            log.warning("import %s ended: its job is gone", run.id)
            ended += 1
    return ended


@scrape_gauge
def import_runs_by_status():
    """Gauge for ``/metrics``: import runs by status (queued, running, done, failed)."""
    counts = dict.fromkeys(("queued", "running", "done", "failed"), 0)
    counts.update(db.session.execute(
        select(ImportRun.status, func.count()).group_by(ImportRun.status)).all())
    gauge = GaugeMetricFamily("jala_import_runs", "Catalogue import runs, by status.",
                              labels=["status"])
    for status, count in sorted(counts.items()):
        gauge.add_metric([status], count)
    return [gauge]
