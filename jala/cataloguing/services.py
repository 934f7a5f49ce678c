"""The union cataloguing centre's rules: submitting records, reviewing them, the master record.

A submission's steps are one table, ``TRANSITIONS[(status, action)] = (new status, party)``:
the submitter's library (its staff) or the centre (the chair library's portal admins). ``step``
is the only function that changes a status: it locks the row, checks the party and the table,
runs the step's effect and writes the history event and the audit entry.
"""
from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.audit import record_audit
from jala.catalog.service import get_record
from jala.cataloguing.marc_form import LEADERS, check_rows, title_of
from jala.cataloguing.master import duplicates_of, write_correction, write_original
from jala.cataloguing.models import FLAVOURS, CataloguingEvent, CataloguingSubmission
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance.center import is_center_admin
from jala.permissions import can_staff_library, staff_library_ids

MEMBER, CENTRE = "member", "centre"
TRANSITIONS = {
    ("submitted", "approve"): ("approved", CENTRE),
    ("submitted", "return"): ("returned", CENTRE),
    ("submitted", "merge"): ("merged", CENTRE),
    ("returned", "resubmit"): ("submitted", MEMBER),
    ("submitted", "withdraw"): ("withdrawn", MEMBER),
    ("returned", "withdraw"): ("withdrawn", MEMBER),
}
ACTIONS = tuple(dict.fromkeys(action for _status, action in TRANSITIONS))


class InvalidMarc(RuleViolation):
    """A record the editor cannot accept, with every problem ``(row number, message)``."""

    def __init__(self, problems):
        super().__init__(" ".join(message for _row, message in problems))
        self.problems = problems


# --- who --------------------------------------------------------------------------------------

def is_cataloguer(user):
    """Whether ``user`` may submit records: staff of a member library."""
    return bool(getattr(user, "is_authenticated", False) and staff_library_ids(user))


def submitting_library(actor, library_id=None):
    """The library ``actor`` submits for (the one asked for, else their first)."""
    libraries = sorted(staff_library_ids(actor)) if actor.is_authenticated else []
    if not libraries:
        raise NotAllowed(_("Only cataloguers of member libraries can submit records."))
    if library_id is None:
        return libraries[0]
    if library_id not in libraries:
        raise NotAllowed(_("You can only submit records for your own library."))
    return library_id


def parties_of(user, submission):
    """The parties ``user`` is for a submission: its library's staff, the centre, or both."""
    parties = set()
    if can_staff_library(user, submission.library_id):
        parties.add(MEMBER)
    if is_center_admin(user):
        parties.add(CENTRE)
    return parties


# the centre's decisions that put a record in the union catalogue: never on one's own library's
ACCEPTING = ("approve", "merge")


def decides_own(user, submission, action):
    """Whether ``action`` would be a centre admin accepting their own library's record."""
    return action in ACCEPTING and can_staff_library(user, submission.library_id)


def can_do(user, submission):
    """The actions ``user`` may take on the submission now."""
    parties = parties_of(user, submission)
    return {action for (status, action), (_new, party) in TRANSITIONS.items()
            if status == submission.status and party in parties
            and not decides_own(user, submission, action)}


def get_submission(actor, submission_id, *, lock=False):
    """A submission its library's staff or the centre may see; others get NotFound."""
    query = select(CataloguingSubmission).where(CataloguingSubmission.id == submission_id)
    if lock:
        # the row as it is once locked, not the object the session already holds
        query = query.with_for_update().execution_options(populate_existing=True)
    submission = db.session.execute(query).scalar_one_or_none()
    if submission is None or not parties_of(actor, submission):
        raise NotFound(_("No such submission."))
    return submission


# --- submitting -------------------------------------------------------------------------------

def _checked(rows, leader, flavour):
    if flavour not in FLAVOURS:
        raise RuleViolation(_("Choose MARC 21 or CNMARC."))
    if not rows:
        raise InvalidMarc([(None, _("The record has no fields."))])
    problems = check_rows(rows, leader, flavour)
    if problems:
        raise InvalidMarc(problems)


def _event(submission, actor, action, from_status, comment=None, fields=None):
    submission.events.append(CataloguingEvent(
        at=clock.now(), actor_id=actor.id, action=action, from_status=from_status,
        to_status=submission.status, comment=comment, fields=fields))


def submit_record(actor, rows, *, leader="", flavour="marc21", library_id=None,
                  record_id=None, comment=None):
    """A cataloguer submits an original record, or (``record_id``) a correction of one."""
    library_id = submitting_library(actor, library_id)
    _checked(rows, leader, flavour)
    if record_id is not None:
        get_record(record_id)
    now = clock.now()
    submission = CataloguingSubmission(
        kind="correction" if record_id is not None else "original", library_id=library_id,
        submitter_id=actor.id, status="submitted", flavour=flavour,
        leader=leader or LEADERS[flavour], fields=rows,
        title=title_of(rows, flavour)[:2000], record_id=record_id, created_at=now,
        updated_at=now)
    db.session.add(submission)
    db.session.flush()
    _event(submission, actor, "submit", None, (comment or "").strip()[:2000] or None, rows)
    record_audit(actor, "cataloguing.submit", "cataloguing_submission", submission.id,
                 library_id=library_id, details={"kind": submission.kind,
                                                 "record": record_id})
    return submission


def edit_submission(actor, submission_id, rows, *, leader="", flavour="marc21", comment=None):
    """The submitter's library edits a returned record and sends it back to the centre."""
    submission = get_submission(actor, submission_id, lock=True)
    _checked(rows, leader, flavour)
    submission.fields, submission.flavour = rows, flavour
    submission.leader = leader or submission.leader
    submission.title = title_of(rows, flavour)[:2000]
    return step(actor, submission_id, "resubmit", comment=comment, submission=submission)


# --- reviewing --------------------------------------------------------------------------------

def _party_refusal(party):
    if party == CENTRE:
        return NotAllowed(_("Only the union cataloguing centre can review submissions."))
    return NotAllowed(_("Only cataloguers of the submitting library can do this."))


def step(actor, submission_id, action, *, comment=None, merge_into=None, submission=None):
    """Take ``action`` on a submission, by the table; the effect and its history event."""
    if action not in ACTIONS:
        raise RuleViolation(_("Unknown step."))
    submission = submission or get_submission(actor, submission_id, lock=True)
    move = TRANSITIONS.get((submission.status, action))
    if move is None:
        raise RuleViolation(_("This submission cannot take that step now."), status=409)
    new_status, party = move
    if party not in parties_of(actor, submission):
        raise _party_refusal(party)
    if decides_own(actor, submission, action):
        raise NotAllowed(_("You work for the library that submitted this record: another "
                           "administrator of the union cataloguing centre decides on it."))
    comment = (comment or "").strip()[:2000] or None
    if action == "return" and not comment:
        raise RuleViolation(_("Say what the cataloguer should change."))
    EFFECTS.get(action, lambda *_a: None)(actor, submission, merge_into)
    old = submission.status
    submission.status, submission.updated_at = new_status, clock.now()
    if party == CENTRE:
        submission.decided_at = submission.updated_at
    _event(submission, actor, action, old, comment,
           submission.fields if action == "resubmit" else None)
    db.session.flush()
    record_audit(actor, f"cataloguing.{action}", "cataloguing_submission", submission.id,
                 library_id=submission.library_id,
                 details={"from": old, "to": new_status, "record": submission.record_id})
    return submission


def _approve(actor, submission, _merge_into):
    if submission.kind == "correction":
        write_correction(submission)
    else:
        submission.record_id = write_original(submission)


def _merge(actor, submission, merge_into):
    if submission.kind == "correction":
        raise RuleViolation(_("A correction is approved or returned, not merged."))
    if merge_into is None:
        raise RuleViolation(_("Give the union record this one duplicates."))
    submission.record_id = get_record(merge_into).id


EFFECTS = {"approve": _approve, "merge": _merge}


# --- lists ------------------------------------------------------------------------------------

def submissions_for(actor, status=None, *, centre=False, limit=100):
    """The submissions ``actor`` sees: their libraries', or (``centre``) everyone's."""
    query = select(CataloguingSubmission).order_by(CataloguingSubmission.id.desc()).limit(limit)
    if centre:
        if not is_center_admin(actor):
            raise NotAllowed(_("Only the union cataloguing centre can review submissions."))
    else:
        query = query.where(CataloguingSubmission.library_id.in_(staff_library_ids(actor)))
    if status:
        query = query.where(CataloguingSubmission.status == status)
    return db.session.execute(query).scalars().all()


def possible_duplicates(submission, limit=5):
    """Union records the submission may duplicate: the same ISBN, or the same title."""
    return duplicates_of(submission, limit)
