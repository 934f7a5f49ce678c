"""Thin views of the union cataloguing centre: submit, review, download MARC, the credits."""
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from jala import clock
from jala.catalog.service import get_record
from jala.cataloguing import bp
from jala.cataloguing import services as cataloguing
from jala.cataloguing.credits import credit_table, download_marc
from jala.cataloguing.export import marc_for
from jala.cataloguing.files import submit_file
from jala.cataloguing.marc_form import from_pymarc, rows_from_form
from jala.cataloguing.models import DOWNLOAD_FORMATS, FLAVOURS, STATUSES
from jala.errors import NotAllowed, NotFound
from jala.governance.center import is_center_admin
from jala.web import attempt, require_form

BLANK_ROWS = 3
FIRST_YEAR = 2026

def _require_cataloguer():
    if not cataloguing.is_cataloguer(current_user) and not is_center_admin(current_user):
        raise NotAllowed(_("The union cataloguing centre is for cataloguers of member "
                           "libraries."))


@bp.get("/cataloguing")
@login_required
def home():
    """The centre's page: what to do, and each library's credit for the year."""
    _require_cataloguer()
    year = request.args.get("year", type=int) or clock.local_today().year
    year = min(max(year, FIRST_YEAR), clock.local_today().year)
    return render_template("cataloguing/home.html", rows=credit_table(year), year=year,
                           years=range(clock.local_today().year, FIRST_YEAR - 1, -1),
                           is_centre=is_center_admin(current_user))


@bp.get("/cataloguing/submissions")
@login_required
def submissions():
    """The library's submissions, or (``?centre=1``) the centre's review queue."""
    _require_cataloguer()
    centre = request.args.get("centre") == "1"
    status = request.args.get("status") or ("submitted" if centre else None)
    status = status if status in STATUSES else None
    found = cataloguing.submissions_for(current_user, status, centre=centre)
    return render_template("cataloguing/submissions.html", submissions=found, centre=centre,
                           status=status, statuses=STATUSES)


def _editor(rows, *, leader="", flavour="marc21", problems=(), submission=None,
            record=None, comment="", status=200):
    rows = list(rows) + [["", " ", " ", ""] for _n in range(BLANK_ROWS)]
    row_problems = {}
    for row, message in problems:
        row_problems.setdefault(row, []).append(message)
    return render_template("cataloguing/form.html", rows=rows, leader=leader, flavour=flavour,
                           flavours=FLAVOURS, problems=row_problems, submission=submission,
                           record=record, comment=comment, form=FlaskForm()), status


def _posted():
    return (rows_from_form(request.form), request.form.get("leader", "").strip("\r\n"),
            request.form.get("flavour", "marc21"), request.form.get("comment", ""))


def _correction_rows(record):
    marc = marc_for(record, "marc21", None, [s.raw for s in record.sources])
    return from_pymarc(marc), str(marc.leader)


@bp.route("/cataloguing/submissions/new", methods=["GET", "POST"])
@login_required
def new_submission():
    """The MARC editor: an original record, or (``?record=``) a correction of a union record."""
    if not cataloguing.is_cataloguer(current_user):
        raise NotAllowed(_("Only cataloguers of member libraries can submit records."))
    record_id = request.values.get("record", type=int)
    record = get_record(record_id) if record_id else None
    if request.method == "GET":
        if record is not None:
            rows, leader = _correction_rows(record)
            return _editor(rows, leader=leader, record=record)
        return _editor([["008", " ", " ", ""], ["020", " ", " ", "$a"],
                        ["100", "1", " ", "$a"], ["245", "1", "0", "$a"],
                        ["264", " ", "1", "$a$b$c"], ["300", " ", " ", "$a"],
                        ["650", " ", "7", "$a"], ["084", " ", " ", "$a$2clc"]])
    require_form(FlaskForm())
    rows, leader, flavour, comment = _posted()
    if "more" in request.form:
        return _editor(rows, leader=leader, flavour=flavour, record=record, comment=comment)
    submission, refusal = attempt(lambda: cataloguing.submit_record(
        current_user, rows, leader=leader, flavour=flavour, record_id=record_id,
        comment=comment))
    if refusal is not None:
        return _editor(rows, leader=leader, flavour=flavour, record=record, comment=comment,
                       problems=getattr(refusal, "problems", [(None, refusal.message)]),
                       status=400)
    flash(_("The record is with the union cataloguing centre for review."), "success")
    return redirect(url_for("cataloguing.submission", submission_id=submission.id), code=303)


@bp.route("/cataloguing/submissions/upload", methods=["GET", "POST"])
@login_required
def upload():
    """Submit the records of a MARC file (ISO 2709 or MARCXML); bad records named by number."""
    if not cataloguing.is_cataloguer(current_user):
        raise NotAllowed(_("Only cataloguers of member libraries can submit records."))
    form = FlaskForm()
    result = None
    if request.method == "POST":
        require_form(form)
        result, refusal = attempt(lambda: submit_file(current_user, request.files.get("file")))
        if refusal is not None:
            form.form_errors.append(refusal.message)
    return render_template("cataloguing/upload.html", form=form, result=result)


@bp.get("/cataloguing/submissions/<id:submission_id>")
@login_required
def submission(submission_id):
    """One submission: its record, its history and the steps the user may take."""
    found = cataloguing.get_submission(current_user, submission_id)
    return render_template("cataloguing/submission.html", submission=found,
                           can=cataloguing.can_do(current_user, found),
                           duplicates=cataloguing.possible_duplicates(found)
                           if found.status == "submitted" else [], form=FlaskForm())


@bp.route("/cataloguing/submissions/<id:submission_id>/edit", methods=["GET", "POST"])
@login_required
def edit(submission_id):
    """The submitter's library corrects a returned record and sends it back."""
    found = cataloguing.get_submission(current_user, submission_id)
    if "resubmit" not in cataloguing.can_do(current_user, found):
        raise NotFound(_("This submission cannot be edited now."))
    if request.method == "GET":
        return _editor(found.fields, leader=found.leader, flavour=found.flavour,
                       submission=found)
    require_form(FlaskForm())
    rows, leader, flavour, comment = _posted()
    if "more" in request.form:
        return _editor(rows, leader=leader, flavour=flavour, submission=found, comment=comment)
    _done, refusal = attempt(lambda: cataloguing.edit_submission(
        current_user, submission_id, rows, leader=leader, flavour=flavour, comment=comment))
    if refusal is not None:
        return _editor(rows, leader=leader, flavour=flavour, submission=found, comment=comment,
                       problems=getattr(refusal, "problems", [(None, refusal.message)]),
                       status=400)
    flash(_("The corrected record is back with the centre."), "success")
    return redirect(url_for("cataloguing.submission", submission_id=submission_id), code=303)


def _step_done(action):
    return {"approve": _("The record is approved and in the union catalogue."),
            "return": _("The record went back to its cataloguer with your comments."),
            "merge": _("The record was merged into the existing union record."),
            "withdraw": _("The submission was withdrawn.")}.get(action, _("The step is done."))


@bp.post("/cataloguing/submissions/<id:submission_id>/step")
@login_required
def step(submission_id):
    """Approve, return (with comments), merge or withdraw a submission."""
    require_form(FlaskForm())
    action = request.form.get("action", "")
    merge_into = request.form.get("merge_into", type=int)
    _done, refusal = attempt(lambda: cataloguing.step(
        current_user, submission_id, action, comment=request.form.get("comment"),
        merge_into=merge_into))
    if refusal is not None:
        flash(refusal.message, "error")
    else:
        flash(_step_done(action), "success")
    return redirect(url_for("cataloguing.submission", submission_id=submission_id), code=303)


@bp.get("/cataloguing/records/<id:record_id>.<fmt>")
@login_required
def download(record_id, fmt):
    """A union record as MARC (``.mrc`` MARC 21, ``.xml`` MARCXML, ``.cnmarc`` CNMARC)."""
    if fmt not in DOWNLOAD_FORMATS:
        raise NotFound(_("No such MARC format."))
    body, mimetype, name = download_marc(current_user, record_id, fmt)
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

