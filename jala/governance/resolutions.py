"""Resolutions: what an agenda item of each kind needs, and what it does once decided.

Every kind is one row of ``KINDS``: how the agenda form offers it, what it needs when it is
put on the agenda (``needs`` checks the form's values and returns the item's fields), how its
title is made when none is given, and what it does when the committee passes it (or, for an
application, does not). ``add_agenda_item`` and ``close_item`` are the only steps that use it;
a kind not in it is refused. ``models.ITEM_KINDS`` names the same kinds for the database's
check constraint (it must exist before this module can be imported); a difference stops the
portal from starting.
"""
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from jala import clock
from jala.accounts.models import User
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance.applications import admit_library, reject_application, revoke_membership
from jala.governance.chair_library import approve_rotation, parse_rotation
from jala.governance.committee import (
    committee_seat,
    elect_to_office,
    holds_office,
    remove_from_office,
)
from jala.governance.meetings import (
    can_edit_agenda,
    can_preside,
    check_in_open,
    count_votes,
    lock_meeting,
    new_item,
)
from jala.governance.models import ITEM_KINDS, AgendaItem, Expense, MembershipApplication
from jala.membership import find_library, is_member


class Kind(NamedTuple):
    """One kind of agenda item."""

    label: str  # how the agenda form and the minutes name it
    needs: Callable | None = None  # (form values) → the item's fields; refuses what is missing
    title: Callable | None = None  # (fields) → the title if none is given (else one must be)
    passed: Callable | None = None  # (actor, item): what it does when the committee passes it
    failed: Callable | None = None  # (actor, item): what it does when the committee does not
    by_hand: bool = True  # offered on the agenda form (else put on the agenda by its own page)


# --- what the kinds need ------------------------------------------------------------------------

def _needs_application(*, application_id=None, **_values):
    application = db.session.execute(
        select(MembershipApplication).where(MembershipApplication.id == application_id)
        .with_for_update()).scalar_one_or_none() if application_id else None
    if application is None or application.status != "complete":
        raise RuleViolation(_("Choose an application the management center found complete."))
    application.status = "on_agenda"
    return {"application": application}


def _needs_member_library(*, target_library_code=None, **_values):
    library = find_library(target_library_code)
    if library is None or not is_member(library):
        raise RuleViolation(_("Choose a member library."))
    return {"target_library": library}


def _needs_office_holder(office, holds, *, target_user_id=None, **_values):
    """A committee member who holds ``office`` (to remove them) or does not (to elect them)."""
    target = db.session.get(User, target_user_id) if target_user_id else None
    if target is None or committee_seat(target) is None:
        raise RuleViolation(_("Choose a committee member."))
    if holds and not holds_office(target.id, office):
        raise RuleViolation(_("%(name)s does not hold that office.", name=target.display_name))
    if not holds and holds_office(target.id, office):
        raise RuleViolation(_("%(name)s already holds that office.", name=target.display_name))
    return {"target_user": target, "target_library": committee_seat(target)}


def _needs_rotation(*, rotation=None, **_values):
    return {"payload": {"terms": parse_rotation(rotation)}}


def _may_have_amount(*, amount=None, **_values):
    if amount in (None, ""):
        return {}
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise RuleViolation(_("The amount must be a number of yuan.")) from exc
    if not value.is_finite() or value < 0 or value > Decimal("1e11"):
        raise RuleViolation(_("The amount must be a number of yuan."))
    return {"amount": value}


def _office_kind(label, office, *, elect, title):
    """Electing a committee member to ``office``, or removing them from it."""
    return Kind(label, needs=partial(_needs_office_holder, office, not elect),
                title=lambda fields: title(fields["target_user"].display_name),
                passed=partial(elect_to_office if elect else remove_from_office, office=office))


# --- what the kinds do --------------------------------------------------------------------------

def approve_expenses(actor, item):
    """Once an expense report item passes, mark the expenses it listed approved by it."""
    if item.kind != "expense" or not item.passed:
        return 0
    ids = [i for i in (item.payload or {}).get("expense_ids", []) if isinstance(i, int)]
    if not ids:
        return 0
    count = db.session.execute(
        update(Expense).where(Expense.id.in_(ids), Expense.approved_by_item_id.is_(None))
        .values(approved_by_item_id=item.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    record_audit(actor, "center.expenses_approve", "agenda_item", item.id,
                 details={"year": (item.payload or {}).get("year"), "expenses": count})
    return count


# --- the table ----------------------------------------------------------------------------------

# in the order the agenda form offers them
KINDS = {
    "resolution": Kind(_l("Resolution")),
    "application": Kind(
        _l("Membership application"), needs=_needs_application,
        title=lambda f: _("Admit %(library)s", library=f["application"].name_zh),
        passed=admit_library, failed=reject_application),
    "revocation": Kind(
        _l("Revoke a membership"), needs=_needs_member_library,
        title=lambda f: _("Revoke the membership of %(library)s",
                          library=f["target_library"].name_zh),
        passed=revoke_membership),
    "charter_amendment": Kind(_l("Charter amendment")),
    "elect_chair": _office_kind(
        _l("Elect the committee chair"), "chair", elect=True,
        title=lambda name: _("Elect %(name)s committee chair", name=name)),
    "remove_chair": _office_kind(
        _l("Remove the committee chair"), "chair", elect=False,
        title=lambda name: _("Remove %(name)s as committee chair", name=name)),
    "elect_vice_chair": _office_kind(
        _l("Elect a vice-chair"), "vice_chair", elect=True,
        title=lambda name: _("Elect %(name)s vice-chair", name=name)),
    "remove_vice_chair": _office_kind(
        _l("Remove a vice-chair"), "vice_chair", elect=False,
        title=lambda name: _("Remove %(name)s as vice-chair", name=name)),
    "rotation_order": Kind(
        _l("Rotation order of chair libraries"), needs=_needs_rotation,
        title=lambda f: _("Rotation order of the chair library"), passed=approve_rotation),
    "budget": Kind(_l("Budget"), needs=_may_have_amount),
    "expense": Kind(_l("Large expense"), needs=_may_have_amount, passed=approve_expenses),
    # a nomination for the year's commendations, put here from /commendations/manage: what the
    # committee decided is read back from the item (jala.community.recognition)
    "commendation": Kind(_l("Commendation (advanced unit or individual)"), by_hand=False),
    # takes no vote (AgendaItem.takes_vote): withdrawal notices are reported this way
    "information": Kind(_l("Information (no vote)")),
}
if set(KINDS) != set(ITEM_KINDS):
    raise RuntimeError(f"models.ITEM_KINDS and resolutions.KINDS differ: "
                       f"{sorted(set(KINDS) ^ set(ITEM_KINDS))}")


def kind_label(kind):
    """The kind's name in the language in use (the kind itself if it is unknown)."""
    return KINDS[kind].label if kind in KINDS else kind


# --- adding and deciding ------------------------------------------------------------------------

def add_agenda_item(actor, meeting_id, *, kind, title=None, body=None, application_id=None,
                    target_library_code=None, target_user_id=None, rotation=None,
                    amount=None):
    """Put an item on a meeting's agenda (checked for what its kind needs)."""
    values = dict(application_id=application_id, target_library_code=target_library_code,
                  target_user_id=target_user_id, rotation=rotation, amount=amount)
    meeting = lock_meeting(meeting_id)
    if not can_edit_agenda(actor, meeting):
        raise NotAllowed(_("Only the presiding member, the committee chair or the management "
                           "center prepares the agenda."))
    if kind not in KINDS:
        raise RuleViolation(_("Choose the kind of item."))
    rules = KINDS[kind]
    fields = rules.needs(**values) if rules.needs else {}
    title = (title or "").strip() or (rules.title(fields) if rules.title else "")
    if not title:
        raise RuleViolation(_("Give the item a title."))
    item = new_item(meeting, kind, title, body=(body or "").strip()[:20000] or None, **fields)
    record_audit(actor, "agenda.add", "agenda_item", item.id,
                 details={"meeting_id": meeting.id, "kind": kind, "title": item.title})
    return item


def close_item(actor, item_id):
    """The presiding member closes the vote; the tally is computed now, once and for all."""
    item = db.session.execute(
        select(AgendaItem).where(AgendaItem.id == item_id).with_for_update()
    ).scalar_one_or_none()  # waits for votes in flight (they hold the row FOR SHARE)
    if item is None:
        raise NotFound(_("No such agenda item."))
    meeting = item.meeting
    if not can_preside(actor, meeting):
        raise NotAllowed(_("Only the presiding member or the committee chair closes a vote."))
    if meeting.status != "convened" or not check_in_open(meeting):
        raise RuleViolation(_("The meeting is not in session."), status=409)
    if item.status != "open":
        raise RuleViolation(_("This item is already closed."), status=409)
    now = clock.now()
    if item.takes_vote:
        count_votes(item)
        effect = KINDS[item.kind].passed if item.passed else KINDS[item.kind].failed
        if effect is not None:
            effect(actor, item)
    item.status = "closed"
    item.closed_at = now
    item.closed_by_id = actor.id
    db.session.flush()
    record_audit(actor, "agenda.close", "agenda_item", item.id, details={
        "meeting_id": meeting.id, "kind": item.kind, "yes": item.yes, "no": item.no,
        "abstain": item.abstain, "attending": item.attending, "passed": item.passed})
    return item
