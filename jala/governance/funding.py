"""The management center's funding: cost shares, expenses and the annual expense report.

Each member library pays a share of the year's costs; the management center records what it
spends, and presents the year's expense report to the committee as an ``expense`` agenda item
(when the item passes, ``resolutions.approve_expenses`` marks the expenses it listed approved).
A cost share that is marked paid keeps its amount until it is marked unpaid again; an expense
the committee approved can no longer be deleted.
"""
import csv
import io
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from jala import clock
from jala.accounts.models import Library
from jala.audit import record_audit
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.governance.center import check_year, require_center_admin, require_center_reader
from jala.governance.models import AgendaItem, CostShare, Expense
from jala.governance.resolutions import add_agenda_item
from jala.membership import get_library, library_name, member_during

DESCRIPTION_MAX = 300
CENT = Decimal("0.01")
AMOUNT_MAX = Decimal("999999999999.99")  # what NUMERIC(14, 2) holds


# --- amounts and shares -------------------------------------------------------------------------


def parse_amount(raw, *, positive=False):
    """An amount in yuan with at most two decimals (``12000``, ``12,000.50``, ``¥300``)."""
    text = str(raw if raw is not None else "").strip()
    for mark in (",", "，", " ", "¥", "￥"):
        text = text.replace(mark, "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise RuleViolation(_("Enter an amount in yuan, for example 12000 or 12000.50."))
    if value != value.quantize(CENT, rounding="ROUND_DOWN"):
        raise RuleViolation(_("An amount has at most two decimals (fen)."))
    if value < 0:
        raise RuleViolation(_("The amount cannot be negative."))
    if positive and value == 0:
        raise RuleViolation(_("The amount must be more than zero."))
    if value > AMOUNT_MAX:
        raise RuleViolation(_("The amount is too large."))
    return value.quantize(CENT)


def _member_in_year(code, year):
    library = get_library(code)
    if not member_during(library, year):
        raise RuleViolation(_("%(library)s was not a member library in %(year)d.",
                              library=library_name(library), year=year))
    return library


def _lock_share(year, library_id):
    return db.session.execute(
        select(CostShare).where(CostShare.year == year, CostShare.library_id == library_id)
        .with_for_update()
    ).scalar_one_or_none()


def set_cost_share(actor, year, library_code, amount):
    """Set a member library's share of the year's costs (yuan, 0 or more)."""
    chair = require_center_admin(actor)
    check_year(year)
    library = _member_in_year(library_code, year)
    value = parse_amount(amount)
    created = db.session.execute(
        insert(CostShare).values(year=year, library_id=library.id, amount=value)
        .on_conflict_do_nothing(index_elements=["year", "library_id"])
        .returning(CostShare.id)
    ).scalar_one_or_none() is not None
    share = _lock_share(year, library.id)
    previous = None if created else share.amount
    if share.paid_on is not None and previous != value:
        raise RuleViolation(_("%(library)s has already paid its share for %(year)d; mark it "
                              "unpaid before changing the amount.", library=library_name(library),
                              year=year), status=409)
    share.amount = value
    db.session.flush()
    record_audit(actor, "center.share_set", "cost_share", share.id, library_id=library.id,
                 details={"year": year, "amount": str(value),
                          "previous": None if previous is None else str(previous),
                          "by": chair.code})
    return share


def mark_share_paid(actor, year, library_code, paid_on):
    """Record the day a library paid its share; ``paid_on`` None marks it unpaid again."""
    chair = require_center_admin(actor)
    check_year(year)
    library = get_library(library_code)
    share = _lock_share(year, library.id)
    if share is None:
        raise RuleViolation(_("Set the share of %(library)s for %(year)d first.",
                              library=library_name(library), year=year))
    if paid_on is not None:
        if paid_on > clock.local_today():
            raise RuleViolation(_("The payment date cannot be in the future."))
        if paid_on.year < year - 1:
            raise RuleViolation(_("The payment date must be in %(year)d or later.",
                                  year=year - 1))
    previous = share.paid_on
    share.paid_on = paid_on
    db.session.flush()
    record_audit(actor, "center.share_paid" if paid_on else "center.share_unpaid", "cost_share",
                 share.id, library_id=library.id,
                 details={"year": year, "amount": str(share.amount),
                          "paid_on": paid_on.isoformat() if paid_on else None,
                          "previous": previous.isoformat() if previous else None,
                          "by": chair.code})
    return share


# --- expenses -----------------------------------------------------------------------------------

def record_expense(actor, year, spent_on, description, amount):
    """Record money the management center spent in ``year``."""
    chair = require_center_admin(actor)
    check_year(year)
    if spent_on is None or spent_on.year != year:
        raise RuleViolation(_("The date must be in %(year)d.", year=year))
    if spent_on > clock.local_today():
        raise RuleViolation(_("Record an expense once it is spent: the date cannot be in the "
                              "future."))
    description = " ".join((description or "").split())
    if not description:
        raise RuleViolation(_("Say what the money was spent on."))
    if len(description) > DESCRIPTION_MAX:
        raise RuleViolation(_("The description may have at most %(n)d characters.",
                              n=DESCRIPTION_MAX))
    value = parse_amount(amount, positive=True)
    expense = Expense(year=year, spent_on=spent_on, description=description, amount=value,
                      recorded_by_id=actor.id, recorded_at=clock.now())
    db.session.add(expense)
    db.session.flush()
    record_audit(actor, "center.expense_record", "expense", expense.id, library_id=chair.id,
                 details={"year": year, "spent_on": spent_on.isoformat(),
                          "description": description, "amount": str(value)})
    return expense


def delete_expense(actor, year, expense_id):
    """Delete an expense recorded by mistake (not once the committee has approved it)."""
    chair = require_center_admin(actor)
    expense = db.session.execute(
        select(Expense).where(Expense.id == expense_id).with_for_update()
    ).scalar_one_or_none()
    if expense is None or expense.year != year:
        raise NotFound(_("No such expense."))
    if expense.approved_by_item_id is not None:
        raise RuleViolation(_("The committee has approved this expense; it can no longer be "
                              "deleted."), status=409)
    details = {"year": expense.year, "spent_on": expense.spent_on.isoformat(),
               "description": expense.description, "amount": str(expense.amount)}
    db.session.delete(expense)
    db.session.flush()
    record_audit(actor, "center.expense_delete", "expense", expense_id, library_id=chair.id,
                 details=details)
    return expense


# --- the expense report -------------------------------------------------------------------------

def expense_report(actor, year):
    """The year's funding: each library's share and payment, the expenses, and the totals.

    ``balance`` is the money in hand: shares paid minus expenses; ``outstanding`` is the
    shares not yet paid.
    """
    require_center_reader(actor)
    check_year(year)
    shares = {s.library_id: s for s in db.session.execute(
        select(CostShare).where(CostShare.year == year)).scalars()}
    libraries = [lib for lib in db.session.execute(
        select(Library).order_by(Library.joined_on, Library.id)).scalars()
        if lib.id in shares or member_during(lib, year)]
    rows = []
    for library in libraries:
        share = shares.get(library.id)
        rows.append({
            "library": library,
            "share": share.amount if share else None,
            "paid_on": share.paid_on if share else None,
            "paid": share.amount if share and share.paid_on else Decimal("0.00"),
        })
    expenses = db.session.execute(
        select(Expense).where(Expense.year == year).order_by(Expense.spent_on, Expense.id)
    ).scalars().all()
    total_shares = sum((r["share"] for r in rows if r["share"] is not None), Decimal("0.00"))
    total_paid = sum((r["paid"] for r in rows), Decimal("0.00"))
    total_spent = sum((e.amount for e in expenses), Decimal("0.00"))
    return {
        "year": year,
        "rows": rows,
        "expenses": expenses,
        "total_shares": total_shares,
        "total_paid": total_paid,
        "outstanding": total_shares - total_paid,
        "total_spent": total_spent,
        "balance": total_paid - total_spent,
    }


def _cell(value):
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, Decimal | int | date):
        return str(value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def expense_report_csv(report):
    """The expense report as CSV: the libraries' shares, the expenses, then the totals."""
    out = io.StringIO()
    writer = csv.writer(out)

    def row(*values):
        writer.writerow([_cell(v) for v in values])

    row(_("Annual expense report %(year)d", year=report["year"]))
    row()
    row(_("Library code"), _("Library"), _("Cost share (yuan)"), _("Paid on"),
        _("Paid (yuan)"))
    for line in report["rows"]:
        row(line["library"].code, line["library"].name_zh, line["share"], line["paid_on"],
            line["paid"])
    row()
    row(_("Date"), _("Expense"), _("Amount (yuan)"), _("Approved by agenda item"))
    for expense in report["expenses"]:
        row(expense.spent_on, expense.description, expense.amount, expense.approved_by_item_id)
    row()
    row(_("Total cost shares"), report["total_shares"])
    row(_("Total paid"), report["total_paid"])
    row(_("Not yet paid"), report["outstanding"])
    row(_("Total spent"), report["total_spent"])
    row(_("Balance (paid minus spent)"), report["balance"])
    return out.getvalue()


def _report_text(report):
    lines = [
        _("Cost shares: %(amount)s yuan; paid: %(paid)s yuan; not yet paid: %(due)s yuan.",
          amount=report["total_shares"], paid=report["total_paid"], due=report["outstanding"]),
        _("Spent: %(amount)s yuan; balance: %(balance)s yuan.", amount=report["total_spent"],
          balance=report["balance"]),
        "",
        _("Expenses:"),
    ]
    lines += [f"{e.spent_on.isoformat()}  {e.amount} — {e.description}"
              for e in report["expenses"]]
    return "\n".join(lines)


def present_expense_report(actor, meeting_id, year):
    """Put the year's expense report on a meeting's agenda for the committee to approve.

    The item lists the expenses not yet approved; when it passes, ``approve_expenses`` marks
    them approved by it.
    """
    require_center_admin(actor)
    report = expense_report(actor, year)
    pending = [e for e in report["expenses"] if e.approved_by_item_id is None]
    if not pending:
        raise RuleViolation(_("No expense of %(year)d is waiting for the committee's approval.",
                              year=year))
    item = add_agenda_item(actor, meeting_id, kind="expense",
                           title=_("Annual expense report %(year)d", year=year),
                           body=_report_text(report), amount=report["total_spent"])
    item.payload = {"year": year, "expense_ids": [e.id for e in pending]}
    db.session.flush()
    record_audit(actor, "center.expense_report_present", "agenda_item", item.id,
                 details={"year": year, "meeting_id": item.meeting_id,
                          "expenses": len(pending), "total_spent": str(report["total_spent"])})
    return item


def pending_item_for(year):
    """An open agenda item presenting ``year``'s expense report, if one is waiting."""
    return db.session.execute(
        select(AgendaItem).where(AgendaItem.kind == "expense", AgendaItem.status == "open",
                                 AgendaItem.payload["year"].as_integer() == year)
        .order_by(AgendaItem.id.desc()).limit(1)
    ).scalar_one_or_none()
