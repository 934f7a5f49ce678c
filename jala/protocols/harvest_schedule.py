"""Harvesting on a schedule: a library's admin keeps its OAI-PMH sources, the sweeper starts them.

A source is due when its ``next_run_at`` has come and it is not paused. The sweeper marks it
enqueued and hands it to a job. The job holds an advisory lock on the source for the whole
harvest, on a connection of its own (a worker that dies lets it go), and the sweeper passes
over a source whose lock is held: two sweeps, or a sweep and "harvest now", never harvest one
source at once. After every run, finished or failed, the next is due an interval later; a
failed run keeps its error for the page, and the next run goes on from where it stopped.
"""
import logging
import socket
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, text

from jala import clock
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.jobs import advisory_lock, enqueue_after_commit, run_job, sweep_task
from jala.membership import get_library
from jala.permissions import can_manage_library
from jala.protocols.oai_harvest import USER_AGENT, HarvestError, run_harvest
from jala.protocols.oai_models import METADATA_PREFIXES, OaiHarvestSource
from jala.protocols.sip2 import address_refusal

log = logging.getLogger(__name__)
# the first key of the advisory locks on harvest sources (the second is the source's id)
HARVEST_LOCK = 15_002
# a job enqueued this long ago that never started was lost (Redis restarted): enqueue it again
REENQUEUE_AFTER = timedelta(minutes=10)
HARVEST_JOB_TIMEOUT = 6 * 3600
MAX_INTERVAL_HOURS = 24 * 31


# --- what the admin does -----------------------------------------------------------------

def _check_manager(actor, library):
    """The library's admin or a portal admin; ``None`` is the command line."""
    if actor is not None and not can_manage_library(actor, library.id):
        raise NotAllowed(_("Only the library's admin may change where its records are "
                           "harvested from."))


def library_sources(actor, code):
    """``(library, its harvest sources)`` for the library's admin."""
    library = get_library(code)
    _check_manager(actor, library)
    sources = db.session.execute(select(OaiHarvestSource).where(
        OaiHarvestSource.library_id == library.id).order_by(OaiHarvestSource.id)).scalars()
    return library, list(sources)


def _source_of(actor, code, source_id):
    library = get_library(code)
    _check_manager(actor, library)
    source = db.session.get(OaiHarvestSource, source_id)
    if source is None or source.library_id != library.id:
        raise NotFound(_("This library has no such harvest source."))
    return source


def _audit(actor, action, source, **details):
    record_audit(actor, action, "library", source.library.code, library_id=source.library_id,
                 details={"url": source.url, **details})


def _interval(hours):
    if not isinstance(hours, int) or not 1 <= hours <= MAX_INTERVAL_HOURS:
        raise RuleViolation(_("Harvest every 1 to %(most)d hours.", most=MAX_INTERVAL_HOURS))
    return hours


def add_source(actor, code, *, url, set_spec="", metadata_prefix="marc21", interval_hours=24):
    """A new source for the library, first harvested at the next sweep."""
    library = get_library(code)
    _check_manager(actor, library)
    url, set_spec = (url or "").strip(), (set_spec or "").strip()
    refusal = url_refusal(url)
    if refusal:
        raise RuleViolation(refusal)
    if metadata_prefix not in METADATA_PREFIXES:
        raise RuleViolation(_("Choose one of the record formats offered."))
    if db.session.execute(select(OaiHarvestSource.id).filter_by(
            library_id=library.id, url=url, set_spec=set_spec,
            metadata_prefix=metadata_prefix)).first():
        raise RuleViolation(_("The library already harvests this repository, set and format."))
    source = OaiHarvestSource(library=library, url=url, set_spec=set_spec,
                              metadata_prefix=metadata_prefix, run_counts={}, last_counts={},
                              interval_hours=_interval(interval_hours), next_run_at=clock.now())
    db.session.add(source)
    db.session.flush()
    _audit(actor, "harvest.source_added", source, every_hours=interval_hours)
    return source


def set_interval(actor, code, source_id, hours):
    """Harvest the source every ``hours``: the next run is that long after the last."""
    source = _source_of(actor, code, source_id)
    before, source.interval_hours = source.interval_hours, _interval(hours)
    source.next_run_at = (source.last_run_at + timedelta(hours=hours) if source.last_run_at
                          else source.next_run_at or clock.now())
    _audit(actor, "harvest.interval_changed", source, **{"from": before, "to": hours})
    return source


def pause_source(actor, code, source_id, paused):
    """Stop (or start again) the source's scheduled harvests."""
    source = _source_of(actor, code, source_id)
    source.paused = paused
    if not paused and source.interval_hours and source.next_run_at is None:
        source.next_run_at = clock.now()
    _audit(actor, "harvest.paused" if paused else "harvest.resumed", source)
    return source


def remove_source(actor, code, source_id):
    """Forget the source; the records it brought stay the library's."""
    source = _source_of(actor, code, source_id)
    if not _lock_free_in_transaction(source.id):
        raise RuleViolation(_("This source is being harvested: remove it when the harvest "
                              "has ended."), status=409)
    _audit(actor, "harvest.source_removed", source)
    db.session.delete(source)


def harvest_now(actor, code, source_id):
    """Start a harvest of the source now (its schedule then goes on from this run)."""
    source = _source_of(actor, code, source_id)
    if source.paused:
        raise RuleViolation(_("The source is paused: resume it first."), status=409)
    if source.enqueued_at or source.started_at:
        raise RuleViolation(_("A harvest of this source is already waiting or running."),
                            status=409)
    now = clock.now()
    source.next_run_at = source.enqueued_at = now
    enqueue_after_commit(run_scheduled_harvest_job, source.id, job_timeout=HARVEST_JOB_TIMEOUT)
    _audit(actor, "harvest.run_requested", source)
    return source


# --- where the portal may harvest from -----------------------------------------------------

def url_refusal(url):
    """Why the portal will not harvest ``url``, or None.

    In production a repository is never this machine, a link-local or a cloud metadata
    address (the checks of SIP2's servers): an admin's URL must not reach the portal's inside.
    """
    parts = urlsplit(url or "")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port that is not a number
        port = None
    if (parts.scheme not in ("http", "https") or not parts.hostname or port is None
            or len(url) > 500):
        return _("Give the repository's address, starting with http:// or https://.")
    if not current_app.config["JALA_PRODUCTION"]:
        return None
    try:
        addresses = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError:
        return _("The portal cannot find the server %(host)s.", host=parts.hostname)
    if any(address_refusal(address[4][0]) for address in addresses):
        return _("The portal does not harvest from local or internal addresses.")
    return None


class _CheckedSession(requests.Session):
    """An HTTP session that checks every address it is sent to, redirects included."""

    def __init__(self):
        super().__init__()
        self.headers["User-Agent"] = USER_AGENT

    def send(self, request, **kwargs):
        refusal = url_refusal(request.url)
        if refusal:
            raise requests.ConnectionError(refusal)
        return super().send(request, **kwargs)


# --- the sweeper and the job ---------------------------------------------------------------

def source_lock(source_id):
    """Hold the source's advisory lock while a harvest runs; yields whether it was free."""
    return advisory_lock(HARVEST_LOCK, source_id)


def _lock_free_in_transaction(source_id):
    """Whether no job harvests the source; if so it stays locked until this transaction ends."""
    return db.session.execute(text("SELECT pg_try_advisory_xact_lock(:key, :id)"),
                              {"key": HARVEST_LOCK, "id": source_id}).scalar()


@sweep_task
def enqueue_due_harvests():
    """Hand the due sources to jobs: not paused, not waiting for a job, not being harvested."""
    now = clock.now()
    sources = db.session.execute(
        select(OaiHarvestSource).where(
            OaiHarvestSource.paused.is_(False),
            OaiHarvestSource.next_run_at <= now,
            or_(OaiHarvestSource.enqueued_at.is_(None),
                OaiHarvestSource.enqueued_at < now - REENQUEUE_AFTER),
        ).order_by(OaiHarvestSource.next_run_at)
        .with_for_update(skip_locked=True).limit(20)).scalars().all()
    enqueued = 0
    for source in sources:
        if _lock_free_in_transaction(source.id):
            source.enqueued_at = now
            enqueue_after_commit(run_scheduled_harvest_job, source.id,
                                 job_timeout=HARVEST_JOB_TIMEOUT)
            enqueued += 1
    return enqueued


def run_scheduled_harvest(source_id, http=None):
    """Harvest a due source under its lock; returns what happened (done, failed, busy…)."""
    with source_lock(source_id) as held:
        if not held:
            db.session.rollback()
            return "busy"
        source = db.session.get(OaiHarvestSource, source_id)
        if source is None:
            return "gone"
        if source.paused or source.next_run_at is None or source.next_run_at > clock.now():
            source.enqueued_at = None
            db.session.commit()
            return "not-due"
        source.started_at = clock.now()
        db.session.commit()
        outcome = _harvest(source, http or _CheckedSession())
        source.last_run_at = clock.now()
        source.next_run_at = (source.last_run_at + timedelta(hours=source.interval_hours)
                              if source.interval_hours else None)
        source.enqueued_at = source.started_at = None
        db.session.commit()
        return outcome


def _harvest(source, http):
    """Run the harvest; a failure is kept on the source (the pages already taken stay)."""
    try:
        run_harvest(source, http=http)
        return "done"
    except HarvestError as exc:
        db.session.rollback()
        source.last_error = str(exc)[:2000]
    except Exception as exc:  # the run ends, and gets its next time, whatever the cause
        log.exception("harvest of source %s failed", source.id)
        db.session.rollback()
        source.last_error = f"The harvest stopped on an unexpected error ({type(exc).__name__})."
    log.warning("harvest of source %s failed: %s", source.id, source.last_error)
    return "failed"


def run_scheduled_harvest_job(source_id):
    """The job RQ runs (a transaction of its own, rolled back on error)."""
    return run_job(lambda: run_scheduled_harvest(source_id))
