"""Thin views of joint procurement: the buying list, pledges, rounds, receiving titles."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from jala.governance.center import is_center_admin
from jala.membership import find_library, library_name, member_libraries
from jala.permissions import can_staff_library
from jala.procurement import bp
from jala.procurement import joint_pledges as pledges
from jala.procurement import joint_rounds as rounds
from jala.procurement.buying_list import SOURCES, buying_list, find_line
from jala.procurement.joint_forms import (
    PledgeForm,
    ReceiveForm,
    RoundForm,
    RoundStepForm,
)
from jala.reading.forms import ConfirmForm
from jala.web import EVERY_REFUSAL, attempt, is_htmx, require_form

LIST_MAX = 200  # lines on the page, most wanted first (the filters find the rest)


def _pledge_form():
    form = PledgeForm()
    form.library_id.choices = [SelectChoice(lib.id, lib.name_zh)
                               for lib in pledges.pledging_libraries(current_user)]
    return form


def _filters():
    args = request.args
    library = find_library(args.get("library", "").strip()) if args.get("library") else None
    min_demand = args.get("min", "1").strip()
    return {"source": args.get("source") if args.get("source") in SOURCES else None,
            "library_id": library.id if library else None,
            "q": args.get("q", "").strip()[:100] or None,
            "min_demand": int(min_demand) if min_demand.isdecimal() else 1}


def _context(**extra):
    return {"libraries": {lib.id: lib for lib in member_libraries()},
            "is_centre": is_center_admin(current_user), "pledge_form": _pledge_form(),
            "sources": SOURCES, **extra}


@bp.get("/procurement")
@login_required
def joint_list():
    """The buying list for member libraries' staff: what readers could not get, with demand."""
    pledges.require_joint_reader(current_user)
    filters = _filters()
    lines = buying_list(**filters)
    context = _context(lines=lines[:LIST_MAX], total=len(lines), filters=filters,
                       args=request.args)
    if is_htmx() and request.headers.get("HX-Target") == "buying-list":
        return render_template("procurement/joint/_lines.html", **context)
    return render_template("procurement/joint/list.html", **context)


def _line_response(key, refusal=None):
    """The line again (HTMX), or back to the list."""
    if is_htmx():
        line = find_line(key)
        if line is None:
            return "", 200
        return render_template("procurement/joint/_line.html", line=line,
                               error=refusal.message if refusal else None, **_context())
    if refusal is None:
        flash(_("Your pledge is saved."), "success")
    return redirect(url_for("procurement.joint_list"), code=303)


@bp.post("/procurement/pledges")
@login_required
def joint_pledge():
    """A library pledges to buy, or to share the cost of, a line of the buying list."""
    pledges.require_joint_reader(current_user)
    form = _pledge_form()

    def step():
        require_form(form)
        return pledges.pledge(current_user, form.key.data, library_id=form.library_id.data,
                              kind=form.kind.data, amount=form.amount.data)
    _row, refusal = attempt(step, reraise=(403, 404) if is_htmx() else EVERY_REFUSAL)
    return _line_response(form.key.data, refusal)


@bp.post("/procurement/pledges/<id:pledge_id>/withdraw")
@login_required
def joint_withdraw(pledge_id):
    """The library takes its pledge back (while the round is open)."""
    def step():
        require_form(ConfirmForm())
        return pledges.withdraw(current_user, pledge_id)
    row, refusal = attempt(step, reraise=(403, 404) if is_htmx() else EVERY_REFUSAL)
    if is_htmx():
        return _line_response(row.title.key if row else request.form.get("key", ""), refusal)
    flash(_("The pledge is withdrawn."), "success")
    return redirect(url_for("procurement.joint_list"), code=303)


# --- rounds -------------------------------------------------------------------------------------

@bp.get("/procurement/rounds")
@login_required
def joint_rounds():
    """The procurement rounds; the centre starts a new one from the pledged titles."""
    pledges.require_joint_reader(current_user)
    centre = is_center_admin(current_user)
    return render_template("procurement/joint/rounds.html", rounds=rounds.rounds(),
                           ready=rounds.titles_ready() if centre else [], is_centre=centre,
                           form=RoundForm())


@bp.post("/procurement/rounds")
@login_required
def joint_round_create():
    """The centre puts the checked titles into a new round."""
    form = RoundForm()
    row, refusal = attempt(lambda: rounds.create_round(
        current_user, require_form(form).name.data, request.form.getlist("title_id")),
        form=form, reraise=(403, 404))
    if refusal is not None:
        return render_template("procurement/joint/rounds.html", rounds=rounds.rounds(),
                               ready=rounds.titles_ready(), is_centre=True, form=form), 400
    flash(_("Round “%(name)s” is open.", name=row.name), "success")
    return redirect(url_for("procurement.joint_round", round_id=row.id), code=303)


def _round_page(row, form=None, error=None, status=200):
    return render_template(
        "procurement/joint/round.html", round=row,
        actions=rounds.available_actions(current_user, row),
        needs_committee=rounds.needs_committee(row),
        decision=rounds.committee_decision(row),
        meetings=rounds.meetings_for_agenda() if is_center_admin(current_user) else [],
        receive_form=ReceiveForm(), step_form=form or RoundStepForm(), error=error,
        is_centre=is_center_admin(current_user)), status


@bp.get("/procurement/rounds/<id:round_id>")
@login_required
def joint_round(round_id):
    """A round: its titles, pledges, the committee's decision and the centre's steps."""
    pledges.require_joint_reader(current_user)
    return _round_page(rounds.get_round(round_id))


@bp.post("/procurement/rounds/<id:round_id>/<action>")
@login_required
def joint_round_step(round_id, action):
    """A step of the round's lifecycle (``joint_rounds.TRANSITIONS``), by the centre."""
    form = RoundStepForm()

    def step():
        require_form(form)
        return rounds.step(current_user, round_id, action, meeting_id=form.meeting_id.data)
    row, refusal = attempt(step, reraise=(403, 404))
    if refusal is not None:
        return _round_page(rounds.get_round(round_id), form, refusal.message, 409)
    flash(_("The round is now %(status)s.", status=rounds.round_status_label(row.status)),
          "success")
    return redirect(url_for("procurement.joint_round", round_id=row.id), code=303)


@bp.post("/procurement/titles/<id:title_id>/receive")
@login_required
def joint_receive(title_id):
    """The centre receives a title: linked to its record, the library's holding added."""
    form = ReceiveForm()

    def step():
        require_form(form)
        return rounds.receive_title(current_user, title_id, record_id=form.record_id.data,
                                    call_number=form.call_number.data)
    title, refusal = attempt(step, reraise=(403, 404))
    if refusal is not None:
        row = pledges.get_title(current_user, title_id).round
        return _round_page(row, error=refusal.message, status=409)
    flash(_("“%(title)s” is received: readers now find it at %(library)s.",
            title=title.title, library=title.holding_library.name_zh), "success")
    return redirect(url_for("procurement.joint_round", round_id=title.round_id), code=303)


@bp.app_context_processor
def joint_helpers():
    """Template words for rounds and demand sources."""
    return {"round_status_label": rounds.round_status_label,
            "round_action_label": rounds.round_action_label,
            "pledge_words": lambda p: (
                _("%(library)s: buys it, %(amount)s yuan", library=library_name(p.library),
                  amount=p.amount) if p.kind == "buy" else
                _("%(library)s: shares the cost, %(amount)s yuan",
                  library=library_name(p.library), amount=p.amount)),
            "staff_of": lambda library_id: can_staff_library(current_user, library_id),
            "demand_source_label": lambda s: {
                "suggestion": _("Readers' purchase suggestions"),
                "delivery": _("Unfilled delivery requests"),
                "ill": _("Refused interlibrary loans"),
                "search": _("Searches with few or no results")}.get(s, s)}
