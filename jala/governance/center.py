"""The management center's work: working groups, the annual plan and report, and funding.

The management center (管理中心) is run by the chair library; its admins are the portal admins,
who are staff of the current chair library. Staff of member libraries read everything that
is published; only the chair library's portal admins change anything.

A published plan or report is final: committee members were emailed that exact text, so it is
never edited afterwards (a correction goes into the next document, or into the minutes).
A cost share that is marked paid keeps its amount until it is marked unpaid again; an expense
the committee approved (as an agenda item) can no longer be deleted.
"""
import csv
import io
from datetime import UTC, date
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import selectinload

from jala import clock
from jala.accounts.models import ROLE_PORTAL_ADMIN, Library, User
from jala.accounts.services import find_user_by_email
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance.models import (
    WORKING_GROUPS,
    AgendaItem,
    AnnualDocument,
    CostShare,
    Expense,
    WorkingGroupMember,
)
from jala.jobs import queue_email
from jala.mail import user_locale
from jala.membership import (
    current_chair_library,
    get_library,
    library_name,
    member_during,
    serves_member_library,
)
from jala.permissions import require_portal_admin
from jala.urls import external_url

FIRST_YEAR = 2019  # the alliance was founded on 2019-10-23
DOCUMENT_KINDS = ("plan", "report")
DOCUMENT_MAX = 50_000
DESCRIPTION_MAX = 300
CENT = Decimal("0.01")
AMOUNT_MAX = Decimal("999999999999.99")  # what NUMERIC(14, 2) holds


# --- who may see and change ---------------------------------------------------------------------

def can_see_center(user):
    """Portal admins and staff of member libraries (committee members included) read it all."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_portal_admin:
        return True
    return serves_member_library(user)


def require_center_reader(actor):
    """Raise unless ``actor`` may read the management center's pages."""
    if not can_see_center(actor):
        raise NotAllowed(_("The management center's pages are for staff of member libraries."))


def is_center_admin(user):
    """Whether ``user`` is a portal admin at the current chair library."""
    if user is None or not user.is_authenticated or not user.is_portal_admin:
        return False
    chair = current_chair_library()
    return chair is not None and user.has_role(ROLE_PORTAL_ADMIN, chair.id)


def require_center_admin(actor):
    """Return the chair library, or raise unless ``actor`` is one of its portal admins."""
    require_portal_admin(actor)
    chair = current_chair_library()
    if chair is None or not actor.has_role(ROLE_PORTAL_ADMIN, chair.id):
        # a grant left over from an earlier chair library does not count
        raise NotAllowed(_("Only the chair library's portal admins can do this."))
    return chair


def year_range():
    """The years the management center keeps records for: 2019 to next year."""
    return FIRST_YEAR, clock.local_today().year + 1


def check_year(year):
    """Return ``year`` if the management center keeps records for it, else refuse."""
    first, last = year_range()
    if not isinstance(year, int) or not first <= year <= last:
        raise RuleViolation(_("Choose a year from %(first)d to %(last)d.", first=first,
                              last=last))
    return year


# --- working groups -----------------------------------------------------------------------------

def group_name(group):
    """The working group's name in the language in use."""
    return {
        "resources": _("Resource development"),
        "reader_services": _("Reader services"),
        "it": _("Information technology"),
        "reference": _("Reference and consultation"),
    }.get(group, group)


def working_groups(actor):
    """``[(group, [WorkingGroupMember])]`` in the charter's order, leads first."""
    require_center_reader(actor)
    members = db.session.execute(
        select(WorkingGroupMember).join(User, User.id == WorkingGroupMember.user_id)
        .options(selectinload(WorkingGroupMember.user).selectinload(User.home_library))
        .order_by(WorkingGroupMember.is_lead.desc(), User.display_name, WorkingGroupMember.id)
    ).scalars().all()
    return [(group, [m for m in members if m.group == group]) for group in WORKING_GROUPS]


def group_members(actor, group):
    """The members of one working group, leads first."""
    return dict(working_groups(actor)).get(_check_group(group), [])


def _check_group(group):
    if group not in WORKING_GROUPS:
        raise RuleViolation(_("Choose a working group."))
    return group


def _lock_member(member_id):
    member = db.session.execute(
        select(WorkingGroupMember).where(WorkingGroupMember.id == member_id).with_for_update()
    ).scalar_one_or_none()
    if member is None:
        raise NotFound(_("No such working group member."))
    return member


def _make_lead(member):
    """``member`` leads its group; the group's previous lead steps down."""
    # lock the whole group so that two admins naming a lead at once leave one lead
    others = db.session.execute(
        select(WorkingGroupMember).where(WorkingGroupMember.group == member.group)
        .order_by(WorkingGroupMember.id).with_for_update()
    ).scalars().all()
    for other in others:
        other.is_lead = other.id == member.id


def add_group_member(actor, group, email, *, lead=False):
    """Put a staff member of a member library into a working group."""
    chair = require_center_admin(actor)
    _check_group(group)
    person = find_user_by_email(email)
    if person is None:
        raise RuleViolation(_("No account has the address %(email)s.", email=(email or "")[:254]))
    if not serves_member_library(person):
        raise RuleViolation(_("Working group members must be staff of a member library."))
    member_id = db.session.execute(
        insert(WorkingGroupMember)
        .values(group=group, user_id=person.id, is_lead=False, added_at=clock.now())
        .on_conflict_do_nothing(index_elements=["group", "user_id"])
        .returning(WorkingGroupMember.id)
    ).scalar_one_or_none()
    if member_id is None:
        raise RuleViolation(_("%(name)s is already in this working group.",
                              name=person.display_name))
    member = _lock_member(member_id)
    if lead:
        _make_lead(member)
    db.session.flush()
    record_audit(actor, "center.group_add", "working_group_member", member.id,
                 library_id=chair.id, details={"group": group, "user_id": person.id,
                                               "lead": bool(lead)})
    return member


def remove_group_member(actor, member_id):
    """Take a person out of a working group."""
    chair = require_center_admin(actor)
    member = _lock_member(member_id)
    details = {"group": member.group, "user_id": member.user_id, "lead": member.is_lead}
    db.session.delete(member)
    db.session.flush()
    record_audit(actor, "center.group_remove", "working_group_member", member_id,
                 library_id=chair.id, details=details)
    return member


def set_group_lead(actor, member_id, lead=True):
    """Make a member the lead of their group (replacing the lead), or no longer the lead."""
    chair = require_center_admin(actor)
    member = _lock_member(member_id)
    if lead:
        _make_lead(member)
    else:
        member.is_lead = False
    db.session.flush()
    record_audit(actor, "center.group_lead", "working_group_member", member.id,
                 library_id=chair.id, details={"group": member.group, "user_id": member.user_id,
                                               "lead": bool(lead)})
    return member


# --- the annual work plan and annual report -------------------------------------------------

def document_title(kind, year):
    """"Annual work plan 2025" or "Annual report 2025", in the language in use."""
    if kind == "plan":
        return _("Annual work plan %(year)d", year=year)
    return _("Annual report %(year)d", year=year)


def _check_kind(kind):
    if kind not in DOCUMENT_KINDS:
        raise RuleViolation(_("Choose the work plan or the report."))
    return kind


def _lock_document(year, kind):
    return db.session.execute(
        select(AnnualDocument).where(AnnualDocument.year == year, AnnualDocument.kind == kind)
        .with_for_update()
    ).scalar_one_or_none()


def version_of(document):
    """A stamp of the text's last change, so that one admin does not overwrite another's."""
    return document.updated_at.astimezone(UTC).isoformat() if document is not None else ""


def get_document(actor, year, kind):
    """The plan or report of a year, or None (none yet, or a draft ``actor`` may not see)."""
    require_center_reader(actor)
    check_year(year)
    _check_kind(kind)
    document = db.session.execute(
        select(AnnualDocument).where(AnnualDocument.year == year, AnnualDocument.kind == kind)
    ).scalar_one_or_none()
    if document is None or (document.published_at is None and not is_center_admin(actor)):
        return None
    return document


def list_documents(actor):
    """Plans and reports, newest year first; drafts only for the management center."""
    require_center_reader(actor)
    query = select(AnnualDocument).order_by(AnnualDocument.year.desc(), AnnualDocument.kind)
    if not is_center_admin(actor):
        query = query.where(AnnualDocument.published_at.is_not(None))
    return db.session.execute(query).scalars().all()


def save_document(actor, year, kind, body, *, based_on=None):
    """Write or rewrite the draft plan or report of a year.

    ``based_on`` is the version the writer started from (``version_of``); if someone saved
    since, the text is refused rather than silently overwriting theirs.
    """
    chair = require_center_admin(actor)
    check_year(year)
    _check_kind(kind)
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise RuleViolation(_("Write the text first."))
    if len(body) > DOCUMENT_MAX:
        raise RuleViolation(_("The text may have at most %(n)d characters (it has %(has)d).",
                              n=DOCUMENT_MAX, has=len(body)))
    document = _lock_document(year, kind)
    if document is not None and document.published_at is not None:
        raise RuleViolation(_("%(title)s is published and can no longer be changed.",
                              title=document_title(kind, year)), status=409)
    if document is not None and based_on is not None and based_on != version_of(document):
        raise RuleViolation(_("Someone else saved this text after you opened it. Copy your "
                              "changes, reload the page and make them again."), status=409)
    now = clock.now()
    created = document is None
    if created:
        document_id = db.session.execute(
            insert(AnnualDocument)
            .values(year=year, kind=kind, library_id=chair.id, body=body,
                    updated_by_id=actor.id, updated_at=now)
            .on_conflict_do_nothing(index_elements=["year", "kind"])
            .returning(AnnualDocument.id)
        ).scalar_one_or_none()
        if document_id is None:  # another admin created it a moment ago
            raise RuleViolation(_("Someone else saved this text after you opened it. Copy "
                                  "your changes, reload the page and make them again."),
                                status=409)
        document = _lock_document(year, kind)
    else:
        document.body = body
        document.library_id = chair.id
        document.updated_by_id = actor.id
        document.updated_at = now
    db.session.flush()
    record_audit(actor, "center.document_save", "annual_document", document.id,
                 library_id=chair.id, details={"year": year, "kind": kind, "chars": len(body),
                                               "created": created})
    return document


def publish_document(actor, year, kind):
    """Publish the plan or report to the members and email every committee member."""
    # imported here: the meeting rules may come to call this module's approve_expenses
    from jala.governance.services import committee_members

    chair = require_center_admin(actor)
    check_year(year)
    _check_kind(kind)
    document = _lock_document(year, kind)
    if document is None:
        raise RuleViolation(_("Write the text first."))
    if document.published_at is not None:
        raise RuleViolation(_("%(title)s is already published.",
                              title=document_title(kind, year)), status=409)
    document.published_at = clock.now()
    db.session.flush()
    link = external_url("governance.center_document", year=year, kind=kind)
    recipients = committee_members()
    for person, library in recipients:
        with force_locale(user_locale(person)):
            title = document_title(kind, year)
            queue_email(
                person.email,
                _("Published: %(title)s", title=title),
                _("Dear %(name)s,\n\nThe management center (%(chair)s) has published the "
                  "alliance's %(title)s. Read it on the portal:\n\n%(link)s\n\n"
                  "Jiangxi Academic Library Alliance",
                  name=person.display_name, chair=library_name(chair), title=title,
                  link=link),
                kind="center.document_published",
                related=("annual_document", document.id),
                library_id=library.id,
            )
    record_audit(actor, "center.document_publish", "annual_document", document.id,
                 library_id=chair.id, details={"year": year, "kind": kind,
                                               "emailed": len(recipients)})
    return document


# --- funding --------------------------------------------------------------------------------

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
        raise RuleViolation(_("%(code)s was not a member library in %(year)d.",
                              code=library.code, year=year))
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
        raise RuleViolation(_("%(code)s has already paid its share for %(year)d; mark it "
                              "unpaid before changing the amount.", code=library.code,
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
        raise RuleViolation(_("Set the share of %(code)s for %(year)d first.",
                              code=library.code, year=year))
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
    from jala.governance.services import add_agenda_item  # see publish_document

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


def pending_item_for(year):
    """An open agenda item presenting ``year``'s expense report, if one is waiting."""
    return db.session.execute(
        select(AgendaItem).where(AgendaItem.kind == "expense", AgendaItem.status == "open",
                                 AgendaItem.payload["year"].as_integer() == year)
        .order_by(AgendaItem.id.desc()).limit(1)
    ).scalar_one_or_none()
