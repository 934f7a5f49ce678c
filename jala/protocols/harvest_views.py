"""The library admin's page of OAI-PMH harvesting: the sources, their schedule and last runs."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala.protocols import bp
from jala.protocols.harvest_forms import FORMAT_NAMES, HarvestIntervalForm, HarvestSourceForm
from jala.protocols.harvest_schedule import (
    add_source,
    harvest_now,
    library_sources,
    pause_source,
    remove_source,
    set_interval,
)
from jala.web import attempt


def _page(code, form, status=200):
    library, sources = library_sources(current_user, code)
    return render_template("protocols/harvest.html", library=library, sources=sources,
                           form=form, interval_form=HarvestIntervalForm(),
                           format_names=FORMAT_NAMES), status


def _back(code):
    return redirect(url_for("protocols.library_harvest", code=code), code=303)


@bp.route("/libraries/<code>/harvest", methods=["GET", "POST"])
@login_required
def library_harvest(code):
    """The library's harvest sources; a POST adds one."""
    form = HarvestSourceForm()
    library_sources(current_user, code)  # 403 before a stranger's form is read
    if form.validate_on_submit():
        _source, refusal = attempt(lambda: add_source(
            current_user, code, url=form.url.data, set_spec=form.set_spec.data,
            metadata_prefix=form.metadata_prefix.data,
            interval_hours=form.interval_hours.data), form=form)
        if refusal is None:
            flash(_("The repository is added: its first harvest starts within a few minutes."),
                  "success")
            return _back(code)
    return _page(code, form, 400 if form.errors or form.form_errors else 200)


@bp.post("/libraries/<code>/harvest/<int:source_id>/interval")
@login_required
def harvest_interval(code, source_id):
    """Change how often a source is harvested."""
    form = HarvestIntervalForm()
    if not form.validate_on_submit():
        library_sources(current_user, code)
        flash(" ".join(error for errors in form.errors.values() for error in errors), "error")
        return _back(code)
    _done, refusal = attempt(lambda: set_interval(current_user, code, source_id,
                                                  form.interval_hours.data))
    flash(refusal.message if refusal else _("The schedule is changed."),
          "error" if refusal else "success")
    return _back(code)


def _step(code, step, done):
    _result, refusal = attempt(step)
    flash(refusal.message if refusal else done, "error" if refusal else "success")
    return _back(code)


@bp.post("/libraries/<code>/harvest/<int:source_id>/pause")
@login_required
def pause_harvest(code, source_id):
    """Stop a source's scheduled harvests."""
    return _step(code, lambda: pause_source(current_user, code, source_id, True),
                 _("Scheduled harvests of this repository are paused."))


@bp.post("/libraries/<code>/harvest/<int:source_id>/resume")
@login_required
def resume_harvest(code, source_id):
    """Start a source's scheduled harvests again."""
    return _step(code, lambda: pause_source(current_user, code, source_id, False),
                 _("Scheduled harvests of this repository go on."))


@bp.post("/libraries/<code>/harvest/<int:source_id>/remove")
@login_required
def remove_harvest(code, source_id):
    """Forget a source (its records stay)."""
    return _step(code, lambda: remove_source(current_user, code, source_id),
                 _("The repository is removed; the records it brought stay."))


@bp.post("/libraries/<code>/harvest/<int:source_id>/run")
@login_required
def run_harvest_now(code, source_id):
    """Harvest a source now."""
    return _step(code, lambda: harvest_now(current_user, code, source_id),
                 _("The harvest starts within a minute; this page shows how it ended."))

