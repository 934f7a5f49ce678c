"""Due-date reminders and overdue notices for interlibrary and union loans (sweep tasks).

Each loan on loan carries ``remind_at``: first the reminder a few days before the due date,
then, once it is overdue, a notice every few days up to a set number. Sending one moves
``remind_at`` on, in the same transaction as its outbox email, so a notice goes out once.
"""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.extensions import db
from jala.jobs import sweep_task
from jala.loans.models import IllRequest, UnionLoan
from jala.loans.services import email_reader, library_label, morning_of, signature
from jala.settings import get_setting
from jala.urls import external_url

BATCH = 200


def _due(model):
    return db.session.execute(
        select(model).where(model.status == "on_loan", model.remind_at <= clock.now())
        .order_by(model.remind_at).limit(BATCH).with_for_update(skip_locked=True)
    ).scalars().all()


def _next_notice(loan, send_reminder, send_overdue):
    """Send what is due for ``loan`` now and set its next ``remind_at``."""
    today = clock.local_today()
    if today <= loan.due_on:
        send_reminder(loan)
        loan.remind_at = morning_of(loan.due_on + timedelta(days=1))
        return
    loan.overdue_notices += 1
    send_overdue(loan, (today - loan.due_on).days)
    if loan.overdue_notices < get_setting("loans.overdue_notices"):
        loan.remind_at = clock.now() + timedelta(days=get_setting("loans.overdue_interval_days"))
    else:
        loan.remind_at = None


# --- interlibrary loans -------------------------------------------------------------------------

def _ill_reminder(req):
    email_reader(req.reader, "loans.ill_reminder", ("ill_request", req.id), req.home_library_id,
                 lambda: _("Reminder: your interlibrary loan is due on %(date)s",
                           date=req.due_on.isoformat()),
                 lambda: _("Dear %(name)s,\n\n“%(title)s” (from %(lender)s) is due on %(date)s. "
                           "Return it to %(home)s, or renew it if you may:\n%(link)s\n\n"
                           "%(signature)s", name=req.reader.display_name,
                           title=req.record.title, lender=library_label(req.lending_library),
                           date=req.due_on.isoformat(), home=library_label(req.home_library),
                           link=external_url("loans.ill_detail", request_id=req.id),
                           signature=signature()))


def _ill_overdue(req, days):
    email_reader(req.reader, "loans.ill_overdue", ("ill_request", req.id), req.home_library_id,
                 lambda: _("Overdue: your interlibrary loan was due on %(date)s",
                           date=req.due_on.isoformat()),
                 lambda: _("Dear %(name)s,\n\n“%(title)s” was due on %(date)s, %(days)d days "
                           "ago (notice %(n)d). It belongs to %(lender)s, which needs it back: "
                           "please return it to %(home)s now.\n\n%(link)s\n\n%(signature)s",
                           name=req.reader.display_name, title=req.record.title,
                           date=req.due_on.isoformat(), days=days, n=req.overdue_notices,
                           lender=library_label(req.lending_library),
                           home=library_label(req.home_library),
                           link=external_url("loans.ill_detail", request_id=req.id),
                           signature=signature()))


@sweep_task
def remind_interlibrary_loans():
    """Due-date reminders and overdue notices for interlibrary loans."""
    rows = _due(IllRequest)
    for req in rows:
        _next_notice(req, _ill_reminder, _ill_overdue)
    return len(rows)


# --- union loans ----------------------------------------------------------------------------------

def _item(loan):
    return loan.record.title if loan.record is not None else _("item %(barcode)s",
                                                                barcode=loan.item_barcode)


def _union_reminder(loan):
    email_reader(loan.reader, "loans.union_reminder", ("union_loan", loan.id),
                 loan.lending_library_id,
                 lambda: _("Reminder: your union loan is due on %(date)s",
                           date=loan.due_on.isoformat()),
                 lambda: _("Dear %(name)s,\n\n“%(title)s”, borrowed at %(lender)s, is due on "
                           "%(date)s. Return it at any member library, or renew it if you "
                           "may:\n%(link)s\n\n%(signature)s", name=loan.reader.display_name,
                           title=_item(loan), lender=library_label(loan.lending_library),
                           date=loan.due_on.isoformat(), link=external_url("loans.my_loans"),
                           signature=signature()))


def _union_overdue(loan, days):
    email_reader(loan.reader, "loans.union_overdue", ("union_loan", loan.id),
                 loan.lending_library_id,
                 lambda: _("Overdue: your union loan was due on %(date)s",
                           date=loan.due_on.isoformat()),
                 lambda: _("Dear %(name)s,\n\n“%(title)s”, borrowed at %(lender)s, was due on "
                           "%(date)s, %(days)d days ago (notice %(n)d). Please return it at "
                           "any member library now.\n\n%(link)s\n\n%(signature)s",
                           name=loan.reader.display_name, title=_item(loan),
                           lender=library_label(loan.lending_library),
                           date=loan.due_on.isoformat(), days=days, n=loan.overdue_notices,
                           link=external_url("loans.my_loans"), signature=signature()))


@sweep_task
def remind_union_loans():
    """Due-date reminders and overdue notices for union loans."""
    rows = _due(UnionLoan)
    for loan in rows:
        _next_notice(loan, _union_reminder, _union_overdue)
    return len(rows)
