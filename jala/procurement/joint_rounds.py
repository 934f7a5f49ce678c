"""Procurement rounds (采购批次): the centre buys pledged titles together.

``TRANSITIONS`` is the whole lifecycle: the round's status and the action give the new
status; only the procurement centre (the chair library's portal admins) acts. A round whose
pledged total is above ``procurement.committee_threshold`` yuan goes to a committee meeting
as an ``expense`` agenda item (the kind the committee already votes large expenses under)
and is ordered only once that item closed passed; a smaller round is ordered directly.
Each title of an ordered round is received on its own: it is linked to its union record
(found by ISBN, or named), the buying library's holding is added so the union search finds
it there, and the readers who suggested it are emailed. The last title received closes the
round as ``received``.

A step locks the round's titles, then the round ``FOR UPDATE`` (title before round, as a
pledge does), so no pledge changes the round's total while it is checked against the
threshold or against the total the committee voted on. A round ordered after the committee
must still add up to the total it voted: otherwise it is cancelled and done again.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from jala import clock
from jala.audit import record_audit
from jala.catalog.models import Holding, Record
from jala.catalog.service import record_by_isbn
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.governance.center import is_center_admin, require_center_admin
from jala.governance.models import Meeting
from jala.governance.resolutions import add_agenda_item
from jala.mail import notify
from jala.procurement.joint_models import Pledge, ProcurementRound, ProcurementTitle
from jala.procurement.lifecycle import find_record
from jala.procurement.models import PurchaseSuggestion
from jala.search.normalize import normalize_key_part
from jala.settings import declare, get_setting
from jala.urls import external_url

NAME_MAX = 200
CALL_NUMBER_MAX = 100

declare("procurement.committee_threshold", 50000, 0, 100_000_000,
        _l("Rounds above this total go to the committee"), _l("yuan"))

# (status, action) → new status; anything not here is refused
TRANSITIONS = {
    ("open", "submit"): "committee",    # onto a meeting's agenda
    ("open", "order"): "ordered",       # at or below the threshold
    ("committee", "order"): "ordered",  # once the committee passed it
    ("open", "cancel"): "cancelled",
    ("committee", "cancel"): "cancelled",
    ("ordered", "receive"): "received",  # taken by the last title received
}
ACTIONS = ("submit", "order", "cancel")


def _lock(round_id):
    row = db.session.execute(select(ProcurementRound).where(ProcurementRound.id == round_id)
                             .with_for_update().execution_options(populate_existing=True)
                             ).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No such procurement round."))
    return row


def create_round(actor, name, title_ids):
    """The centre puts pledged titles of the buying list into a new round."""
    require_center_admin(actor)
    name = " ".join((name or "").split())[:NAME_MAX]
    if not name:
        raise RuleViolation(_("Give the round a name."))
    ids = sorted({int(i) for i in title_ids or () if str(i).isdecimal()})
    if not ids:
        raise RuleViolation(_("Choose the titles to buy in this round."))
    titles = db.session.execute(select(ProcurementTitle).where(ProcurementTitle.id.in_(ids))
                                .order_by(ProcurementTitle.id).with_for_update()
                                .execution_options(populate_existing=True)).scalars().all()
    if len(titles) != len(ids):
        raise NotFound(_("No such title."))
    for title in titles:
        if title.round_id is not None or title.received_at is not None:
            raise RuleViolation(_("“%(title)s” is in another round already.",
                                  title=title.title), status=409)
        if not title.active_pledges:
            raise RuleViolation(_("No library has pledged for “%(title)s” yet.",
                                  title=title.title))
    row = ProcurementRound(name=name, status="open", created_by_id=actor.id,
                           created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    for title in titles:
        title.round_id = row.id
    db.session.flush()
    db.session.expire(row, ["titles"])
    record_audit(actor, "procurement.round_create", "procurement_round", row.id,
                 details={"name": name, "titles": ids, "total": str(row.pledged_total)})
    return row


def needs_committee(row):
    """Whether the round's pledged total is above the threshold the committee decides over."""
    return row.pledged_total > get_setting("procurement.committee_threshold")


def committee_decision(row):
    """``None`` while the committee has not decided, else whether it passed the round."""
    item = row.agenda_item
    if item is None or item.status != "closed":
        return None
    return bool(item.passed)


def step(actor, round_id, action, *, meeting_id=None):
    """Take ``action`` on a round if ``TRANSITIONS`` allows it from its status."""
    require_center_admin(actor)
    if action not in ACTIONS:
        raise NotFound(_("No such step."))
    # the titles first, then the round: the order pledges lock them in (no deadlock)
    db.session.execute(select(ProcurementTitle).where(ProcurementTitle.round_id == round_id)
                       .order_by(ProcurementTitle.id).with_for_update()
                       .options(selectinload(ProcurementTitle.pledges))
                       .execution_options(populate_existing=True)).scalars().all()
    row = _lock(round_id)
    target = TRANSITIONS.get((row.status, action))
    if target is None:
        raise RuleViolation(_("The round is %(status)s: “%(action)s” is not possible now.",
                              status=round_status_label(row.status),
                              action=round_action_label(action)), status=409)
    before = row.status
    details = _RULES[action](actor, row, meeting_id=meeting_id)
    row.status = target
    db.session.flush()
    record_audit(actor, f"procurement.round_{action}", "procurement_round", row.id,
                 details={"from": before, "to": target, **details})
    return row


def _submit(actor, row, *, meeting_id, **_given):
    if not meeting_id:
        raise RuleViolation(_("Choose the committee meeting."))
    total = row.pledged_total
    body = "\n".join(_("%(title)s: %(amount)s yuan pledged", title=t.title,
                       amount=t.pledged_total) for t in row.titles)
    item = add_agenda_item(actor, meeting_id, kind="expense", amount=total, body=body,
                           title=_("Joint procurement round: %(name)s", name=row.name))
    row.total = total
    row.agenda_item_id = item.id
    return {"meeting_id": meeting_id, "agenda_item_id": item.id, "total": str(total)}


def _order(_actor, row, **_given):
    if row.status == "open" and needs_committee(row):
        raise RuleViolation(_("The pledged total is above %(limit)s yuan: the committee decides "
                              "this round first.",
                              limit=get_setting("procurement.committee_threshold")), status=409)
    if row.status == "committee":
        decision = committee_decision(row)
        if decision is None:
            raise RuleViolation(_("The committee has not decided on this round yet."),
                                status=409)
        if not decision:
            raise RuleViolation(_("The committee did not pass this round: cancel it."),
                                status=409)
        if row.pledged_total != row.total:
            raise RuleViolation(_("The pledges add up to %(now)s yuan, not the %(voted)s yuan the "
                                  "committee decided on: cancel the round and start it again.",
                                  now=row.pledged_total, voted=row.total), status=409)
    if not row.titles:
        raise RuleViolation(_("The round has no titles."))
    row.ordered_at = clock.now()
    row.total = row.pledged_total
    return {"total": str(row.total)}


def _cancel(_actor, row, **_given):
    released = [t.id for t in row.titles]
    for title in row.titles:
        title.round_id = None
    row.closed_at = clock.now()
    db.session.flush()
    db.session.expire(row, ["titles"])
    return {"released": released}


_RULES = {"submit": _submit, "order": _order, "cancel": _cancel}


# --- receiving ----------------------------------------------------------------------------------

def buying_library_id(title):
    """The library that buys the copy: the one that pledged to buy it, else the largest share."""
    pledges = title.active_pledges
    buyers = [p for p in pledges if p.kind == "buy"]
    chosen = buyers[0] if buyers else max(pledges, key=lambda p: (p.amount, -p.id))
    return chosen.library_id


def add_holding(record, library_id, call_number=None):
    """The library's copy of ``record`` (added unless it has one), counted for the search."""
    holding = db.session.execute(select(Holding).where(Holding.record_id == record.id,
                                                       Holding.library_id == library_id)
                                 ).scalars().first()
    if holding is not None:
        return holding
    now = clock.now()
    holding = Holding(record_id=record.id, library_id=library_id, call_number=call_number,
                      status="available", updated_at=now)
    db.session.add(holding)
    db.session.flush()
    # as an import does (catalog.batches._count_holdings): the search reads these columns
    # (never empty: the holding above is there)
    libraries = select(func.array_agg(func.distinct(Holding.library_id))) \
        .where(Holding.record_id == record.id).scalar_subquery()
    db.session.execute(update(Record).where(Record.id == record.id).values(
        holdings_count=select(func.count(func.distinct(Holding.library_id)))
        .where(Holding.record_id == record.id).scalar_subquery(),
        library_ids=libraries, updated_at=now).execution_options(synchronize_session=False))
    db.session.expire(record)
    return holding


def receive_title(actor, title_id, *, record_id=None, call_number=None):
    """A title of an ordered round has arrived: its record, the holding, the readers told."""
    require_center_admin(actor)
    title = db.session.execute(select(ProcurementTitle).where(ProcurementTitle.id == title_id)
                               .with_for_update()).scalar_one_or_none()
    if title is None:
        raise NotFound(_("No such title."))
    row = _lock(title.round_id) if title.round_id else None
    if row is None or row.status != "ordered":
        raise RuleViolation(_("Only titles of an ordered round are received."), status=409)
    if title.received_at is not None:
        raise RuleViolation(_("“%(title)s” has been received already.", title=title.title),
                            status=409)
    record = find_record(record_id) if str(record_id or "").strip() else None
    record = record or (record_by_isbn(title.isbn) if title.isbn else None)
    if record is None:
        raise RuleViolation(_("No union record has this title's ISBN yet: give the record's id "
                              "or address."))
    library_id = buying_library_id(title)
    call_number = " ".join((call_number or "").split())[:CALL_NUMBER_MAX] or None
    holding = add_holding(record, library_id, call_number)
    title.record_id, title.holding_library_id = record.id, library_id
    title.received_at = clock.now()
    db.session.flush()
    told = _email_readers(title, record)
    record_audit(actor, "procurement.title_receive", "procurement_title", title.id,
                 library_id=library_id,
                 details={"round_id": row.id, "record_id": record.id, "holding_id": holding.id,
                          "readers_told": len(told)})
    if all(t.received_at is not None for t in row.titles):
        row.status = TRANSITIONS[("ordered", "receive")]
        row.received_at = clock.now()
        db.session.flush()
        record_audit(actor, "procurement.round_receive", "procurement_round", row.id,
                     details={"from": "ordered", "to": row.status})
    return title


def _email_readers(title, record):
    """Email each reader whose suggestion of this title is not yet marked available, once."""
    matches = [PurchaseSuggestion.title_key == normalize_key_part(title.title)]
    if title.isbn:
        matches.append(PurchaseSuggestion.isbn == title.isbn)
    suggestions = db.session.execute(
        select(PurchaseSuggestion).where(or_(*matches),
                                         PurchaseSuggestion.status != "available")
        .order_by(PurchaseSuggestion.id)).scalars().all()
    told = {}
    for suggestion in suggestions:
        if suggestion.record_id is None:
            suggestion.record_id = record.id
        if suggestion.reader_id in told:
            continue
        told[suggestion.reader_id] = notify(
            suggestion.reader, "procurement_joint_received", kind="procurement.joint_received",
            related=("procurement_title", title.id), library_id=suggestion.library_id,
            title=title, suggestion=suggestion, library=title.holding_library,
            record_link=external_url("catalog.record", record_id=record.id))
    db.session.flush()
    return told


# --- lists and words ----------------------------------------------------------------------------

def titles_ready(limit=200):
    """Titles with pledges, in no round and not received: what a new round can take."""
    titles = db.session.execute(
        select(ProcurementTitle).where(ProcurementTitle.round_id.is_(None),
                                       ProcurementTitle.received_at.is_(None))
        .options(selectinload(ProcurementTitle.pledges).selectinload(Pledge.library))
        .order_by(ProcurementTitle.id).limit(limit)).scalars().all()
    return [t for t in titles if t.active_pledges]


def get_round(round_id):
    """A round by id, or NotFound."""
    row = db.session.execute(
        select(ProcurementRound).where(ProcurementRound.id == round_id)
        .options(selectinload(ProcurementRound.titles).selectinload(ProcurementTitle.pledges)
                 .selectinload(Pledge.library))).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No such procurement round."))
    return row


def meetings_for_agenda():
    """Committee meetings whose agenda can still take the round, soonest first."""
    return db.session.execute(select(Meeting).where(Meeting.status != "closed")
                              .order_by(Meeting.starts_at)).scalars().all()


def rounds(limit=100):
    """Rounds, newest first."""
    return db.session.execute(
        select(ProcurementRound).options(selectinload(ProcurementRound.titles))
        .order_by(ProcurementRound.id.desc()).limit(limit)).scalars().all()


def available_actions(user, row):
    """The steps ``user`` may take on the round now (the page's buttons)."""
    if not is_center_admin(user):
        return []
    return [action for action in ACTIONS if (row.status, action) in TRANSITIONS]


def round_status_label(status):
    """Where a round stands, in the user's language."""
    return {"open": _("open for pledges"), "committee": _("before the committee"),
            "ordered": _("ordered"), "received": _("all titles received"),
            "cancelled": _("cancelled")}.get(status, status)


def round_action_label(action):
    """A round step's name, in the user's language."""
    return {"submit": _("Send to the committee"), "order": _("Mark the round ordered"),
            "cancel": _("Cancel the round")}.get(action, action)
