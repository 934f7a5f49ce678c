"""Union borrowing (通借通还): borrow in person at any member library, return at any.

The lending library's staff record the loan with the reader's interlibrary card code and the
item's barcode. A return at the lending library closes the loan; a return elsewhere puts the
item in transit until the lending library's staff confirm it has arrived.
"""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import Library
from jala.audit import AuditEntry, record_audit
from jala.catalog.models import Holding, Record
from jala.catalog.service import record_by_isbn
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.loans.cards import card_problem, find_card
from jala.loans.models import InterlibraryCard, UnionLoan
from jala.loans.services import (
    check_can_borrow,
    check_library_lends,
    desk_library_ids,
    first_reminder_at,
    insert_unique,
    is_overdue,
    lock_lender,
    lock_reader,
    require_desk_of,
)
from jala.membership import library_name
from jala.permissions import can_staff_library, require_staff_of
from jala.search.normalize import canonical_isbn
from jala.settings import get_setting

OPEN = ("on_loan", "in_transit")


def open_count(**where):
    """Union loans on loan matching ``where`` (``reader_id=`` or ``lending_library_id=``)."""
    query = select(func.count()).select_from(UnionLoan).where(UnionLoan.status == "on_loan")
    for column, value in where.items():
        query = query.where(getattr(UnionLoan, column) == value)
    return db.session.execute(query).scalar_one()


def find_record(reference):
    """A record named by its number in the portal or by an ISBN (None if nothing is given)."""
    reference = (reference or "").strip()
    if not reference:
        return None
    isbn = canonical_isbn(reference)
    record = record_by_isbn(isbn) if isbn else None
    if record is not None:
        return record
    if reference.isdecimal() and len(reference) < 19:
        record = db.session.get(Record, int(reference))
        if record is not None:
            return record
    raise RuleViolation(_("No record in the union catalogue has the number or ISBN "
                          "%(ref)s. Leave the field empty if you do not know it.",
                          ref=reference[:40]))


def lend(staff, library_id, *, card_code, item_barcode, record_ref=None):
    """Record a loan at the lending library's desk to the holder of an interlibrary card."""
    require_desk_of(staff, library_id)
    library = db.session.get(Library, library_id)
    check_library_lends(library)
    barcode = "".join((item_barcode or "").split())
    if not barcode or len(barcode) > 60:
        raise RuleViolation(_("Scan or type the item's barcode (at most 60 characters)."))
    card = find_card(card_code)
    card = db.session.execute(
        select(InterlibraryCard).where(InterlibraryCard.id == card.id).with_for_update(read=True)
    ).scalar_one()
    problem = card_problem(card)
    if problem:
        raise RuleViolation(problem)
    reader = card.reader
    check_can_borrow(reader, staff_view=True)
    if reader.home_library_id == library_id:
        raise RuleViolation(_("This is the reader's own library: lend with your library's own "
                              "system and card."))
    record = find_record(record_ref)
    lock_reader(reader.id)
    per_reader = get_setting("loans.union_open_per_reader")
    if open_count(reader_id=reader.id) >= per_reader:
        raise RuleViolation(_("The reader has %(n)d union loans out, the limit.", n=per_reader))
    per_library = get_setting("loans.union_open_per_library")
    lock_lender(library_id)
    if open_count(lending_library_id=library_id) >= per_library:
        raise RuleViolation(_("Your library has %(n)d union loans out, the limit set for the "
                              "alliance.", n=per_library))
    holding_id = None
    if record is not None:
        holding_id = db.session.execute(
            select(Holding.id).where(Holding.record_id == record.id,
                                     Holding.library_id == library_id).limit(1)
        ).scalar_one_or_none()
    now = clock.now()
    due_on = clock.local_today() + timedelta(days=get_setting("loans.union_loan_days"))
    loan = UnionLoan(reader_id=reader.id, card_id=card.id,
                     record_id=record.id if record else None, holding_id=holding_id,
                     item_barcode=barcode, lending_library_id=library_id, status="on_loan",
                     borrowed_at=now, due_on=due_on, remind_at=first_reminder_at(due_on),
                     lent_by_id=staff.id)
    insert_unique(loan, "uq_union_loans_one_open_per_item",
                  _("Item %(barcode)s is already out on a union loan from your library. Record "
                    "its return first.", barcode=barcode))
    record_audit(staff, "union.lend", "union_loan", loan.id, library_id=library_id,
                 details={"reader_id": reader.id, "barcode": barcode,
                          "due_on": due_on.isoformat()})
    return loan


def _lock(loan_id):
    loan = db.session.execute(
        select(UnionLoan).where(UnionLoan.id == loan_id).with_for_update()).scalar_one_or_none()
    if loan is None:
        raise NotFound(_("No such union loan."))
    return loan


def take_return(staff, library_id, loan_id):
    """The item comes back at ``library_id``: closed there if it is the owner, else in transit."""
    require_desk_of(staff, library_id)
    loan = _lock(loan_id)
    if loan.status != "on_loan":
        raise RuleViolation(_("Union loan %(id)d is already %(status)s.", id=loan.id,
                              status=union_status_label(loan.status)), status=409)
    now = clock.now()
    loan.returned_at = now
    loan.returned_by_id = staff.id
    loan.return_library_id = library_id
    loan.remind_at = None
    if library_id == loan.lending_library_id:
        loan.status = "closed"
        loan.arrived_at = now
    else:
        loan.status = "in_transit"
    record_audit(staff, "union.return", "union_loan", loan.id, library_id=library_id,
                 details={"to": loan.status, "lending_library_id": loan.lending_library_id})
    return loan


def confirm_arrival(staff, loan_id):
    """The lending library has its item back from the library it was returned at."""
    loan = _lock(loan_id)
    if not can_staff_library(staff, loan.lending_library_id):
        if loan.return_library_id and can_staff_library(staff, loan.return_library_id):
            raise NotAllowed(_("Only staff of the lending library, %(library)s, confirm that "
                               "the item has arrived.",
                               library=library_name(loan.lending_library)))
        raise NotFound(_("No such union loan."))
    if loan.status != "in_transit":
        raise RuleViolation(_("Union loan %(id)d is %(status)s, not in transit.", id=loan.id,
                              status=union_status_label(loan.status)), status=409)
    loan.status = "closed"
    loan.arrived_at = clock.now()
    record_audit(staff, "union.arrived", "union_loan", loan.id,
                 library_id=loan.lending_library_id)
    return loan


def renewals_of(loan):
    """How many times the loan was renewed (each renewal is in the audit log)."""
    return db.session.execute(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "union.renew", AuditEntry.object_type == "union_loan",
            AuditEntry.object_id == str(loan.id))
    ).scalar_one()


def renew(reader, loan_id):
    """The reader extends a union loan (within the renewals allowed, before it is overdue)."""
    loan = _lock(loan_id)
    if loan.reader_id != reader.id:
        raise NotFound(_("No such union loan."))
    if loan.status != "on_loan":
        raise RuleViolation(_("Union loan %(id)d is already %(status)s.", id=loan.id,
                              status=union_status_label(loan.status)), status=409)
    check_can_borrow(reader)
    problem = card_problem(db.session.get(InterlibraryCard, loan.card_id))
    if problem:
        raise RuleViolation(problem)
    if is_overdue(loan.due_on):
        raise RuleViolation(_("This loan is overdue, so it cannot be renewed. Please return "
                              "it to any member library."))
    most = get_setting("loans.max_renewals")
    done = renewals_of(loan)
    if done >= most:
        raise RuleViolation(_("This loan has been renewed %(n)d times, the most allowed.",
                              n=done))
    old = loan.due_on
    loan.due_on = old + timedelta(days=get_setting("loans.renewal_days"))
    loan.remind_at = first_reminder_at(loan.due_on)
    record_audit(reader, "union.renew", "union_loan", loan.id, library_id=loan.lending_library_id,
                 details={"from": old.isoformat(), "to": loan.due_on.isoformat()})
    return loan


# --- lists ------------------------------------------------------------------------------------

def reader_loans(reader, limit=100):
    """The reader's union loans, open ones first."""
    return db.session.execute(
        select(UnionLoan).where(UnionLoan.reader_id == reader.id)
        .order_by(UnionLoan.status.in_(OPEN).desc(), UnionLoan.id.desc()).limit(limit)
    ).scalars().all()


def find_open_by_barcode(staff, barcode):
    """Loans on loan with this barcode, from any library (what the return desk looks up)."""
    if not desk_library_ids(staff):  # member libraries only
        raise NotAllowed(_("Only librarians of member libraries can do this."))
    barcode = "".join((barcode or "").split())
    if not barcode:
        return []
    return db.session.execute(
        select(UnionLoan).where(UnionLoan.item_barcode == barcode,
                                UnionLoan.status == "on_loan").order_by(UnionLoan.id)
    ).scalars().all()


def library_desk(staff, library, limit=200):
    """The union desk's lists: lent by us and out, on their way back to us, sent on by us."""
    require_staff_of(staff, library.id)

    def rows(*where, order=UnionLoan.id):
        return db.session.execute(
            select(UnionLoan).where(*where).order_by(order).limit(limit)).scalars().all()

    return {
        "arriving": rows(UnionLoan.lending_library_id == library.id,
                         UnionLoan.status == "in_transit", order=UnionLoan.returned_at),
        "out": rows(UnionLoan.lending_library_id == library.id, UnionLoan.status == "on_loan",
                    order=UnionLoan.due_on),
        "sent_on": rows(UnionLoan.return_library_id == library.id,
                        UnionLoan.lending_library_id != library.id,
                        UnionLoan.status == "in_transit", order=UnionLoan.returned_at),
    }


def get_for_staff(staff, loan_id):
    """A union loan its lending or return library's staff may see (any desk's, while out)."""
    loan = db.session.get(UnionLoan, loan_id)
    if loan is None or not desk_library_ids(staff) or not (
            can_staff_library(staff, loan.lending_library_id)
            or (loan.return_library_id and can_staff_library(staff, loan.return_library_id))
            or (loan.status == "on_loan" and desk_library_ids(staff))):
        raise NotFound(_("No such union loan."))
    return loan


def union_status_label(status):
    """A union loan status in the user's language."""
    return {"on_loan": _("on loan"), "in_transit": _("returned, in transit"),
            "closed": _("returned")}.get(status, status)
