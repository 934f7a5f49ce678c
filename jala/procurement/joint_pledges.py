"""Pledges (认购): a member library promises to buy a listed title, or to share its cost.

Staff of a member library (librarians, library admins) pledge for their own library; a
library has at most one active pledge per title (to change it, it withdraws and pledges
again). The first pledge for a line of the buying list keeps that line as a
``ProcurementTitle``. Pledges are fixed once the title's round has gone beyond ``open``
(the committee and the supplier were given those amounts).

Locks, always title before round (as ``joint_rounds.step`` takes them): a pledge or a
withdrawal locks the title row, then its round ``FOR SHARE`` before reading the round's
status, so a round step (``FOR UPDATE``) waits for it or it waits for the step — a pledge can
never slip in between the committee's vote, or the threshold check, and the order.
"""
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from jala import clock
from jala.accounts.models import Library
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance.center import is_center_admin
from jala.membership import is_member, serves_member_library
from jala.permissions import can_staff_library, require_staff_of, staff_library_ids
from jala.procurement.buying_list import find_line
from jala.procurement.joint_models import (
    PLEDGE_KINDS,
    Pledge,
    ProcurementRound,
    ProcurementTitle,
)

AMOUNT_MAX = Decimal("100000000")


def can_see_joint_procurement(user):
    """Staff of member libraries and the procurement centre see the buying list and rounds."""
    return is_center_admin(user) or serves_member_library(user)


def require_joint_reader(user):
    """Raise unless ``user`` may see the buying list and the rounds."""
    if not can_see_joint_procurement(user):
        raise NotAllowed(_("Joint procurement is for the staff of member libraries."))


def pledging_libraries(user):
    """The member libraries ``user`` may pledge for (those they work for)."""
    ids = staff_library_ids(user)
    if not ids:
        return []
    libraries = db.session.execute(select(Library).where(Library.id.in_(ids))
                                   .order_by(Library.id)).scalars().all()
    return [library for library in libraries if is_member(library)]


def parse_amount(value):
    """Yuan with at most two decimals, more than zero."""
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, AttributeError) as exc:
        raise RuleViolation(_("Give the amount in yuan, for example 120.50.")) from exc
    if not amount.is_finite() or amount <= 0 or amount > AMOUNT_MAX \
            or amount != amount.quantize(Decimal("0.01")):
        raise RuleViolation(_("Give the amount in yuan, for example 120.50."))
    return amount.quantize(Decimal("0.01"))


def _title_for(key):
    """The title row of a buying-list line, made on its first pledge (once, under races)."""
    if db.session.execute(select(ProcurementTitle.id).where(ProcurementTitle.key == key)
                          ).first() is None:
        line = find_line(key)
        if line is None:
            raise NotFound(_("This title is no longer on the buying list."))
        db.session.execute(insert(ProcurementTitle).values(
            key=key, title=line.title[:500], isbn=line.isbn, created_at=clock.now())
            .on_conflict_do_nothing(index_elements=["key"]))
    return _lock_title(ProcurementTitle.key == key)


def _lock_title(where):
    """The title row, locked and read afresh (whatever this session held of it)."""
    return db.session.execute(select(ProcurementTitle).where(where).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def check_pledges_open(title):
    """Raise unless the title's pledges may still change (the caller locked the title).

    The title's round, if any, is locked ``FOR SHARE`` first: its status cannot change
    until this transaction ends.
    """
    if title.received_at is not None:
        raise RuleViolation(_("“%(title)s” has been bought already.", title=title.title),
                            status=409)
    round_ = None
    if title.round_id is not None:
        round_ = db.session.execute(
            select(ProcurementRound).where(ProcurementRound.id == title.round_id)
            .with_for_update(read=True).execution_options(populate_existing=True)).scalar_one()
    if round_ is not None and round_.status != "open":
        raise RuleViolation(_("“%(title)s” is in a round that has gone to the committee or been "
                              "ordered: its pledges are fixed.", title=title.title), status=409)


def pledge(actor, key, *, library_id, kind, amount):
    """A library pledges to buy a title of the buying list, or to share its cost."""
    require_staff_of(actor, library_id)
    library = db.session.get(Library, library_id)
    if library is None or not is_member(library):
        raise RuleViolation(_("Only member libraries pledge."))
    if kind not in PLEDGE_KINDS:
        raise RuleViolation(_("Choose to buy the title or to share its cost."))
    amount = parse_amount(amount)
    title = _title_for(key)
    check_pledges_open(title)
    if any(p.library_id == library_id for p in title.active_pledges):
        raise RuleViolation(_("%(library)s has pledged for this title already: withdraw that "
                              "pledge to change it.", library=library.name_zh), status=409)
    row = Pledge(title_id=title.id, library_id=library_id, user_id=actor.id, kind=kind,
                 amount=amount, status="active", created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    db.session.expire(title, ["pledges"])
    record_audit(actor, "procurement.pledge", "procurement_pledge", row.id, library_id=library_id,
                 details={"title_id": title.id, "key": key, "kind": kind, "amount": str(amount)})
    return row


def withdraw(actor, pledge_id):
    """The library takes its pledge back while the title's round is still open."""
    row = db.session.execute(select(Pledge).where(Pledge.id == pledge_id)
                             .with_for_update()).scalar_one_or_none()
    if row is None or not can_staff_library(actor, row.library_id):
        raise NotFound(_("No such pledge."))
    if row.status != "active":
        raise RuleViolation(_("This pledge has been withdrawn already."), status=409)
    check_pledges_open(_lock_title(ProcurementTitle.id == row.title_id))
    row.status = "withdrawn"
    row.withdrawn_at = clock.now()
    db.session.flush()
    db.session.expire(row.title, ["pledges"])
    record_audit(actor, "procurement.pledge_withdraw", "procurement_pledge", row.id,
                 library_id=row.library_id,
                 details={"title_id": row.title_id, "amount": str(row.amount)})
    return row


def get_title(actor, title_id):
    """A title pledged for, for anyone who may see joint procurement."""
    require_joint_reader(actor)
    title = db.session.get(ProcurementTitle, title_id)
    if title is None:
        raise NotFound(_("No such title."))
    return title
