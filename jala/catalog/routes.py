"""Thin views for record pages and catalogue imports."""
from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from jala.catalog import bp
from jala.catalog.forms import ImportForm
from jala.catalog.service import (
    get_import_run,
    get_record,
    recent_imports,
    start_upload_import,
)
from jala.web import attempt, is_htmx


@bp.get("/records/<record_id>")
def record(record_id):
    """A record with every field, holdings by library, its source records and links."""
    rec = get_record(record_id)
    return render_template("catalog/record.html", record=rec)


@bp.route("/libraries/<code>/imports", methods=["GET", "POST"])
@login_required
def imports(code):
    """Upload a file of records for a library; see its recent imports."""
    library, runs = recent_imports(current_user, code)
    form = ImportForm()
    if form.validate_on_submit():
        run, refusal = attempt(lambda: start_upload_import(
            current_user, library.code, form.file.data, format_name=form.format.data or None,
            flavour=form.flavour.data or None, encoding=form.encoding.data))
        if refusal is None:
            return redirect(url_for("catalog.import_status", code=library.code, run_id=run.id),
                            code=303)
        form.file.errors.append(refusal.message)  # shown under the file, which it is about
    return render_template("catalog/imports.html", library=library, runs=runs, form=form), (
        400 if form.errors else 200)


@bp.get("/libraries/<code>/imports/<id:run_id>")
@login_required
def import_status(code, run_id):
    """Progress and error report of one import; HTMX polls the partial while it runs."""
    run = get_import_run(current_user, run_id)
    template = "catalog/_import_run.html" if is_htmx() else "catalog/import_status.html"
    return render_template(template, run=run, library=run.library)
