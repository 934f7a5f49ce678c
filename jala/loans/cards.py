"""Interlibrary cards (馆际互借证): a reader applies, the home library decides, staff verify.

The card's code is random and shown only to its holder (as text and as a QR code holding the
URL of the verification page); staff of any member library type it in or open that URL and
see the reader's name, home library, validity, status and open loans — nothing more.
"""
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from jala import clock
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.loans.models import IllRequest, InterlibraryCard, UnionLoan
from jala.loans.services import (
    borrowing_problem,
    check_can_borrow,
    email_reader,
    insert_unique,
    lock_reader,
    staff_libraries,
)
from jala.membership import is_member, library_name
from jala.permissions import can_staff_library, require_staff_of
from jala.settings import get_setting
from jala.urls import external_url

# Crockford's base 32: no I, L, O or U, so a code read aloud or typed is hard to get wrong
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 random bits
_TYPO_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_card_code():
    """A fresh random card code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text):
    """A typed code (any case, with spaces or dashes, O for 0) as stored, or None."""
    code = "".join((text or "").upper().split()).replace("-", "").translate(_TYPO_FIXES)
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def format_code(code):
    """The code in groups of four, for reading and typing."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def verification_url(card):
    """What the card's QR code holds: the staff verification page for this card."""
    return external_url("loans.verify_card", code=card.code)


# --- the reader ------------------------------------------------------------------------------

def card_state(card, today=None):
    """``requested``, ``valid``, ``expired``, ``refused`` or ``revoked``."""
    if card.status == "approved":
        today = today or clock.local_today()
        return "valid" if card.valid_until and card.valid_until >= today else "expired"
    return card.status


def current_card(reader):
    """The reader's live card or application, else their latest decided one (or None)."""
    return db.session.execute(
        select(InterlibraryCard).where(InterlibraryCard.reader_id == reader.id)
        .order_by(InterlibraryCard.status.in_(("requested", "approved")).desc(),
                  InterlibraryCard.id.desc()).limit(1)
    ).scalar_one_or_none()


def apply_for_card(reader):
    """The reader applies for a card, or for a new term of an expired one."""
    check_can_borrow(reader)
    lock_reader(reader.id)
    live = db.session.execute(
        select(InterlibraryCard).where(InterlibraryCard.reader_id == reader.id,
                                       InterlibraryCard.status.in_(("requested", "approved")))
        .with_for_update()
    ).scalar_one_or_none()
    now = clock.now()
    if live is not None:
        state = card_state(live)
        if state == "requested":
            raise RuleViolation(_("You have already applied. Your library will decide soon."),
                                status=409)
        if state == "valid":
            raise RuleViolation(_("You already have a valid interlibrary card (until "
                                  "%(date)s).", date=live.valid_until.isoformat()), status=409)
        # expired: the same card (and code) goes back to the library for a new term
        live.status = "requested"
        live.requested_at = now
        live.decided_at = live.decided_by_id = live.reason = None
        return live
    card = InterlibraryCard(reader_id=reader.id, library_id=reader.home_library_id,
                            status="requested", code=new_card_code(), requested_at=now)
    return insert_unique(card, "uq_interlibrary_cards_one_live",
                         _("You already have an interlibrary card or an application."))


# --- the home library ----------------------------------------------------------------------------

def _lock_card_for_staff(staff, card_id, statuses):
    card = db.session.execute(
        select(InterlibraryCard).where(InterlibraryCard.id == card_id).with_for_update()
    ).scalar_one_or_none()
    if card is None or not can_staff_library(staff, card.library_id):
        raise NotFound(_("No such card at your library."))
    if card.status not in statuses:
        raise RuleViolation(_("Card %(id)d is already %(status)s.", id=card.id,
                              status=card_status_label(card_state(card))), status=409)
    return card


def _decide(staff, card, status, reason=None):
    card.status = status
    card.decided_at = clock.now()
    card.decided_by_id = staff.id
    card.reason = reason


def _email(card, what, **context):
    email_reader(card.reader, what, related=("interlibrary_card", card.id),
                 library_id=card.library_id, card=card, **context)


def approve_card(staff, card_id):
    """The home library approves an application: the card is valid for the set period."""
    card = _lock_card_for_staff(staff, card_id, ("requested",))
    problem = borrowing_problem(card.reader, staff_view=True)
    if problem:
        raise RuleViolation(problem)
    _decide(staff, card, "approved")
    card.valid_until = clock.local_today() + timedelta(days=get_setting("loans.card_valid_days"))
    record_audit(staff, "card.approve", "interlibrary_card", card.id, library_id=card.library_id,
                 details={"reader_id": card.reader_id,
                          "valid_until": card.valid_until.isoformat()})
    _email(card, "card_approved", link=external_url("loans.my_card"))
    return card


def refuse_card(staff, card_id, reason):
    """The home library refuses an application, with a reason the reader is told."""
    return _close_with_reason(staff, card_id, reason, "refuse", was="requested", becomes="refused")


def revoke_card(staff, card_id, reason):
    """The home library withdraws an approved card (lost, misused); the reader is told."""
    return _close_with_reason(staff, card_id, reason, "revoke", was="approved", becomes="revoked")


def _close_with_reason(staff, card_id, reason, action, *, was, becomes):
    reason = (reason or "").strip()[:1000]
    if not reason:
        raise RuleViolation(_("Give a reason: the reader is told."))
    card = _lock_card_for_staff(staff, card_id, (was,))
    _decide(staff, card, becomes, reason)
    record_audit(staff, f"card.{action}", "interlibrary_card", card.id,
                 library_id=card.library_id, details={"reader_id": card.reader_id,
                                                      "reason": reason})
    _email(card, f"card_{becomes}")
    return card


def library_cards(staff, library, view="requested", limit=200):
    """Applications waiting (``requested``), or the library's ``approved`` cards, or ``done``."""
    require_staff_of(staff, library.id)
    query = select(InterlibraryCard).where(InterlibraryCard.library_id == library.id)
    if view == "approved":
        query = query.where(InterlibraryCard.status == "approved").order_by(
            InterlibraryCard.valid_until, InterlibraryCard.id)
    elif view == "done":
        query = query.where(InterlibraryCard.status.in_(("refused", "revoked"))).order_by(
            InterlibraryCard.decided_at.desc())
    else:
        query = query.where(InterlibraryCard.status == "requested").order_by(
            InterlibraryCard.requested_at, InterlibraryCard.id)
    return db.session.execute(query.limit(limit)).scalars().all()


def get_card_for_staff(staff, card_id):
    """A card its home library's staff may see."""
    card = db.session.get(InterlibraryCard, card_id)
    if card is None or not can_staff_library(staff, card.library_id):
        raise NotFound(_("No such card at your library."))
    return card


# --- staff of any member library: verification -------------------------------------------------

@dataclass(frozen=True)
class CardCheck:
    """What the verification page shows, and nothing more."""

    card_id: int
    library_id: int
    name: str
    home_library: str
    valid_until: object
    state: str
    open_loans: int
    problem: str | None

    @property
    def valid(self):
        return self.problem is None


def open_loans_count(reader_id):
    """Loans the reader has out now: union loans on loan and interlibrary loans on loan."""
    union = db.session.execute(
        select(func.count()).select_from(UnionLoan).where(UnionLoan.reader_id == reader_id,
                                                          UnionLoan.status == "on_loan")
    ).scalar_one()
    ill = db.session.execute(
        select(func.count()).select_from(IllRequest).where(IllRequest.reader_id == reader_id,
                                                           IllRequest.status == "on_loan")
    ).scalar_one()
    return union + ill


def card_problem(card):
    """Why the card gives no right to borrow now (None if it does), for staff at the desk."""
    state = card_state(card)
    if state == "requested":
        return _("This card has not been approved by the reader's library.")
    if state == "refused":
        return _("The reader's library refused this card.")
    if state == "revoked":
        return _("The reader's library has withdrawn this card.")
    if state == "expired":
        return _("This card expired on %(date)s.", date=card.valid_until.isoformat())
    return borrowing_problem(card.reader, staff_view=True)


def require_desk_staff(staff):
    """Raise unless ``staff`` works for a library that is a member today."""
    today = clock.local_today()
    if not any(is_member(lib, today) for lib in staff_libraries(staff)):
        raise NotAllowed(_("Only librarians of member libraries can verify interlibrary cards."))


def find_card(code):
    """The card with this (typed) code, or NotFound."""
    value = normalise_code(code)
    card = value and db.session.execute(
        select(InterlibraryCard).where(InterlibraryCard.code == value)).scalar_one_or_none()
    if not card:
        raise NotFound(_("No interlibrary card has the code %(code)s.", code=(code or "")[:40]))
    return card


def verify_card(staff, code):
    """A member library's staff check a card shown at their desk (the check is audited)."""
    require_desk_staff(staff)
    card = find_card(code)
    check = CardCheck(card_id=card.id, library_id=card.library_id, name=card.reader.display_name,
                      home_library=library_name(card.library), valid_until=card.valid_until,
                      state=card_state(card), open_loans=open_loans_count(card.reader_id),
                      problem=card_problem(card))
    record_audit(staff, "card.verify", "interlibrary_card", card.id, library_id=card.library_id,
                 details={"valid": check.valid})
    return check


def card_status_label(state):
    """A card state in the user's language."""
    return {
        "requested": _("waiting for approval"),
        "approved": _("approved"),
        "valid": _("valid"),
        "expired": _("expired"),
        "refused": _("refused"),
        "revoked": _("withdrawn"),
    }.get(state, state)
