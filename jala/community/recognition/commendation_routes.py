"""Thin views of the year's commendations: the public results, nominating, the centre's page."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from jala import clock
from jala.community import bp
from jala.community.recognition import commendations as recognition
from jala.community.recognition.forms import AgendaForm, NominationForm, WindowForm
from jala.errors import NotAllowed
from jala.governance.center import is_center_admin
from jala.membership import library_name, member_libraries
from jala.web import attempt, require_form


@bp.app_template_global("library_commendations")
def library_commendations(library):
    """For the library's page: its published commendations (as a unit, and its people)."""
    return recognition.library_commendations(library)


bp.add_app_template_global(recognition.nomination_title, "nomination_title")


@bp.get("/commendations")
def commendations():
    """The published commendations, by year (``?year=`` for one year)."""
    year = request.args.get("year", type=int)
    results = recognition.published_results(year)
    if year is not None and not results:
        abort(404)
    return render_template("community/recognition/commendations.html", results=results,
                           year=year, years=[row.year for row, _r in
                                             recognition.published_results()],
                           window=recognition.open_window(),
                           can_nominate=bool(recognition.nominating_libraries(current_user)),
                           can_follow=recognition.can_follow_commendations(current_user))


# --- nominating ---------------------------------------------------------------------------------

def _nomination_form():
    form = NominationForm()
    form.library_id.choices = [SelectChoice(library.id, library_name(library))
                               for library in member_libraries()]
    form.nominating_library_id.choices = [
        SelectChoice(library.id, library_name(library))
        for library in recognition.nominating_libraries(current_user)]
    if not form.nominating_library_id.choices:
        raise NotAllowed(_("Library admins and committee members of member libraries "
                           "nominate."))
    if request.method == "GET":
        form.library_id.data = form.nominating_library_id.choices[0].value
    return form


@bp.route("/commendations/nominate", methods=["GET", "POST"])
@login_required
def commendation_nominate():
    """A member library nominates advanced units and individuals while the window is open."""
    form = _nomination_form()
    window = recognition.open_window()
    status = 200
    if request.method == "POST" and window is not None:
        _made, refusal = attempt(lambda: recognition.nominate(
            current_user, year=window.year, kind=require_form(form).kind.data,
            library_id=form.library_id.data, citation=form.citation.data,
            person_name=form.person_name.data, person_title=form.person_title.data,
            nominating_library_id=form.nominating_library_id.data), form=form)
        if refusal is None:
            flash(_("The nomination is made. The committee votes on it."), "success")
            return redirect(url_for("community.commendation_nominate"), code=303)
        status = refusal.status
    elif request.method == "POST":
        status = 409
    mine = recognition.my_nominations(current_user, window.year) if window else []
    return render_template("community/recognition/nominate.html", form=form, window=window,
                           nominations=mine), status


@bp.post("/commendations/nominations/<id:nomination_id>/withdraw")
@login_required
def commendation_withdraw(nomination_id):
    """The nominating library takes back a nomination not yet on an agenda."""
    _done, refusal = attempt(lambda: recognition.withdraw_nomination(current_user,
                                                                     nomination_id))
    flash(refusal.message if refusal else _("The nomination is withdrawn."),
          "error" if refusal else "success")
    return redirect(url_for("community.commendation_nominate"), code=303)


# --- the centre and the committee ---------------------------------------------------------------

def _manage_page(year, window_form=None, agenda_form=None, status=200):
    nominations = recognition.nominations_for(current_user, year)
    row = recognition.get_year(year)
    if window_form is None:
        window_form = WindowForm(formdata=None, year=year,
                                 opens_on=row.opens_on if row else None,
                                 closes_on=row.closes_on if row else None)
    if agenda_form is None:
        agenda_form = _agenda_form(formdata=None)
    return render_template("community/recognition/manage.html", year=year, row=row,
                           nominations=nominations, window_form=window_form,
                           agenda_form=agenda_form,
                           is_center=is_center_admin(current_user)), status


def _agenda_form(formdata=None):
    form = AgendaForm(formdata=formdata)
    form.meeting_id.choices = [
        SelectChoice(meeting.id, f"{meeting.title} · {format_date(meeting.starts_at, 'long')}")
        for meeting in recognition.meetings_for_agenda()]
    return form


@bp.get("/commendations/manage")
@login_required
def commendation_manage():
    """Every nomination of a year with where it stands; the centre's window and publication."""
    recognition.require_follower(current_user)
    year = request.args.get("year", type=int) or clock.local_today().year
    return _manage_page(year)


@bp.post("/commendations/window")
@login_required
def commendation_window():
    """The centre opens (or moves) a year's nomination window."""
    form = WindowForm()
    recognition.require_follower(current_user)
    _row, refusal = attempt(lambda: recognition.set_window(
        current_user, require_form(form).year.data, form.opens_on.data, form.closes_on.data),
        form=form)
    year = form.year.data or clock.local_today().year
    if refusal is not None:
        return _manage_page(year, window_form=form, status=refusal.status)
    flash(_("Nominations for %(year)d are open from %(first)s to %(last)s.", year=year,
            first=form.opens_on.data.isoformat(), last=form.closes_on.data.isoformat()),
          "success")
    return redirect(url_for("community.commendation_manage", year=year), code=303)


@bp.post("/commendations/agenda")
@login_required
def commendation_agenda():
    """Put the chosen nominations on a meeting's agenda."""
    year = request.form.get("year", type=int) or clock.local_today().year
    form = _agenda_form(request.form)
    _items, refusal = attempt(lambda: recognition.put_on_agenda(
        current_user, form.meeting_id.data, request.form.getlist("nomination_ids")), form=form)
    if refusal is not None:
        return _manage_page(year, agenda_form=form, status=refusal.status)
    flash(_("The nominations are on the meeting's agenda."), "success")
    return redirect(url_for("governance.meeting", meeting_id=form.meeting_id.data), code=303)


@bp.post("/commendations/<int:year>/publish")
@login_required
def commendation_publish(year):
    """The centre publishes the year's results as news."""
    _row, refusal = attempt(lambda: recognition.publish_results(current_user, year))
    if refusal is not None:
        flash(refusal.message, "error")
        return redirect(url_for("community.commendation_manage", year=year), code=303)
    flash(_("The results of %(year)d are published.", year=year), "success")
    return redirect(url_for("community.commendations", year=year), code=303)
