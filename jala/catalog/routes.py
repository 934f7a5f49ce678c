"""Thin views for record pages and catalogue imports."""
import json

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from jala.catalog import bp
from jala.catalog.clc import (
    canonical_code,
    catalogue_counts,
    class_label,
    class_name,
    class_path,
    record_classes,
    subclasses,
)
from jala.catalog.forms import ImportForm
from jala.catalog.service import (
    get_import_run,
    get_raw_record,
    get_record,
    holdings_by_library,
    recent_imports,
    restart_import,
    start_upload_import,
)
from jala.catalog.vocabulary import value_name
from jala.permissions import is_library_staff
from jala.replicas import reads_from_replica
from jala.usage.events import record_request_usage
from jala.web import attempt, is_htmx

bp.add_app_template_filter(value_name, "value_name")
bp.add_app_template_global(record_classes, "clc_classes")
bp.add_app_template_global(class_name, "clc_name")
bp.add_app_template_global(class_label, "clc_label")
bp.add_app_template_global(class_path, "clc_path")


@bp.app_context_processor
def catalog_helpers():
    """For the pages that show records: holdings by library, whether the user is staff."""
    def holdings_of(record):
        return holdings_by_library(record, getattr(current_user, "home_library_id", None))

    return {"holdings_by_library": holdings_of,
            "is_library_staff": lambda: is_library_staff(current_user)}


@bp.get("/records/<record_id>")
@reads_from_replica
def record(record_id):
    """A record with every field a reader reads, holdings by library and links."""
    rec = get_record(record_id)
    record_request_usage("record_view", record_id=rec.id)
    return render_template("catalog/record.html", record=rec)


@bp.get("/browse/clc")
@bp.get("/browse/clc/<code>")
def browse_classes(code=None):
    """The 中图法 classes a level at a time, each with its records and a link to them."""
    chosen = canonical_code(code) if code is not None else None
    if code is not None and chosen is None:
        abort(404)
    if chosen != code:
        return redirect(url_for("catalog.browse_classes", code=chosen), code=301)
    total, counts = catalogue_counts(chosen)
    return render_template("catalog/browse_clc.html", chosen=chosen, total=total,
                           path=class_path(chosen) if chosen else [],
                           classes=[(sub, counts.get(sub, 0), bool(subclasses(sub)))
                                    for sub in subclasses(chosen)])


@bp.get("/records/<record_id>/raw")
@login_required
def raw_record(record_id):
    """The record as each library sent it (原始记录): source ids, notes, raw data; staff only."""
    rec = get_raw_record(current_user, record_id)
    sources = [(source, json.dumps(source.raw, ensure_ascii=False, indent=2, sort_keys=True))
               for source in rec.sources]
    return render_template("catalog/raw_record.html", record=rec, sources=sources)


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


@bp.post("/libraries/<code>/imports/<id:run_id>/again")
@login_required
def import_again(code, run_id):
    """Start a failed import again, from its file."""
    run, refusal = attempt(lambda: restart_import(current_user, run_id))
    if refusal is not None:
        flash(refusal.message, "error")
        return redirect(url_for("catalog.import_status", code=code, run_id=run_id), code=303)
    return redirect(url_for("catalog.import_status", code=run.library.code, run_id=run.id),
                    code=303)
