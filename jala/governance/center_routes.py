"""Thin views for the management center's work: working groups, annual plan and report, funding."""
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from jala import clock
from jala.errors import RuleViolation
from jala.extensions import db
from jala.governance import bp
from jala.governance import center as svc
from jala.governance.models import WORKING_GROUPS, Meeting
from jala.membership import current_chair_library
from jala.web import is_htmx

ID = "int(max=2147483647)"
YEAR = "int(min=1000, max=9999)"
KIND = "any(plan, report)"


# --- forms ---------------------------------------------------------------------------------------

class MemberForm(FlaskForm):
    """Add a person to a working group."""

    group = SelectField(_l("Working group"), choices=[])
    email = StringField(_l("Email address of their portal account"),
                        validators=[DataRequired(), Length(max=254)])
    lead = BooleanField(_l("Lead of the group"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.group.choices = [(g, svc.group_name(g)) for g in WORKING_GROUPS]


class DocumentForm(FlaskForm):
    """The text of the annual work plan or report (the service checks its length)."""

    body = TextAreaField(_l("Text"))
    based_on = HiddenField()


class ShareForm(FlaskForm):
    """A library's cost share for the year."""

    amount = StringField(_l("Cost share (yuan)"), validators=[DataRequired(), Length(max=30)])


class PaidForm(FlaskForm):
    """The day a library paid its share (empty with ``unpaid``: not paid after all)."""

    paid_on = DateField(_l("Paid on"), validators=[Optional()])
    unpaid = HiddenField()


class ExpenseForm(FlaskForm):
    """Money the management center spent."""

    spent_on = DateField(_l("Date"), validators=[DataRequired()])
    description = StringField(_l("What for"),
                              validators=[DataRequired(), Length(max=svc.DESCRIPTION_MAX)])
    amount = StringField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=30)])


class PresentForm(FlaskForm):
    """Choose the meeting that gets the expense report on its agenda."""

    meeting_id = SelectField(_l("Meeting"), coerce=int, choices=[])


def _valid(form):
    """Return the form's data, or raise its first messages as a rule violation."""
    if not form.validate_on_submit():
        messages = [f"{form[name].label.text}: {m}" if name in form else str(m)
                    for name, errors in form.errors.items() for m in errors]
        raise RuleViolation(" ".join(messages) or _("Check the form."))
    return form


def _in_savepoint(step):
    """Run a service step; a refused step keeps nothing (the request still answers)."""
    savepoint = db.session.begin_nested()
    try:
        result = step()
    except RuleViolation:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result


@bp.context_processor
def center_helpers():
    """Names of working groups and of annual documents, in the language in use."""
    return {"group_name": svc.group_name, "document_title": svc.document_title}


# --- overview ------------------------------------------------------------------------------------

@bp.get("/center/")
@login_required
def center_home():
    """The management center: its chair library and links to its work."""
    svc.require_center_reader(current_user)
    year = clock.local_today().year
    return render_template("governance/center/home.html", chair=current_chair_library(),
                           year=year, admin=svc.is_center_admin(current_user),
                           documents=svc.list_documents(current_user)[:4])


# --- working groups ------------------------------------------------------------------------------

@bp.route("/center/groups", methods=["GET", "POST"])
@login_required
def center_groups():
    """The four working groups and their members; the management center adds people."""
    form = MemberForm()
    status = 200
    if request.method == "POST":
        try:
            _valid(form)
            member = _in_savepoint(lambda: svc.add_group_member(
                current_user, form.group.data, form.email.data, lead=form.lead.data))
        except RuleViolation as exc:
            if exc.status in (403, 404):
                raise
            form.form_errors.append(exc.message)
            status = 400
        else:
            flash(_("%(name)s is in the %(group)s working group.", name=member.user.display_name,
                    group=svc.group_name(member.group)), "success")
            return redirect(url_for("governance.center_groups"), code=303)
    groups = svc.working_groups(current_user)
    return render_template("governance/center/groups.html", groups=groups, form=form,
                           admin=svc.is_center_admin(current_user)), status


def _group_answer(group, error=None):
    """HTMX gets the group's card back (with the error, if any); a browser goes back."""
    if is_htmx():
        return render_template("governance/center/_group.html", group=group,
                               members=svc.group_members(current_user, group), error=error,
                               admin=svc.is_center_admin(current_user))
    if error:
        raise RuleViolation(error)
    return redirect(url_for("governance.center_groups"), code=303)


@bp.post(f"/center/groups/members/<{ID}:member_id>/remove")
@login_required
def center_remove_member(member_id):
    """Take a person out of a working group."""
    member = _in_savepoint(lambda: svc.remove_group_member(current_user, member_id))
    if not is_htmx():
        flash(_("%(name)s has left the %(group)s working group.",
                name=member.user.display_name, group=svc.group_name(member.group)), "success")
    return _group_answer(member.group)


@bp.post(f"/center/groups/members/<{ID}:member_id>/lead")
@login_required
def center_set_lead(member_id):
    """Make a member the lead of their group, or not."""
    lead = request.form.get("lead") == "1"
    member = _in_savepoint(lambda: svc.set_group_lead(current_user, member_id, lead))
    return _group_answer(member.group)


# --- the annual work plan and annual report ----------------------------------------------------

@bp.get("/center/documents")
@login_required
def center_documents():
    """Annual work plans and reports by year (drafts too, for the management center)."""
    documents = svc.list_documents(current_user)
    admin = svc.is_center_admin(current_user)
    by_year = {}
    for document in documents:
        by_year.setdefault(document.year, {})[document.kind] = document
    if admin:
        first, last = svc.year_range()
        for year in range(first, last + 1):
            by_year.setdefault(year, {})
    return render_template("governance/center/documents.html", admin=admin,
                           years=sorted(by_year.items(), reverse=True))


@bp.route(f"/center/documents/<{YEAR}:year>/<{KIND}:kind>", methods=["GET", "POST"])
@login_required
def center_document(year, kind):
    """Read the plan or report; the management center writes it until it is published."""
    document = svc.get_document(current_user, year, kind)
    admin = svc.is_center_admin(current_user)
    form = DocumentForm()
    status = 200
    if request.method == "POST":
        try:
            _valid(form)
            _in_savepoint(lambda: svc.save_document(
                current_user, year, kind, form.body.data, based_on=form.based_on.data))
        except RuleViolation as exc:
            if exc.status in (403, 404):
                raise
            form.form_errors.append(exc.message)
            status = 400
        else:
            flash(_("Saved. Members see the text once you publish it."), "success")
            return redirect(url_for("governance.center_document", year=year, kind=kind),
                            code=303)
    else:
        form.body.data = document.body if document is not None else ""
        form.based_on.data = svc.version_of(document)
    return render_template("governance/center/document.html", year=year, kind=kind,
                           document=document, form=form, admin=admin,
                           title=svc.document_title(kind, year)), status


@bp.post(f"/center/documents/<{YEAR}:year>/<{KIND}:kind>/publish")
@login_required
def center_publish_document(year, kind):
    """Publish the plan or report; every committee member gets an email."""
    _in_savepoint(lambda: svc.publish_document(current_user, year, kind))
    flash(_("%(title)s is published; the committee members are told by email.",
            title=svc.document_title(kind, year)), "success")
    return redirect(url_for("governance.center_document", year=year, kind=kind), code=303)


# --- funding ---------------------------------------------------------------------------------

@bp.get("/center/funding")
@login_required
def center_funding_now():
    """Go to the current year's funding."""
    return redirect(url_for("governance.center_funding", year=clock.local_today().year))


def _funding_context(year, expense_form=None):
    report = svc.expense_report(current_user, year)
    admin = svc.is_center_admin(current_user)
    first, last = svc.year_range()
    context = dict(report=report, year=year, admin=admin, years=range(last, first - 1, -1),
                   expense_form=expense_form or ExpenseForm(formdata=None), pending_item=None,
                   present_form=None)
    if admin:
        context["pending_item"] = svc.pending_item_for(year)
        meetings = db.session.execute(
            select(Meeting).where(Meeting.status != "closed").order_by(Meeting.starts_at)
        ).scalars().all()
        if meetings:
            present = PresentForm(formdata=None)
            present.meeting_id.choices = [
                (m.id, f"{m.title} · {m.starts_at.astimezone(clock.SHANGHAI):%Y-%m-%d}")
                for m in meetings]
            context["present_form"] = present
    return context


@bp.get(f"/center/funding/<{YEAR}:year>")
@login_required
def center_funding(year):
    """The year's cost shares, payments, expenses and balance."""
    return render_template("governance/center/funding.html", **_funding_context(year))


@bp.get(f"/center/funding/<{YEAR}:year>.csv")
@login_required
def center_funding_csv(year):
    """The annual expense report as a CSV file (opens in a spreadsheet)."""
    report = svc.expense_report(current_user, year)
    return Response("\ufeff" + svc.expense_report_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f"attachment; filename=jala-expense-report-{year}.csv"})


def _funding_change(year, step):
    """Run a change to the year's funding; answer with the report (HTMX) or a redirect."""
    try:
        message = _in_savepoint(step)
    except RuleViolation as exc:
        if exc.status in (403, 404):
            raise
        # the expense typed in stays in its form; share and payment rows show what is stored
        typed = request.endpoint == "governance.center_record_expense"
        context = _funding_context(year, ExpenseForm() if typed else None)
        if is_htmx():  # HTMX swaps only 2xx answers: the error shows in the swapped report
            return render_template("governance/center/_funding.html", error=exc.message,
                                   **context)
        return render_template("governance/center/funding.html", error=exc.message,
                               **context), 400
    if is_htmx():
        return render_template("governance/center/_funding.html", notice=message,
                               **_funding_context(year))
    flash(message, "success")
    return redirect(url_for("governance.center_funding", year=year), code=303)


@bp.post(f"/center/funding/<{YEAR}:year>/shares/<code>")
@login_required
def center_set_share(year, code):
    """Set a library's cost share for the year."""
    def step():
        form = _valid(ShareForm())
        share = svc.set_cost_share(current_user, year, code, form.amount.data)
        return _("Cost share of %(code)s for %(year)d: %(amount)s yuan.",
                 code=share.library.code, year=year, amount=share.amount)
    return _funding_change(year, step)


@bp.post(f"/center/funding/<{YEAR}:year>/shares/<code>/paid")
@login_required
def center_share_paid(year, code):
    """Mark a library's share paid on a day, or unpaid again."""
    def step():
        form = _valid(PaidForm())
        if form.unpaid.data:
            share = svc.mark_share_paid(current_user, year, code, None)
            return _("The share of %(code)s is marked unpaid.", code=share.library.code)
        if form.paid_on.data is None:
            raise RuleViolation(_("Give the day the share was paid."))
        share = svc.mark_share_paid(current_user, year, code, form.paid_on.data)
        return _("%(code)s paid its share on %(day)s.", code=share.library.code,
                 day=share.paid_on.isoformat())
    return _funding_change(year, step)


@bp.post(f"/center/funding/<{YEAR}:year>/expenses")
@login_required
def center_record_expense(year):
    """Record an expense of the year."""
    def step():
        form = _valid(ExpenseForm())
        expense = svc.record_expense(current_user, year, form.spent_on.data,
                                     form.description.data, form.amount.data)
        return _("Expense recorded: %(amount)s yuan.", amount=expense.amount)
    return _funding_change(year, step)


@bp.post(f"/center/funding/<{YEAR}:year>/expenses/<{ID}:expense_id>/delete")
@login_required
def center_delete_expense(year, expense_id):
    """Delete an expense recorded by mistake."""
    def step():
        expense = svc.delete_expense(current_user, year, expense_id)
        return _("Expense deleted: %(amount)s yuan.", amount=expense.amount)
    return _funding_change(year, step)


@bp.post(f"/center/funding/<{YEAR}:year>/present")
@login_required
def center_present_report(year):
    """Put the year's expense report on a meeting's agenda for the committee."""
    def step():
        svc.require_center_admin(current_user)
        form = PresentForm()
        form.meeting_id.choices = [(m, m) for m in db.session.execute(
            select(Meeting.id).where(Meeting.status != "closed")).scalars()]
        _valid(form)
        item = svc.present_expense_report(current_user, form.meeting_id.data, year)
        return _("The expense report is item %(n)d on the agenda of %(meeting)s.",
                 n=item.position, meeting=item.meeting.title)
    return _funding_change(year, step)
