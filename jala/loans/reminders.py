"""Due-date reminders and overdue notices for interlibrary and union loans (sweep tasks).

Each loan on loan carries ``remind_at``: first the reminder a few days before the due date,
then, once it is overdue, a notice every few days up to a set number. Sending one moves
``remind_at`` on, in the same transaction as its outbox email, so a notice goes out once.
"""
from datetime import timedelta

from sqlalchemy import select

from jala import clock
from jala.extensions import db
from jala.jobs import sweep_task
from jala.loans.ill import email_reader_of
from jala.loans.models import IllRequest, UnionLoan
from jala.loans.services import email_reader, morning_of
from jala.settings import get_setting
from jala.urls import external_url

BATCH = 200


def _next_notice(loan, email):
    """Email what is due for ``loan`` now (``reminder`` or ``overdue``); set its next time."""
    today = clock.local_today()
    if today <= loan.due_on:
        email(loan, "reminder")
        loan.remind_at = morning_of(loan.due_on + timedelta(days=1))
        return
    loan.overdue_notices += 1
    email(loan, "overdue", days=(today - loan.due_on).days)
    if loan.overdue_notices < get_setting("loans.overdue_notices"):
        loan.remind_at = clock.now() + timedelta(days=get_setting("loans.overdue_interval_days"))
    else:
        loan.remind_at = None


def _email_ill(req, notice, **context):
    email_reader_of(req, f"ill_{notice}", **context)


def _email_union(loan, notice, **context):
    email_reader(loan.reader, f"union_{notice}", related=("union_loan", loan.id),
                 library_id=loan.lending_library_id, loan=loan,
                 link=external_url("loans.my_loans"), **context)


def _send_due_notices(model, email):
    """Send the notices due now for loans of ``model``; how many loans had one."""
    rows = db.session.execute(
        select(model).where(model.status == "on_loan", model.remind_at <= clock.now())
        .order_by(model.remind_at).limit(BATCH).with_for_update(skip_locked=True)
    ).scalars().all()
    for loan in rows:
        _next_notice(loan, email)
    return len(rows)


@sweep_task
def remind_interlibrary_loans():
    """Due-date reminders and overdue notices for interlibrary loans."""
    return _send_due_notices(IllRequest, _email_ill)


@sweep_task
def remind_union_loans():
    """Due-date reminders and overdue notices for union loans."""
    return _send_due_notices(UnionLoan, _email_union)
