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
from jala.governance import bp, center, funding
from jala.governance.models import WORKING_GROUPS, Meeting
from jala.membership import current_chair_library, library_name
from jala.web import EVERY_REFUSAL, attempt, is_htmx

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
        self.group.choices = [(g, center.group_name(g)) for g in WORKING_GROUPS]


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
                              validators=[DataRequired(), Length(max=funding.DESCRIPTION_MAX)])
    amount = StringField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=30)])


class PresentForm(FlaskForm):
    """Choose the meeting that gets the expense report on its agenda."""

    meeting_id = SelectField(_l("Meeting"), coerce=int, choices=[])


def _valid(form):
    """The form if it validates; else a refusal naming each field with its error.

    Like ``jala.web.require_form``, but each message says which field it is about: the
    funding forms have several fields, and their errors show away from the fields.
    """
    if not form.validate_on_submit():
        messages = [f"{form[name].label.text}: {m}" if name in form else str(m)
                    for name, errors in form.errors.items() for m in errors]
        raise RuleViolation(" ".join(messages) or _("Check the form."))
    return form


@bp.context_processor
def center_helpers():
    """Names of working groups and of annual documents, in the language in use."""
    return {"group_name": center.group_name, "document_title": center.document_title}


# --- overview ------------------------------------------------------------------------------------

@bp.get("/center/")
@login_required
def center_home():
    """The management center: its chair library and links to its work."""
    center.require_center_reader(current_user)
    year = clock.local_today().year
    return render_template("governance/center/home.html", chair=current_chair_library(),
                           year=year, admin=center.is_center_admin(current_user),
                           documents=center.list_documents(current_user)[:4])


# --- working groups ------------------------------------------------------------------------------

@bp.route("/center/groups", methods=["GET", "POST"])
@login_required
def center_groups():
    """The four working groups and their members; the management center adds people."""
    form = MemberForm()
    status = 200
    if request.method == "POST":
        def add():
            _valid(form)
            return center.add_group_member(current_user, form.group.data, form.email.data,
                                           lead=form.lead.data)
        member, refusal = attempt(add, form=form)
        if refusal is not None:
            status = 400
        else:
            flash(_("%(name)s is in the %(group)s working group.", name=member.user.display_name,
                    group=center.group_name(member.group)), "success")
            return redirect(url_for("governance.center_groups"), code=303)
    groups = center.working_groups(current_user)
    return render_template("governance/center/groups.html", groups=groups, form=form,
                           admin=center.is_center_admin(current_user)), status


def _group_answer(group, error=None):
    """HTMX gets the group's card back (with the error, if any); a browser goes back."""
    if is_htmx():
        return render_template("governance/center/_group.html", group=group,
                               members=center.group_members(current_user, group), error=error,
                               admin=center.is_center_admin(current_user))
    if error:
        flash(error, "error")
    return redirect(url_for("governance.center_groups"), code=303)


@bp.post("/center/groups/members/<id:member_id>/remove")
@login_required
def center_remove_member(member_id):
    """Take a person out of a working group."""
    member, _refusal = attempt(lambda: center.remove_group_member(current_user, member_id),
                               reraise=EVERY_REFUSAL)
    if not is_htmx():
        flash(_("%(name)s has left the %(group)s working group.",
                name=member.user.display_name, group=center.group_name(member.group)), "success")
    return _group_answer(member.group)


@bp.post("/center/groups/members/<id:member_id>/lead")
@login_required
def center_set_lead(member_id):
    """Make a member the lead of their group, or not."""
    lead = request.form.get("lead") == "1"
    member, _refusal = attempt(lambda: center.set_group_lead(current_user, member_id, lead),
                               reraise=EVERY_REFUSAL)
    return _group_answer(member.group)


# --- the annual work plan and annual report ----------------------------------------------------

@bp.get("/center/documents")
@login_required
def center_documents():
    """Annual work plans and reports by year (drafts too, for the management center)."""
    documents = center.list_documents(current_user)
    admin = center.is_center_admin(current_user)
    by_year = {}
    for document in documents:
        by_year.setdefault(document.year, {})[document.kind] = document
    if admin:
        first, last = center.year_range()
        for year in range(first, last + 1):
            by_year.setdefault(year, {})
    return render_template("governance/center/documents.html", admin=admin,
                           years=sorted(by_year.items(), reverse=True))


@bp.route(f"/center/documents/<{YEAR}:year>/<{KIND}:kind>", methods=["GET", "POST"])
@login_required
def center_document(year, kind):
    """Read the plan or report; the management center writes it until it is published."""
    document = center.get_document(current_user, year, kind)
    admin = center.is_center_admin(current_user)
    form = DocumentForm()
    status = 200
    if request.method == "POST":
        def save():
            _valid(form)
            return center.save_document(current_user, year, kind, form.body.data,
                                        based_on=form.based_on.data)
        _saved, refusal = attempt(save, form=form)
        if refusal is not None:
            status = 400
        else:
            flash(_("Saved. Members see the text once you publish it."), "success")
            return redirect(url_for("governance.center_document", year=year, kind=kind),
                            code=303)
    else:
        form.body.data = document.body if document is not None else ""
        form.based_on.data = center.version_of(document)
    return render_template("governance/center/document.html", year=year, kind=kind,
                           document=document, form=form, admin=admin,
                           title=center.document_title(kind, year)), status


@bp.post(f"/center/documents/<{YEAR}:year>/<{KIND}:kind>/publish")
@login_required
def center_publish_document(year, kind):
    """Publish the plan or report; every committee member gets an email."""
    attempt(lambda: center.publish_document(current_user, year, kind), reraise=EVERY_REFUSAL)
    flash(_("%(title)s is published; the committee members are told by email.",
            title=center.document_title(kind, year)), "success")
    return redirect(url_for("governance.center_document", year=year, kind=kind), code=303)


# --- funding ---------------------------------------------------------------------------------

@bp.get("/center/funding")
@login_required
def center_funding_now():
    """Go to the current year's funding."""
    return redirect(url_for("governance.center_funding", year=clock.local_today().year))


def _funding_context(year, expense_form=None):
    report = funding.expense_report(current_user, year)
    admin = center.is_center_admin(current_user)
    first, last = center.year_range()
    context = dict(report=report, year=year, admin=admin, years=range(last, first - 1, -1),
                   expense_form=expense_form or ExpenseForm(formdata=None), pending_item=None,
                   present_form=None)
    if admin:
        context["pending_item"] = funding.pending_item_for(year)
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
    report = funding.expense_report(current_user, year)
    return Response("\ufeff" + funding.expense_report_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f"attachment; filename=jala-expense-report-{year}.csv"})


def _funding_change(year, step):
    """Run a change to the year's funding; answer with the report (HTMX) or a redirect."""
    message, refusal = attempt(step)
    if refusal is not None:
        # the expense typed in stays in its form; share and payment rows show what is stored
        typed = request.endpoint == "governance.center_record_expense"
        context = _funding_context(year, ExpenseForm() if typed else None)
        if is_htmx():  # HTMX swaps only 2xx answers: the error shows in the swapped report
            return render_template("governance/center/_funding.html", error=refusal.message,
                                   **context)
        return render_template("governance/center/funding.html", error=refusal.message,
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
        share = funding.set_cost_share(current_user, year, code, form.amount.data)
        return _("Cost share of %(library)s for %(year)d: %(amount)s yuan.",
                 library=library_name(share.library), year=year, amount=share.amount)
    return _funding_change(year, step)


@bp.post(f"/center/funding/<{YEAR}:year>/shares/<code>/paid")
@login_required
def center_share_paid(year, code):
    """Mark a library's share paid on a day, or unpaid again."""
    def step():
        form = _valid(PaidForm())
        if form.unpaid.data:
            share = funding.mark_share_paid(current_user, year, code, None)
            return _("The share of %(library)s is marked unpaid.",
                     library=library_name(share.library))
        if form.paid_on.data is None:
            raise RuleViolation(_("Give the day the share was paid."))
        share = funding.mark_share_paid(current_user, year, code, form.paid_on.data)
        return _("%(library)s paid its share on %(day)s.", library=library_name(share.library),
                 day=share.paid_on.isoformat())
    return _funding_change(year, step)


@bp.post(f"/center/funding/<{YEAR}:year>/expenses")
@login_required
def center_record_expense(year):
    """Record an expense of the year."""
    def step():
        form = _valid(ExpenseForm())
        expense = funding.record_expense(current_user, year, form.spent_on.data,
                                         form.description.data, form.amount.data)
        return _("Expense recorded: %(amount)s yuan.", amount=expense.amount)
    return _funding_change(year, step)


@bp.post(f"/center/funding/<{YEAR}:year>/expenses/<id:expense_id>/delete")
@login_required
def center_delete_expense(year, expense_id):
    """Delete an expense recorded by mistake."""
    def step():
        expense = funding.delete_expense(current_user, year, expense_id)
        return _("Expense deleted: %(amount)s yuan.", amount=expense.amount)
    return _funding_change(year, step)


@bp.post(f"/center/funding/<{YEAR}:year>/present")
@login_required
def center_present_report(year):
    """Put the year's expense report on a meeting's agenda for the committee."""
    def step():
        center.require_center_admin(current_user)
        form = PresentForm()
        form.meeting_id.choices = [(m, m) for m in db.session.execute(
            select(Meeting.id).where(Meeting.status != "closed")).scalars()]
        _valid(form)
        item = funding.present_expense_report(current_user, form.meeting_id.data, year)
        return _("The expense report is item %(n)d on the agenda of %(meeting)s.",
                 n=item.position, meeting=item.meeting.title)
    return _funding_change(year, step)
