"""Thin views for governance: applications, meetings and votes, withdrawals, handovers."""
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala import clock
from jala.accounts.models import Library
from jala.errors import NotAllowed
from jala.extensions import db, limiter
from jala.files import create_link
from jala.governance import (
    applications,
    bp,
    chair_library,
    committee,
    meetings,
    resolutions,
)
from jala.governance.forms import (
    ApplicationForm,
    CloseMeetingForm,
    HandoverForm,
    ItemForm,
    MeetingForm,
    ReviewForm,
    WithdrawForm,
)
from jala.governance.models import AgendaItem, MembershipApplication
from jala.membership import current_chair_term, get_library, library_name, member_libraries
from jala.web import attempt, is_htmx

# --- applying, withdrawing, the directory ---------------------------------------------------------

@bp.route("/join", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def apply():
    """A Jiangxi university library applies to join (public form)."""
    form = ApplicationForm()
    if form.validate_on_submit():
        application, refusal = attempt(lambda: applications.submit_application(
            name_zh=form.name_zh.data, name_en=form.name_en.data, code=form.code.data,
            city=form.city.data, website=form.website.data, contact_name=form.contact_name.data,
            contact_email=form.contact_email.data, contact_phone=form.contact_phone.data,
            letter=form.letter.data), form=form)
        if refusal is None:
            return render_template("governance/applied.html", application=application)
    return render_template("governance/apply.html", form=form), (
        400 if request.method == "POST" else 200)


@bp.route("/libraries/<code>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(code):
    """A member library gives written notice of withdrawal."""
    library = get_library(code)
    form = WithdrawForm()
    if form.validate_on_submit():
        done, refusal = attempt(lambda: applications.withdraw(
            current_user, library.code, form.effective_on.data, form.notice.data), form=form)
        if refusal is None:
            flash(_("The notice is recorded: %(library)s leaves the alliance on %(date)s.",
                    library=library_name(library),
                    date=format_date(done.effective_on, "long")), "success")
            return redirect(url_for("core.library", code=library.code), code=303)
    return render_template("governance/withdraw.html", library=library, form=form), (
        400 if request.method == "POST" else 200)


@bp.get("/chairs")
def chairs():
    """The chair library of every year: past, current and approved."""
    return render_template("governance/chairs.html", terms=chair_library.chair_terms(),
                           current=current_chair_term())


# --- the committee ----------------------------------------------------------------------------

@bp.get("/committee")
@login_required
def home():
    """Meetings, the committee's offices and members, the management center's links."""
    return render_template("governance/home.html", meetings=meetings.meetings_for(current_user),
                           offices=committee.current_offices(),
                           members=committee.committee_members(),
                           seat=committee.committee_seat(current_user),
                           office=committee.office_of(current_user))


@bp.route("/committee/meetings/new", methods=["GET", "POST"])
@login_required
def new_meeting():
    """Convene a meeting (chair or vice-chair) or start a joint request (any member)."""
    committee.require_seat(current_user)
    office = committee.office_of(current_user)
    form = MeetingForm()
    if form.validate_on_submit():
        starts_at = form.starts_at.data.replace(tzinfo=clock.SHANGHAI)
        details = dict(title=form.title.data, starts_at=starts_at, place=form.place.data,
                       online_url=form.online_url.data)
        convene = office is not None and request.form.get("how") != "joint"
        meeting, refusal = attempt(lambda: (meetings.convene_meeting if convene else
                                            meetings.request_meeting)(current_user, **details),
                                   form=form)
        if refusal is None:
            return redirect(url_for("governance.meeting", meeting_id=meeting.id), code=303)
    return render_template("governance/meeting_new.html", form=form, office=office), (
        400 if request.method == "POST" else 200)


def _item_form(meeting):
    form = ItemForm()
    form.application_id.choices = [("", "—")] + [
        (str(a.id), a.name_zh) for a in db.session.query(MembershipApplication)
        .filter_by(status="complete").order_by(MembershipApplication.id)]
    form.target_library.choices = [("", "—")] + [(lib.code, library_name(lib))
                                                 for lib in member_libraries()]
    form.target_user.choices = [("", "—")] + [
        (str(u.id), f"{u.display_name} · {library_name(lib)}")
        for u, lib in committee.committee_members()]
    return form


def _meeting_page(meeting, item_form=None, close_form=None, status=200):
    seat = committee.committee_seat(current_user)
    return render_template(
        "governance/meeting.html", meeting=meeting, seat=seat,
        check_in_opens_at=meetings.check_in_opens_at(meeting),
        checked_in=seat is not None and any(a.library_id == seat.id for a in meeting.attendance),
        signed=seat is not None and any(s.library_id == seat.id for s in meeting.signatures),
        presiding=meetings.can_preside(current_user, meeting),
        can_edit=meetings.can_edit_agenda(current_user, meeting),
        item_form=item_form or _item_form(meeting), close_form=close_form or CloseMeetingForm(),
    ), status


@bp.get("/committee/meetings/<id:meeting_id>")
@login_required
def meeting(meeting_id):
    """A meeting: signatures, check-in, the agenda with votes and tallies."""
    return _meeting_page(meetings.get_meeting(current_user, meeting_id))


@bp.get("/committee/meetings/<id:meeting_id>/attendance")
@login_required
def attendance(meeting_id):
    """Who has checked in (the meeting page polls this while the meeting is in session)."""
    meeting = meetings.get_meeting(current_user, meeting_id)
    return render_template("governance/_attendance.html", meeting=meeting)


@bp.post("/committee/meetings/<id:meeting_id>/sign")
@login_required
def cosign(meeting_id):
    """Co-sign a joint request to convene."""
    meeting, refusal = attempt(lambda: meetings.cosign_meeting(current_user, meeting_id))
    if refusal is not None:
        flash(refusal.message, "error")
    else:
        flash(_("Convened: the members are notified.") if meeting.status == "convened" else
              _("Signed. %(n)d of 3 signatures.", n=len(meeting.signatures)), "success")
    return redirect(url_for("governance.meeting", meeting_id=meeting_id), code=303)


@bp.post("/committee/meetings/<id:meeting_id>/check-in")
@login_required
def check_in(meeting_id):
    """Check the library in, in person or online; a refusal is said on the meeting's page."""
    _meeting, refusal = attempt(lambda: meetings.check_in(current_user, meeting_id,
                                                          request.form.get("mode", "")))
    if refusal is not None:
        flash(refusal.message, "error")
    return redirect(url_for("governance.meeting", meeting_id=meeting_id), code=303)


@bp.post("/committee/meetings/<id:meeting_id>/items")
@login_required
def add_item(meeting_id):
    """Put an item on the agenda."""
    meeting = meetings.get_meeting(current_user, meeting_id)
    form = _item_form(meeting)
    if form.validate_on_submit():
        item, refusal = attempt(lambda: resolutions.add_agenda_item(
            current_user, meeting.id, kind=form.kind.data, title=form.title.data,
            body=form.body.data,
            application_id=int(form.application_id.data) if form.application_id.data else None,
            target_library_code=form.target_library.data or None,
            target_user_id=int(form.target_user.data) if form.target_user.data else None,
            rotation=form.rotation.data, amount=form.amount.data), form=form)
        if refusal is None:
            return redirect(url_for("governance.meeting", meeting_id=meeting.id,
                                    _anchor=f"item-{item.id}"), code=303)
    return _meeting_page(meeting, item_form=form, status=400)


def _item_response(item, error=None):
    seat = committee.committee_seat(current_user)
    meeting = item.meeting
    if is_htmx():
        return render_template(
            "governance/_item.html", item=item, meeting=meeting, seat=seat, error=error,
            checked_in=seat is not None and any(a.library_id == seat.id
                                                for a in meeting.attendance),
            presiding=meetings.can_preside(current_user, meeting))
    if error:
        flash(error, "error")
    return redirect(url_for("governance.meeting", meeting_id=meeting.id,
                            _anchor=f"item-{item.id}"), code=303)


def _item_step(item_id, step):
    """Run a step on an item; a refusal is shown with the item (HTMX) or flashed."""
    item, refusal = attempt(step)
    if refusal is None:
        return _item_response(item)
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404)
    meetings.get_meeting(current_user, item.meeting_id)
    return _item_response(item, refusal.message)


@bp.post("/committee/items/<id:item_id>/vote")
@login_required
def vote(item_id):
    """Vote for, against or abstain (HTMX swaps the item)."""
    return _item_step(item_id, lambda: meetings.cast_vote(current_user, item_id,
                                                          request.form.get("choice", "")))


@bp.post("/committee/items/<id:item_id>/close")
@login_required
def close_item(item_id):
    """The presiding member closes the vote on an item."""
    return _item_step(item_id, lambda: resolutions.close_item(current_user, item_id))


@bp.post("/committee/meetings/<id:meeting_id>/close")
@login_required
def close_meeting(meeting_id):
    """Close the meeting and publish the minutes."""
    meeting = meetings.get_meeting(current_user, meeting_id)
    form = CloseMeetingForm()
    if form.validate_on_submit():
        _closed, refusal = attempt(lambda: meetings.close_meeting(
            current_user, meeting.id, form.minutes_note.data), form=form)
        if refusal is None:
            return redirect(url_for("governance.minutes", meeting_id=meeting.id), code=303)
    return _meeting_page(meeting, close_form=form, status=400)


@bp.get("/committee/meetings/<id:meeting_id>/minutes")
@login_required
def minutes(meeting_id):
    """The published minutes: every item with its tally."""
    meeting = meetings.get_meeting(current_user, meeting_id)
    if meeting.status != "closed":
        abort(404)
    return render_template("governance/minutes.html", meeting=meeting)


# --- the management center: applications and the handover ---------------------------------------

@bp.get("/center/applications", endpoint="applications")
@login_required
def application_list():
    """Applications to join, for the management center."""
    return render_template("governance/applications.html",
                           applications=applications.applications(current_user))


@bp.route("/center/applications/<id:application_id>", methods=["GET", "POST"])
@login_required
def application(application_id):
    """One application: details, the letter (signed link), the completeness check."""
    app_row = applications.get_application(current_user, application_id)
    form = ReviewForm()
    if request.method == "POST":
        if not current_user.is_portal_admin:
            raise NotAllowed(_("Only portal admins may do this."))
        if form.validate_on_submit():
            _reviewed, refusal = attempt(lambda: applications.review_application(
                current_user, app_row.id, form.decision.data == "complete", form.note.data),
                form=form)
            if refusal is None:
                return redirect(url_for("governance.application", application_id=app_row.id),
                                code=303)
    _link, letter_url = create_link(app_row.letter, valid_for=timedelta(minutes=30))
    return render_template("governance/application.html", application=app_row, form=form,
                           letter_url=letter_url), (400 if form.errors or form.form_errors
                                                    else 200)


@bp.route("/center/handover", methods=["GET", "POST"])
@login_required
def handover():
    """Start, accept or cancel the handover to the next chair library; the checklist."""
    current = chair_library.open_handover()
    form = HandoverForm()
    if request.method == "POST":
        action = request.form.get("action")
        steps = {
            "start": lambda: chair_library.start_handover(current_user, form.note.data),
            "accept": lambda: chair_library.accept_handover(current_user,
                                                            current.id if current else 0),
            "cancel": lambda: chair_library.cancel_handover(current_user,
                                                            current.id if current else 0),
        }
        if action not in steps:
            abort(400)
        refusal = True  # an out-of-date form (its CSRF error) is said above the buttons
        if form.validate_on_submit():
            _done, refusal = attempt(steps[action], form=form)
        if refusal is None:
            flash({"start": _("The handover is started; the incoming library is notified."),
                   "accept": _("Handover accepted: your library now chairs the alliance."),
                   "cancel": _("The handover is cancelled.")}[action], "success")
            return redirect(url_for("governance.handover"), code=303)
        current = chair_library.open_handover()
    if not (current_user.is_portal_admin or committee.committee_seat(current_user)):
        raise NotAllowed(_("Only the management center and the committee see the handover."))
    return render_template("governance/handover.html", handover=current, form=form,
                           term=current_chair_term(), next_term=chair_library.next_chair_term(),
                           checklist=chair_library.handover_checklist(),
                           can_accept=current is not None and current_user.has_role(
                               "committee_member", current.to_library_id)), (
        400 if form.errors or form.form_errors else 200)


@bp.app_context_processor
def governance_helpers():
    """Helpers the governance templates call: the seat, a library's vote, a kind's name…"""
    return {"committee_seat": committee.committee_seat, "vote_of": meetings.vote_of,
            "kind_label": resolutions.kind_label, "check_in_open": meetings.check_in_open,
            "library_by_id": lambda library_id: db.session.get(Library, library_id)}

