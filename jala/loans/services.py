"""Borrowing rules shared by cards, holds, interlibrary loans and union loans.

Who may borrow, the settings an admin can change, which libraries a member of staff works
for, the loan timers' times of day, and the emails to readers. The four kinds of borrowing
live next door: ``cards.py``, ``holds.py``, ``ill.py`` and ``union.py``; the reminder and
overdue timers are in ``reminders.py``.
"""
from datetime import datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from jala import clock
from jala.accounts.models import Library
from jala.errors import NotAllowed, RuleViolation
from jala.extensions import db
from jala.mail import notify
from jala.membership import is_member, library_name, member_library_ids
from jala.permissions import require_staff_of, staff_library_ids
from jala.settings import declare, get_setting

declare("loans.card_valid_days", 365, 30, 5 * 365, _l("Interlibrary card validity"), _l("days"))
declare("loans.hold_pickup_days", 7, 1, 60, _l("Days a ready hold waits for its reader"),
        _l("days"))
declare("loans.holds_per_reader", 10, 0, 100, _l("Live holds per reader"))
declare("loans.ill_open_per_reader", 5, 0, 100, _l("Open interlibrary loans per reader"))
declare("loans.ill_open_per_library", 200, 0, 10000,
        _l("Open interlibrary loans one library lends at a time"))
declare("loans.ill_loan_days", 30, 1, 180, _l("Interlibrary loan period"), _l("days"))
declare("loans.union_open_per_reader", 5, 0, 100, _l("Open union loans per reader"))
declare("loans.union_open_per_library", 300, 0, 10000,
        _l("Open union loans one library lends at a time"))
declare("loans.union_loan_days", 30, 1, 180, _l("Union loan period"), _l("days"))
declare("loans.renewal_days", 14, 1, 90, _l("Days one renewal adds to a loan"), _l("days"))
declare("loans.max_renewals", 1, 0, 10, _l("Renewals per loan"))
declare("loans.reminder_days", 3, 0, 30, _l("Due-date reminder, days before the due date"),
        _l("days"))
declare("loans.overdue_interval_days", 7, 1, 60, _l("Days between overdue notices"), _l("days"))
declare("loans.overdue_notices", 3, 1, 10, _l("Overdue notices per loan"))

# reminders and notices go out in the morning, local time
REMIND_AT = time(9, 0)
# namespace of the advisory locks that serialise one reader's new loans (their limits)
_READER_LOCK = 7201
_LENDER_LOCK = 7202


# --- who may borrow ---------------------------------------------------------------------------

def borrowing_problem(user, *, staff_view=False):
    """Why ``user`` may not borrow through the alliance now (None if they may).

    ``staff_view`` words it for the librarian at the desk instead of for the reader.
    """
    today = clock.local_today()
    if user.is_public_user:
        return _("Public users cannot borrow: borrowing is for readers of member libraries.")
    if user.disabled_at is not None:
        return _("This account is disabled.")
    if not is_member(user.home_library, today):
        if staff_view:
            return _("The reader's library has left the alliance, so its readers can no longer "
                     "borrow from other member libraries.")
        return _("Your library has left the alliance, so its readers can no longer borrow "
                 "through the alliance.")
    if user.verified_at is None:
        if staff_view:
            return _("The reader's library card has not been verified by their library yet.")
        return _("Your library card has not been verified yet. Your library will check it "
                 "soon.")
    if user.email_confirmed_at is None and not staff_view:
        return _("Confirm your email address first: notices about your loans are sent there.")
    return None


def check_can_borrow(user, *, staff_view=False):
    """Raise unless ``user`` may borrow through the alliance now."""
    problem = borrowing_problem(user, staff_view=staff_view)
    if problem:
        raise RuleViolation(problem)


def check_library_lends(library):
    """Raise unless ``library`` is a member today (a withdrawn library lends no more)."""
    if not is_member(library):
        raise RuleViolation(_("%(library)s has left the alliance and no longer lends to readers "
                              "of other libraries.", library=library_name(library)))


def lock_reader(reader_id):
    """Serialise one reader's new loans until the transaction ends (so limits hold)."""
    db.session.execute(select(func.pg_advisory_xact_lock(_READER_LOCK, reader_id)))


def insert_unique(row, index_name, message):
    """Add ``row``; if the partial unique index ``index_name`` refuses it, say ``message``."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if constraint != index_name:
            raise
        raise RuleViolation(message, status=409) from exc
    return row


# --- staff --------------------------------------------------------------------------------------

def desk_library_ids(user):
    """The member libraries whose loans desk ``user`` works (a former member's staff: none)."""
    ids = staff_library_ids(user)
    return ids & member_library_ids() if ids else ids


def require_desk_of(user, library_id):
    """Raise unless ``user`` works at ``library_id`` and it is still a member library."""
    require_staff_of(user, library_id)
    library = db.session.get(Library, library_id)
    if library is None or not is_member(library):
        raise NotAllowed(_("Your library has left the alliance: its desk takes no more "
                           "alliance loans."))


def lock_lender(library_id):
    """Serialise new loans from one library until the transaction ends (its limit holds)."""
    db.session.execute(select(func.pg_advisory_xact_lock(_LENDER_LOCK, library_id)))


def staff_libraries(user):
    """The libraries ``user`` works for, in code order."""
    ids = desk_library_ids(user)
    if not ids:
        return []
    return db.session.execute(
        select(Library).where(Library.id.in_(ids)).order_by(Library.code)).scalars().all()


# --- dates ---------------------------------------------------------------------------------------

def morning_of(day):
    """The moment reminders go out on ``day`` (09:00 in Shanghai)."""
    return datetime.combine(day, REMIND_AT, tzinfo=clock.SHANGHAI)


def first_reminder_at(due_on):
    """When to remind a reader of ``due_on``: some days before, or else the day after it."""
    before = morning_of(due_on - timedelta(days=get_setting("loans.reminder_days")))
    if before > clock.now():
        return before
    return morning_of(due_on + timedelta(days=1))  # too late to remind: the overdue check


def is_overdue(due_on):
    """Whether a loan due on ``due_on`` is overdue today."""
    return due_on is not None and clock.local_today() > due_on


# --- words and emails ------------------------------------------------------------------------

def signature():
    """The closing line of every loans email."""
    return _("Jiangxi Academic Library Alliance")


def email_reader(reader, what, *, related, library_id, **context):
    """Email ``reader`` the loans notice ``what`` (e.g. ``hold_ready``), in their language.

    The text is ``templates/email/loans_<what>.txt``, the outbox kind ``loans.<what>``; the
    template may call ``library_name`` and ``signature``, which word it in that language.
    """
    notify(reader, f"loans_{what}", kind=f"loans.{what}", related=related,
           library_id=library_id, signature=signature, **context)
